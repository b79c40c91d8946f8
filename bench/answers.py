"""How well the knowledge base answers: the evaluation set against four rankers, and search latency.

    python -m bench.answers              # the table on the held-out part (and the tuning part)
    python -m bench.answers --tune       # search the fusion settings on the `tune` part only

`bench/answers_eval.csv` holds questions written as agency staff type them, each with the
article that answers it (empty: the knowledge base cannot answer it). A third of each kind,
every third row, is `heldout`: chosen before any tuning and never used to tune. Rankers:

- substring: today's search (the canned answers' `ILIKE '%q%'`) over the articles' texts;
- bm25: BM25 over PyThaiNLP words to order, its own coverage threshold to refuse;
- embeddings: multilingual-e5-small similarity alone, with a similarity threshold;
- fused: the product's ranker (`clinic.knowledge_search`) with its `Tuning`.

Metrics on answerable questions: hit@1, hit@3, MRR; on unanswerable ones: the refusal rate
(not confident). Also the share of answerable questions answered wrongly with confidence.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from clinic import embedding, knowledge, knowledge_search, migrate, reference, thai_text
from clinic.db import Database
from clinic.knowledge_search import KnowledgeIndex, Tuning

EVAL = Path(__file__).parent / "answers_eval.csv"
STARTER = Path(__file__).parent.parent / "clinic" / "data" / "knowledge_starter.csv"


@dataclass(frozen=True)
class Question:
    id: int
    text: str
    expected: str | None
    split: str


@dataclass
class Scores:
    hit1: float
    hit3: float
    mrr: float
    refusal: float
    answered_right: float  # answerable questions answered at once with the right article
    wrong_confident: float
    answerable: int
    unanswerable: int


def load_eval(path: Path = EVAL) -> list[Question]:
    with path.open(encoding="utf-8") as handle:
        return [
            Question(int(row["id"]), row["question"], row["expected_key"].strip() or None, row["split"])
            for row in csv.DictReader(handle)
        ]


@contextmanager
def starter_index(workdir: Path) -> Iterator[tuple[Database, KnowledgeIndex]]:
    """A throw-away SQLite database with the starter articles and their vectors."""
    database = Database(f"sqlite:///{workdir / 'answers.db'}")
    migrate.upgrade(database.engine)
    now = datetime.now(UTC)
    with database.transaction() as session:
        reference.seed(session)
        result = knowledge.import_csv(session, STARTER.read_text("utf-8"), now=now, actor="bench")
        if result.errors:
            raise RuntimeError("; ".join(result.errors))
        knowledge_search.refresh_vectors(session, now=now)
    with database.transaction() as session:
        index = KnowledgeIndex.build(session)
    try:
        yield database, index
    finally:
        database.dispose()


@dataclass(frozen=True)
class Signals:
    bm25: np.ndarray
    coverage: np.ndarray
    similarity: np.ndarray | None
    substring: np.ndarray


def signals(index: KnowledgeIndex, questions: list[Question]) -> list[Signals]:
    texts = [_squeeze(f"{d.title} {d.answer}") for d in index.docs]
    out = []
    for q in questions:
        needle = _squeeze(q.text)
        substring = np.asarray([1.0 if needle and needle in text else 0.0 for text in texts], dtype=np.float32)
        out.append(Signals(index.bm25_scores(q.text), index.coverage(q.text), index.similarities(q.text), substring))
    return out


def _squeeze(text: str) -> str:
    return thai_text.normalize(text).replace(" ", "")


Ranker = Callable[[Signals], tuple[list[int], bool]]


def score(questions: list[Question], sigs: list[Signals], keys: list[str], ranker: Ranker) -> Scores:
    ranks: list[int | None] = []
    refused = wrong = right = 0
    answerable = unanswerable = 0
    for q, s in zip(questions, sigs, strict=True):
        order, confident = ranker(s)
        ranked = [keys[i] for i in order]
        if q.expected is None:
            unanswerable += 1
            refused += not confident
            continue
        answerable += 1
        rank = ranked.index(q.expected) + 1 if q.expected in ranked else None
        ranks.append(rank)
        wrong += bool(confident and rank != 1)
        right += bool(confident and rank == 1)
    return Scores(
        hit1=sum(r == 1 for r in ranks) / max(answerable, 1),
        hit3=sum(r is not None and r <= 3 for r in ranks) / max(answerable, 1),
        mrr=sum(1 / r for r in ranks if r) / max(answerable, 1),
        refusal=refused / max(unanswerable, 1),
        answered_right=right / max(answerable, 1),
        wrong_confident=wrong / max(answerable, 1),
        answerable=answerable,
        unanswerable=unanswerable,
    )


def _top(values: np.ndarray, k: int = 3) -> list[int]:
    order = np.argsort(-values, kind="stable")[:k]
    return [int(i) for i in order if values[i] > 0]


def substring_ranker(s: Signals) -> tuple[list[int], bool]:
    order = _top(s.substring)
    return order, bool(order)


def bm25_ranker(tuning: Tuning) -> Ranker:
    def rank(s: Signals) -> tuple[list[int], bool]:
        top = float(s.bm25.max()) if len(s.bm25) else 0.0
        relative = s.bm25 / top if top > 0 else s.bm25
        c = tuning.coverage_weight
        lexical = c * s.coverage + (1 - c) * relative
        order = _top(s.bm25)
        return order, bool(order) and float(lexical[order[0]]) >= tuning.threshold_bm25_only

    return rank


def embedding_ranker(threshold: float) -> Ranker:
    def rank(s: Signals) -> tuple[list[int], bool]:
        if s.similarity is None:
            return [], False
        order = _top(s.similarity + 1.0)
        return order, bool(order) and float(s.similarity[order[0]]) >= threshold

    return rank


def fused_ranker(index: KnowledgeIndex, tuning: Tuning) -> Ranker:
    def rank(s: Signals) -> tuple[list[int], bool]:
        result = index.rank(s.bm25, s.coverage, s.similarity, limit=3, topic_code=None, tuning=tuning)
        position = {d.key: i for i, d in enumerate(index.docs)}
        return [position[h.key] for h in result.hits], result.confident

    return rank


def _objective(scores: Scores) -> float:
    """What tuning maximises: answers given at once and right, refusals, and hardly a confident wrong answer.

    A wrong answer costs three times a right one: staff then have to undo it.
    """
    return scores.hit3 + scores.answered_right + scores.refusal - 3 * scores.wrong_confident


def tune(index: KnowledgeIndex, questions: list[Question], sigs: list[Signals]) -> tuple[Tuning, float]:
    """Grid search of the fusion settings on the given (tuning) questions only."""
    keys = [d.key for d in index.docs]
    best: tuple[float, Tuning, float] | None = None
    for w, c, floor in itertools.product((0.4, 0.5, 0.6, 0.7, 0.8), (0.3, 0.5, 0.7), (0.78, 0.80, 0.82, 0.84)):
        for threshold in np.arange(0.30, 0.80, 0.02):
            tuning = replace(knowledge_search.TUNING, embedding_weight=w, coverage_weight=c,
                             similarity_floor=floor, threshold=round(float(threshold), 2))  # fmt: skip
            value = _objective(score(questions, sigs, keys, fused_ranker(index, tuning)))
            if best is None or value > best[0]:
                best = (value, tuning, 0.0)
    assert best is not None
    tuned = best[1]
    # The words-only threshold (no embeddings on the platform) and the embeddings-only one, alone.
    best_lex = max((_objective(score(questions, sigs, keys, bm25_ranker(replace(tuned, threshold_bm25_only=t)))), t)
                   for t in np.round(np.arange(0.30, 0.95, 0.02), 2))  # fmt: skip
    best_emb = max((_objective(score(questions, sigs, keys, embedding_ranker(float(t)))), float(t))
                   for t in np.round(np.arange(0.80, 0.97, 0.005), 3))  # fmt: skip
    return replace(tuned, threshold_bm25_only=float(best_lex[1])), best_emb[1]


EMBEDDING_ONLY_THRESHOLD = 0.92  # tuned with --tune on the `tune` part, like Tuning


def evaluate(index: KnowledgeIndex, questions: list[Question], tuning: Tuning) -> dict[str, dict[str, Scores]]:
    keys = [d.key for d in index.docs]
    sigs = signals(index, questions)
    rankers: dict[str, Ranker] = {
        "substring": substring_ranker,
        "bm25": bm25_ranker(tuning),
        "embeddings": embedding_ranker(EMBEDDING_ONLY_THRESHOLD),
        "fused": fused_ranker(index, tuning),
    }
    out: dict[str, dict[str, Scores]] = {}
    for split in ("heldout", "tune"):
        part = [(q, s) for q, s in zip(questions, sigs, strict=True) if q.split == split]
        qs, ss = [p[0] for p in part], [p[1] for p in part]
        out[split] = {name: score(qs, ss, keys, ranker) for name, ranker in rankers.items()}
    return out


def latency(articles: int = 1000, closed_tickets: int = 100_000, queries: int = 60,
            workdir: Path | None = None) -> dict[str, float]:  # fmt: skip
    """p50/p95 of `knowledge_search.search` with `articles` published articles and closed tickets beside."""
    from bench import dataset

    with tempfile.TemporaryDirectory(prefix="answers-") as tmp:
        base = workdir or Path(tmp)
        with dataset.bench_database("sqlite", workdir=base, postgres_url="") as db:
            now = datetime.now(UTC)
            dataset.fill(db, closed_tickets, fiscal_year_be=2570, open_share=0.0, now=now)
            with db.database.transaction() as session:
                rows = list(csv.DictReader(STARTER.open(encoding="utf-8")))
                made = 0
                for copy in itertools.count():
                    for row in rows:
                        if made >= articles:
                            break
                        key = row["key"] if copy == 0 else f"{row['key']}-v{copy}"
                        fields = knowledge.ArticleFields(key, row["topic"], f"{row['title']} ({copy})" if copy else
                                                         row["title"], row["questions"], row["answer"],
                                                         row["reference"])  # fmt: skip
                        knowledge.create(session, fields, now=now, status="published", actor="bench")
                        made += 1
                    if made >= articles:
                        break
                knowledge_search.refresh_vectors(session, now=now)
            questions = [q.text for q in load_eval()][:queries]
            timings = []
            with db.database.transaction() as session:
                knowledge_search.search(session, "อุ่นเครื่อง")  # builds the process's index once
            for text in questions:
                started = time.perf_counter()
                with db.database.transaction() as session:
                    knowledge_search.search(session, text)
                timings.append(time.perf_counter() - started)
    timings.sort()
    return {
        "p50_ms": statistics.median(timings) * 1000,
        "p95_ms": timings[int(len(timings) * 0.95) - 1] * 1000,
        "articles": articles,
        "closed_tickets": closed_tickets,
    }


def table(results: dict[str, dict[str, Scores]]) -> str:
    lines = ["| split | ranker | hit@1 | hit@3 | MRR | refusal (unanswerable) | answered at once, right | "
             "answered at once, wrong |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for split, by_ranker in results.items():
        for name, s in by_ranker.items():
            figures = (s.hit1, s.hit3, s.mrr, s.refusal, s.answered_right, s.wrong_confident)
            cells = " | ".join(f"{value:.2f}" for value in figures)
            lines.append(f"| {split} ({s.answerable} + {s.unanswerable}) | {name} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.answers")
    parser.add_argument("--tune", action="store_true", help="search the fusion settings on the tune part")
    parser.add_argument("--latency", action="store_true", help="also measure search latency at 1,000 articles")
    args = parser.parse_args(argv)
    questions = load_eval()
    with tempfile.TemporaryDirectory(prefix="answers-") as tmp, starter_index(Path(tmp)) as (_db, index):
        tuning = knowledge_search.TUNING
        if args.tune:
            tuning_questions = [q for q in questions if q.split == "tune"]
            tuning, emb_threshold = tune(index, tuning_questions, signals(index, tuning_questions))
            print("tuned on the tune part:", json.dumps(asdict(tuning)), "embeddings-only threshold", emb_threshold)
        print(table(evaluate(index, questions, tuning)))
        print("embeddings available:", embedding.available())
    if args.latency:
        print(latency())
    return 0


# --- the `answers` part of `make bench` ------------------------------------------------------


def answer_in_chat_latency(bench: Any, count: int = 60, rate: float = 5.0) -> dict[str, Any]:
    """Webhook → the knowledge base's answer at the fake LINE API, with gunicorn and the worker running.

    Requesters are prepared at the question step (agency given, topic chosen), so the timed reply is
    the one that carries the article; questions come from the evaluation set's answerable part.
    """
    from bench.fake_api import TimedFakeApi
    from bench.line_events import signed_text, user_id
    from bench.processes import Gunicorn, Worker
    from bench.run import CHANNEL_SECRET, WEB_THREADS, WEB_WORKERS, _delivery_latencies, _send_paced
    from clinic.models import Agency, ChatSession, Requester

    kind = bench.backends[0]
    questions = [q.text for q in load_eval() if q.expected is not None]
    fake = TimedFakeApi()
    fake.start()
    try:
        with bench.database(kind) as db, bench.product_env(db.url, fake.url) as env, ExitStack() as stack:
            now = datetime.now(UTC)
            tag = uuid.uuid4().hex
            with db.database.transaction() as session:
                knowledge.seed_starter(session, now=now)
                knowledge_search.refresh_vectors(session, now=now)
                agency = session.scalars(select(Agency).where(Agency.agency_type_code == "district")).first()
                for n in range(count + 10):
                    person = Requester(channel="line", channel_user_id=user_id(n, tag), display_name="bench",
                                       agency_type_code="district", agency_id=agency.id if agency else None,
                                       agency_other="" if agency else "เขตทดสอบ", created_at=now,
                                       last_inbound_at=now)  # fmt: skip
                    session.add(person)
                    session.flush()
                    session.add(ChatSession(requester_id=person.id, step="question", data={"topic": "saraban"},
                                            updated_at=now))  # fmt: skip
            web = Gunicorn("wsgi:create_app()", env, workers=WEB_WORKERS, threads=WEB_THREADS,
                           log_path=bench.workdir / "answers-web.log")  # fmt: skip
            stack.callback(web.stop)
            worker = Worker(env, log_path=bench.workdir / "answers-worker.log")
            stack.callback(worker.stop)
            warm = [signed_text(CHANNEL_SECRET, user_id(count + n, tag), questions[n]) for n in range(10)]
            _delivery_latencies(fake, warm, _send_paced(web.url, warm, rate), timeout=120)
            events = [signed_text(CHANNEL_SECRET, user_id(n, tag), questions[n % len(questions)]) for n in range(count)]
            latencies = sorted(_delivery_latencies(fake, events, _send_paced(web.url, events, rate), timeout=120))
    finally:
        fake.stop()
    return {
        "backend": kind,
        "sent": count,
        "answered": len(latencies),
        "p50_s": statistics.median(latencies) if latencies else None,
        "p95_s": latencies[max(int(len(latencies) * 0.95) - 1, 0)] if latencies else None,
    }


def part(bench: Any) -> None:
    """Evaluation on the held-out third, search latency at 1,000 articles, and the answer's time in the chat."""
    from bench.run import Row, fmt_ms

    questions = load_eval()
    with starter_index(bench.workdir) as (_db, index):
        results = evaluate(index, questions, knowledge_search.TUNING)
    held = results["heldout"]
    for name, s in held.items():
        fused = name == "fused"
        bench.rows.append(Row(
            "answers", f"held-out ({s.answerable} answerable + {s.unanswerable} not), {name}: hit@1 / hit@3 / MRR",
            f"{s.hit1:.2f} / {s.hit3:.2f} / {s.mrr:.2f}", goal="hit@3 ≥ 0.90" if fused else "",
            met=(s.hit3 >= 0.90) if fused else None,
        ))  # fmt: skip
        bench.rows.append(Row(
            "answers", f"held-out, {name}: refusal on unanswerable / answered at once right / wrong",
            f"{s.refusal:.2f} / {s.answered_right:.2f} / {s.wrong_confident:.2f}",
            goal="refusal ≥ 0.85" if fused else "", met=(s.refusal >= 0.85) if fused else None,
        ))  # fmt: skip
    timing = latency(workdir=bench.workdir)
    bench.rows.append(Row(
        "answers", f"search, {timing['articles']:,} articles and {timing['closed_tickets']:,} closed tickets: "
        "p50 / p95", f"{timing['p50_ms']:.1f} / {timing['p95_ms']:.1f} ms", goal="p95 ≤ 150 ms",
        met=timing["p95_ms"] <= 150,
    ))  # fmt: skip
    chat = answer_in_chat_latency(bench)
    if chat["p95_s"] is not None:
        bench.rows.append(Row(
            "answers", f"question → the article at the LINE API, worker running, {chat['backend']}: p50 / p95",
            f"{fmt_ms(chat['p50_s'])} / {fmt_ms(chat['p95_s'])}", goal="p95 ≤ 1 s", met=chat["p95_s"] <= 1.0,
        ))  # fmt: skip
    bench.data["answers"] = {
        "heldout": {name: asdict(s) for name, s in held.items()},
        "tune": {name: asdict(s) for name, s in results["tune"].items()},
        "tuning": asdict(knowledge_search.TUNING),
        "search_latency": timing,
        "chat": chat,
        "embeddings": embedding.available(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
