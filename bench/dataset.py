"""Bench data: a migrated, seeded database of its own, filled in bulk with tickets.

Rows go in through the driver (sqlite3 executemany, PostgreSQL COPY) because the
bench needs a million rows in seconds; they follow the product's rules (a deadline
`SLA_HOURS` after the clock starts, a KPI-consistent closing) so the queries under
test see realistic data. Nothing generated here is committed.
"""

from __future__ import annotations

import functools
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from clinic import migrate, reference, ticket_index
from clinic.db import Database
from clinic.models import Agency, Topic
from clinic.thai_text import normalize, segmented
from clinic.thaidate import BANGKOK, fiscal_year_bounds, local_day_range_utc

SLA = timedelta(hours=24)
TICKET_COLUMNS = (
    "id", "number", "requester_id", "topic_code", "agency_type_code", "agency_id", "agency_other", "channel",
    "status", "subject", "posted_at", "first_response_at", "closed_at", "sla_started_at", "due_at",
    "sla_missed_before", "reopen_count",
)  # fmt: skip
REQUESTER_COLUMNS = (
    "id", "channel", "channel_user_id", "display_name", "person_name", "position", "agency_type_code",
    "agency_id", "agency_other", "created_at", "last_inbound_at", "following",
)  # fmt: skip
SURVEY_COLUMNS = (
    "id", "ticket_id", "requester_id", "status", "sent_at", "expires_at", "completed_at",
    "convenience", "timeliness", "usefulness", "overall", "suggestion",
)  # fmt: skip
MESSAGE_COLUMNS = ("id", "ticket_id", "kind", "author_id", "body", "created_at", "channel_message_id",
                   "delivery_status")  # fmt: skip
SEARCH_DOC_COLUMNS = ("ticket_id", "words", "plain")
SUBJECTS = (
    "ขอสอบถามการลงทะเบียนรับหนังสือราชการ",
    "การเสนอแฟ้มต่อปลัดกรุงเทพมหานคร",
    "รูปแบบหนังสือภายนอกที่ถูกต้อง",
    "ขั้นตอนการจัดพิธีวางพวงมาลา",
    "การขอใช้ตราสัญลักษณ์กรุงเทพมหานคร",
)


# Thread text as agency staff write it in chat, and as the secretariat answers: a question is an
# opener, a matter of the clinic's work and what they want to know; a reply cites a regulation clause.
OPENERS = ("ขอสอบถามค่ะ", "รบกวนสอบถามครับ", "สวัสดีค่ะ", "เรียนเจ้าหน้าที่ครับ", "", "สอบถามหน่อยนะคะ")
MATTERS = (
    "การลงทะเบียนรับหนังสือราชการจากหน่วยงานภายนอก", "การเสนอแฟ้มต่อปลัดกรุงเทพมหานคร",
    "รูปแบบหนังสือภายนอกที่ถูกต้อง", "ขั้นตอนการจัดพิธีวางพวงมาลา", "การขอใช้ตราสัญลักษณ์กรุงเทพมหานคร",
    "การเก็บรักษาหนังสือราชการ", "การทำลายหนังสือเมื่อครบอายุการเก็บ", "การกำหนดชั้นความเร็วของหนังสือ",
    "หนังสือชั้นความลับต้องส่งอย่างไร", "การทำหนังสือเวียนถึงสำนักงานเขต", "การใช้กระดาษตราครุฑ",
    "การลงนามแทนปลัดกรุงเทพมหานคร", "การประดับธงชาติในวันสำคัญ", "การแต่งกายในพิธีถวายพระพรชัยมงคล",
    "การเขียนบันทึกข้อความภายในหน่วยงาน", "การยืมหนังสือราชการที่เก็บไว้", "การออกคำสั่งและประกาศของสำนัก",
    "การทำสำเนาคู่ฉบับ", "การใช้ระบบ e-Saraban ส่งหนังสือ", "การแนบสิ่งที่ส่งมาด้วย",
    "คำขึ้นต้นและคำลงท้ายถึงผู้ว่าราชการกรุงเทพมหานคร", "การรับรองสำเนาถูกต้อง", "เลขทะเบียนหนังสือส่งซ้ำกัน",
    "การจัดทำรายงานการประชุม", "การประดับพระบรมฉายาลักษณ์",
)  # fmt: skip
DETAILS = (
    "ต้องทำอย่างไรบ้าง", "มีระเบียบข้อไหนกำหนดไว้", "ใช้แบบฟอร์มไหนคะ", "ต้องเก็บไว้กี่ปี", "ใครเป็นผู้ลงนาม",
    "หน่วยงานของเราทำถูกต้องไหม", "ถ้าส่งผิดไปแล้วต้องแก้ไขอย่างไร", "ต้องส่งภายในกี่วัน",
    "มีตัวอย่างให้ดูไหมครับ", "ผู้บังคับบัญชาให้มาถามค่ะ", "ตอนนี้งานค้างอยู่หลายเรื่อง", "ด่วนนะคะ",
)  # fmt: skip
CLAUSES = ("ข้อ 10", "ข้อ 11", "ข้อ 12", "ข้อ 15", "ข้อ 20", "ข้อ 27", "ข้อ 52", "ข้อ 57", "ข้อ 66")
GUIDANCE = (
    "ให้ลงทะเบียนรับในทะเบียนหนังสือรับตามแบบที่ 12", "ให้ใช้กระดาษตราครุฑสำหรับหนังสือภายนอก",
    "ผู้ลงนามต้องเป็นผู้มีอำนาจหรือผู้ได้รับมอบอำนาจ", "ให้เก็บรักษาไว้ไม่น้อยกว่า 10 ปี",
    "ให้ระบุชั้นความเร็วด้วยตัวอักษรสีแดงขนาดใหญ่", "ให้จัดทำสำเนาคู่ฉบับเก็บไว้ที่หน่วยงาน",
    "การทำลายต้องตั้งคณะกรรมการทำลายหนังสือ", "ให้ประดับธงชาติตามประกาศของสำนักนายกรัฐมนตรี",
    "การแต่งกายให้เป็นไปตามหนังสือเวียนของสำนักงานเลขานุการปลัดกรุงเทพมหานคร",
    "ส่งผ่านระบบสารบรรณอิเล็กทรอนิกส์ได้ โดยไม่ต้องส่งตัวจริงซ้ำ",
)  # fmt: skip
NOTES = (
    "โทรประสานกับหน่วยงานแล้ว รอเอกสารเพิ่มเติม", "ส่งต่อให้กลุ่มงานพิธีการตรวจสอบ",
    "ผู้ถามแจ้งว่าเป็นเรื่องเร่งด่วน ต้องตอบภายในวันนี้", "ตรวจสอบกับระเบียบฉบับแก้ไข พ.ศ. 2564 แล้ว",
)  # fmt: skip


def question_text(rng: random.Random) -> str:
    return " ".join(p for p in (rng.choice(OPENERS), rng.choice(MATTERS), rng.choice(DETAILS)) if p)


def reply_text(rng: random.Random) -> str:
    return (
        f"เรียนผู้ถาม ตามระเบียบสำนักนายกรัฐมนตรีว่าด้วยงานสารบรรณ พ.ศ. 2526 {rng.choice(CLAUSES)} "
        f"{rng.choice(GUIDANCE)} และ{rng.choice(GUIDANCE)}"
    )


@dataclass(frozen=True)
class BenchDatabase:
    kind: str  # sqlite or postgresql
    url: str
    database: Database


@contextmanager
def bench_database(kind: str, *, workdir: Path, postgres_url: str) -> Iterator[BenchDatabase]:
    """A fresh migrated and seeded database: a SQLite file, or a PostgreSQL schema dropped at the end."""
    if kind == "sqlite":
        path = workdir / f"bench-{uuid.uuid4().hex[:8]}.db"
        url = f"sqlite:///{path}"
        database = Database(url)
        try:
            _prepare(database)
            yield BenchDatabase(kind, url, database)
        finally:
            database.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(postgres_url)
    with admin.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    rendered = url.render_as_string(hide_password=False)
    database = Database(rendered)
    try:
        _prepare(database)
        yield BenchDatabase(kind, rendered, database)
    finally:
        database.dispose()
        with admin.engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _prepare(database: Database) -> None:
    migrate.upgrade(database.engine)
    with database.transaction() as session:
        reference.seed(session)


def _sqlite_time(moment: datetime | None) -> str | None:
    # SQLAlchemy's SQLite DateTime text format; comparisons there are textual, so it must match exactly.
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _pg_time(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class FillResult:
    tickets: int
    open_tickets: int
    in_fiscal_year: int


def fill(
    db: BenchDatabase,
    count: int,
    *,
    fiscal_year_be: int,
    open_share: float,
    now: datetime,
    seed: int = 7,
    threads: bool = False,
) -> FillResult:
    """Add `count` tickets (and their requesters and surveys) posted over the fiscal year and the quarter before.

    `open_share` of them are still open (posted in the last days before `now`, as a
    live inbox is); the rest are closed, about nine in ten within their deadline, and
    six in ten closed ones have a completed survey. With `threads`, each ticket also gets its
    messages (the question, a reply when answered, sometimes a follow-up and an internal note)
    and its search document, as the ticket service would have written them.
    """
    rng = random.Random(seed)
    with db.database.transaction() as session:
        agencies = [(a.id, a.agency_type_code) for a in session.scalars(select(Agency))]
        topics = list(session.scalars(select(Topic.code)))
        first_ids = {
            table: (session.scalar(text(f"SELECT COALESCE(MAX(id), 0) FROM {table}")) or 0) + 1
            for table in ("requesters", "tickets", "survey_responses", "messages")
        }
    first_day, last_day = fiscal_year_bounds(fiscal_year_be)
    year_start, year_end = local_day_range_utc(first_day, last_day, BANGKOK)
    span_start = year_start - timedelta(days=92)  # a quarter before the year, which the KPI query must leave out
    span = (min(year_end, now) - span_start).total_seconds()

    requester_count = max(1, count // 5)
    requesters: list[tuple[Any, ...]] = []
    for i in range(requester_count):
        agency_id, type_code = rng.choice(agencies)
        created = span_start
        requesters.append((
            first_ids["requesters"] + i, rng.choice(("line", "line", "messenger", "web")),
            f"U{uuid.UUID(int=rng.getrandbits(128)).hex}", f"ผู้ใช้ {i}", "", "", type_code, agency_id, "",
            created, created, True,
        ))  # fmt: skip

    tickets: list[tuple[Any, ...]] = []
    surveys: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    docs: list[tuple[Any, ...]] = []
    segment, normal = _cached(segmented), _cached(normalize)
    open_count = int(count * open_share)
    in_year = 0
    for i in range(count):
        ticket_id = first_ids["tickets"] + i
        who = requesters[rng.randrange(requester_count)]
        is_open = i < open_count
        if is_open:
            posted = now - timedelta(seconds=rng.uniform(0, 36 * 3600))
        else:
            posted = span_start + timedelta(seconds=rng.uniform(0, span - 3 * 86400))
        in_year += year_start <= posted < year_end
        due = posted + SLA
        first_response = None if is_open and rng.random() < 0.5 else posted + timedelta(minutes=rng.uniform(5, 600))
        closed = None
        status = "answered" if is_open and first_response else "open"
        if not is_open:
            status = "closed"
            late = rng.random() < 0.1
            closed = due + timedelta(hours=rng.uniform(1, 48)) if late else posted + timedelta(hours=rng.uniform(1, 23))
            if first_response is None or first_response > closed:
                first_response = closed
        number = f"CL-B{ticket_id:08d}"
        question = question_text(rng) if threads else rng.choice(SUBJECTS)
        tickets.append((
            ticket_id, number, who[0], rng.choice(topics), who[6], who[7], "", who[1], status,
            question[:200], posted, first_response, closed, posted, due, False, 0,
        ))  # fmt: skip
        if threads:
            thread = [("inbound", question, posted, None)]
            if rng.random() < 0.15:
                thread.append(("inbound", question_text(rng), posted + timedelta(minutes=2), None))
            if rng.random() < 0.2:
                thread.append(("note", rng.choice(NOTES), posted + timedelta(minutes=3), None))
            if first_response is not None:
                thread.append(("outbound", reply_text(rng), first_response, "sent"))
            if closed is not None:
                thread.append(("system", "ปิดเรื่อง / Closed", closed, None))
            for kind, body, at, delivery in thread:
                messages.append((first_ids["messages"] + len(messages), ticket_id, kind, None, body, at, None,
                                 delivery))  # fmt: skip
            searchable = [body for kind, body, _, _ in thread if kind in ticket_index.SEARCHABLE_KINDS]
            doc = ticket_index.document(number, question[:200], searchable, segment=segment, normal=normal)
            docs.append((ticket_id, doc.words, doc.plain))
        if closed is not None and rng.random() < 0.6:
            surveys.append((
                first_ids["survey_responses"] + len(surveys), ticket_id, who[0], "completed", closed,
                closed + timedelta(days=3), closed + timedelta(minutes=rng.uniform(1, 120)),
                rng.choice((3, 4, 4, 5, 5)), rng.choice((3, 4, 5, 5)), rng.choice((4, 5, 5)),
                rng.choice((3, 4, 5, 5)), "",
            ))  # fmt: skip

    time_columns = {
        "requesters": (9, 10),
        "tickets": (10, 11, 12, 13, 14),
        "survey_responses": (4, 5, 6),
        "messages": (5,),
        "ticket_search_docs": (),
    }
    batches = [
        ("requesters", REQUESTER_COLUMNS, requesters),
        ("tickets", TICKET_COLUMNS, tickets),
        ("survey_responses", SURVEY_COLUMNS, surveys),
        ("messages", MESSAGE_COLUMNS, messages),
        ("ticket_search_docs", SEARCH_DOC_COLUMNS, docs),
    ]
    if db.kind == "sqlite":
        _sqlite_load(db, batches, time_columns)
    else:
        _copy_load(db, batches, time_columns)
    return FillResult(count, open_count, in_year)


def _cached(function: ticket_index.Segmenter) -> ticket_index.Segmenter:
    """The product's own text function, run once per distinct text: the generated threads repeat sentences."""
    return functools.lru_cache(maxsize=None)(function)


def _convert(rows: list[tuple[Any, ...]], columns: tuple[int, ...], convert: Any) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        values = list(row)
        for index in columns:
            values[index] = convert(values[index])
        yield tuple(values)


def _sqlite_load(db: BenchDatabase, batches: list, time_columns: dict[str, tuple[int, ...]]) -> None:
    raw = db.database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        for table, columns, rows in batches:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                _convert(rows, time_columns[table], _sqlite_time),
            )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def _copy_load(db: BenchDatabase, batches: list, time_columns: dict[str, tuple[int, ...]]) -> None:
    raw = db.database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table, columns, rows in batches:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in _convert(rows, time_columns[table], _pg_time):
                    copy.write_row(row)
            # Explicit ids bypass the sequence; move it past them so the product can insert afterwards.
            if "id" in columns and rows:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        raw.commit()
        # Only our tables: a bare ANALYZE walks every schema and waits on other sessions' locks.
        cursor.execute("ANALYZE requesters, tickets, survey_responses, messages, ticket_search_docs")
        raw.commit()
    finally:
        raw.close()
