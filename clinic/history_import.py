"""Import the consultations the office handled on its Facebook page before this product.

The file is UTF-8 CSV with the header

    posted_at,closed_at,channel,requester,agency_type,agency,topic,question,answer,
    convenience,timeliness,usefulness,overall,suggestion

Times are ISO 8601, Bangkok time when they carry no offset. `channel` is `line`,
`messenger`, `web` or empty (then the ticket's channel is `import`). `agency_type` and
`topic` are a code or the Thai label; `agency` a code or Thai name from the list, else it
is kept as free text. Scores are 1-5 or empty.

All or nothing: every bad row is reported with its line number and nothing is imported
when any row is bad. Each row's `Ticket.import_key` (a hash of its posting time,
requester and question) makes a second import of the same file add nothing.
Imported tickets are closed history: they are not put in the SLA queue, and no survey
or message is sent for them.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import audit, settings, survey, thaidate, ticket_index
from clinic.models import Agency, AgencyType, Message, Requester, SurveyResponse, Ticket, Topic
from clinic.runtime import runtime_of
from clinic.tickets import next_number

HEADER = (
    "posted_at", "closed_at", "channel", "requester", "agency_type", "agency", "topic", "question", "answer",
    "convenience", "timeliness", "usefulness", "overall", "suggestion",
)  # fmt: skip
FILE_CHANNELS = ("line", "messenger", "web")
IMPORT_CHANNEL = "import"


class HistoryImportError(ValueError):
    """The file was refused; `problems` lists every bad row as (line number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        lines = [f"บรรทัด {line} / line {line}: {message}" if line else message for line, message in problems]
        super().__init__("นำเข้าไม่สำเร็จ ไม่มีข้อมูลถูกบันทึก / Import refused, nothing was saved\n" + "\n".join(lines))


@dataclass
class ImportResult:
    rows: int = 0
    imported: int = 0
    already_present: int = 0
    requesters_created: int = 0
    numbers: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Row:
    line: int
    posted_at: datetime
    closed_at: datetime
    channel: str
    requester: str
    agency_type_code: str
    agency_id: int | None
    agency_other: str
    topic_code: str
    question: str
    answer: str
    scores: dict[str, int | None]
    suggestion: str

    @property
    def import_key(self) -> str:
        raw = "\x1f".join([self.posted_at.isoformat(), self.requester.casefold(), self.question])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _parse_time(raw: str) -> datetime:
    moment = datetime.fromisoformat(raw.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=thaidate.BANGKOK)
    return moment.astimezone(thaidate.BANGKOK)


def _time_field(record: dict[str, str], name: str, errors: list[str]) -> datetime | None:
    if not record[name]:
        errors.append(f"{name} ว่าง / {name} is empty")
        return None
    try:
        return _parse_time(record[name])
    except ValueError:
        errors.append(f"{name} ไม่ใช่เวลา ISO 8601 / {name} is not an ISO 8601 time: {record[name]!r}")
        return None


def _lookup(text: str, by_code: dict[str, Any], by_label: dict[str, Any]) -> Any:
    return by_code.get(text) or by_code.get(text.lower()) or by_label.get(text)


def parse(session: Session, text: str) -> list[_Row]:
    """Check the whole file; raise `HistoryImportError` listing every bad row."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise HistoryImportError([(0, "ไฟล์ว่าง / The file is empty")]) from None
    header = [name.strip() for name in header]
    missing = [name for name in HEADER if name not in header]
    if missing:
        raise HistoryImportError(
            [(1, f"หัวตารางขาดคอลัมน์ / The header lacks: {', '.join(missing)} (expected {','.join(HEADER)})")]
        )
    types = {row.code: row for row in session.scalars(select(AgencyType))}
    type_labels = {row.label_th: row for row in types.values()} | {row.short_th: row for row in types.values()}
    topics = {row.code: row for row in session.scalars(select(Topic))}
    topic_labels = {row.label_th: row for row in topics.values()} | {row.short_th: row for row in topics.values()}
    agencies = list(session.scalars(select(Agency)))
    agency_codes = {row.code: row for row in agencies if row.code}
    agency_names = {row.name_th: row for row in agencies}

    rows: list[_Row] = []
    problems: list[tuple[int, str]] = []
    line = reader.line_num + 1
    for values in reader:
        start_line, line = line, reader.line_num + 1
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(header):
            problems.append((start_line, f"มี {len(values)} ช่อง ต้องมี {len(header)} / {len(values)} fields, "
                                         f"expected {len(header)}"))  # fmt: skip
            continue
        record = {name: value.strip() for name, value in zip(header, values, strict=True)}
        errors: list[str] = []

        posted_at = _time_field(record, "posted_at", errors)
        closed_at = _time_field(record, "closed_at", errors)
        if posted_at and closed_at and closed_at < posted_at:
            errors.append("closed_at ก่อน posted_at / closed_at is before posted_at")
        channel = record["channel"].lower()
        if channel and channel not in FILE_CHANNELS:
            errors.append(f"ช่องทางต้องเป็น line, messenger, web หรือว่าง / channel must be line, messenger, web "
                          f"or empty: {record['channel']!r}")  # fmt: skip
        if not record["requester"]:
            errors.append("requester ว่าง / requester is empty")
        agency_type = _lookup(record["agency_type"], types, type_labels)
        if agency_type is None:
            errors.append(f"ไม่รู้จักประเภทหน่วยงาน / unknown agency_type: {record['agency_type']!r}")
        topic = _lookup(record["topic"], topics, topic_labels)
        if topic is None:
            errors.append(f"ไม่รู้จักด้าน / unknown topic: {record['topic']!r}")
        if not record["question"]:
            errors.append("question ว่าง / question is empty")
        scores: dict[str, int | None] = {}
        for key in survey.ITEM_KEYS:
            raw = record[key]
            if not raw:
                scores[key] = None
            elif raw in ("1", "2", "3", "4", "5"):
                scores[key] = int(raw)
            else:
                errors.append(f"{key} ต้องเป็น 1-5 หรือว่าง / {key} must be 1-5 or empty: {raw!r}")
        if errors:
            problems += [(start_line, error) for error in errors]
            continue
        assert posted_at and closed_at and agency_type and topic
        agency = _lookup(record["agency"], agency_codes, agency_names) if record["agency"] else None
        if agency is not None and agency.agency_type_code != agency_type.code:
            agency = None  # the file's agency type wins; the name is kept as free text
        rows.append(
            _Row(
                line=start_line, posted_at=posted_at, closed_at=closed_at, channel=channel or IMPORT_CHANNEL,
                requester=record["requester"], agency_type_code=agency_type.code,
                agency_id=agency.id if agency else None, agency_other="" if agency else record["agency"],
                topic_code=topic.code, question=record["question"], answer=record["answer"], scores=scores,
                suggestion=record["suggestion"],
            )
        )  # fmt: skip
    if problems:
        raise HistoryImportError(problems)
    return rows


def import_text(session: Session, text: str, *, now: datetime, actor: str = "cli") -> ImportResult:
    """Validate the whole file, then add the rows not imported before. Never commits."""
    rows = parse(session, text)
    result = ImportResult(rows=len(rows))
    timings = settings.sla(session, runtime_of(session).config)
    keys = [row.import_key for row in rows]
    present = set()
    for chunk_start in range(0, len(keys), 500):
        chunk = keys[chunk_start : chunk_start + 500]
        present |= set(session.scalars(select(Ticket.import_key).where(Ticket.import_key.in_(chunk))))
    people: dict[str, Requester] = {}
    imported_ids: list[int] = []
    for row in sorted(rows, key=lambda row: (row.posted_at, row.line)):
        if row.import_key in present:
            result.already_present += 1
            continue
        present.add(row.import_key)
        requester = people.get(row.requester.casefold()) or _requester(session, row, result)
        people[row.requester.casefold()] = requester
        posted = row.posted_at.astimezone(UTC)
        closed = row.closed_at.astimezone(UTC)
        ticket = Ticket(
            number=next_number(session, posted), requester=requester, topic_code=row.topic_code,
            agency_type_code=row.agency_type_code, agency_id=row.agency_id, agency_other=row.agency_other,
            channel=row.channel, status="closed", subject=row.question.splitlines()[0][:200], posted_at=posted,
            first_response_at=closed if row.answer else None, closed_at=closed, sla_started_at=posted,
            due_at=posted + timedelta(hours=timings.hours), import_key=row.import_key,
        )  # fmt: skip
        session.add(ticket)
        session.flush()
        session.add(Message(ticket_id=ticket.id, kind="inbound", body=row.question, created_at=posted))
        if row.answer:
            session.add(Message(ticket_id=ticket.id, kind="outbound", body=row.answer, created_at=closed,
                                delivery_status="sent"))  # fmt: skip
        session.add(Message(ticket_id=ticket.id, kind="system", body="นำเข้าจากประวัติ / Imported from history",
                            created_at=now))  # fmt: skip
        if any(score is not None for score in row.scores.values()) or row.suggestion:
            session.add(
                SurveyResponse(
                    ticket_id=ticket.id, requester_id=requester.id, status="completed", sent_at=closed,
                    completed_at=closed, suggestion=row.suggestion, **row.scores,
                )
            )  # fmt: skip
        result.imported += 1
        result.numbers.append(ticket.number)
        imported_ids.append(ticket.id)
    session.flush()
    for start in range(0, len(imported_ids), ticket_index.BATCH):
        ticket_index.reindex(session, imported_ids[start : start + ticket_index.BATCH])
    audit.record(
        session, now=now, action="history.import", actor=actor, target_type="tickets",
        rows=result.rows, imported=result.imported, already_present=result.already_present,
    )  # fmt: skip
    return result


def _requester(session: Session, row: _Row, result: ImportResult) -> Requester:
    """One requester per distinct name, on the `import` channel."""
    user_id = "name:" + hashlib.sha256(row.requester.casefold().encode("utf-8")).hexdigest()[:40]
    found = session.scalar(select(Requester).where(Requester.channel == IMPORT_CHANNEL,
                                                   Requester.channel_user_id == user_id))  # fmt: skip
    if found is not None:
        return found
    requester = Requester(
        channel=IMPORT_CHANNEL, channel_user_id=user_id, display_name=row.requester[:200],
        person_name=row.requester[:200], agency_type_code=row.agency_type_code, agency_id=row.agency_id,
        agency_other=row.agency_other, created_at=row.posted_at.astimezone(UTC), following=False,
    )  # fmt: skip
    session.add(requester)
    session.flush()
    result.requesters_created += 1
    return requester
