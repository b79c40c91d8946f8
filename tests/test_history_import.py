import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clinic import history_import, kpi, sla
from clinic.models import AuditEntry, Message, OutboxMessage, Requester, SurveyResponse, Ticket
from clinic.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
HEADER = ",".join(history_import.HEADER)
GOOD = (Path(__file__).parent / "data" / "history-import.csv").read_text(encoding="utf-8")
BAD = f"""{HEADER}
2021-03-01T09:00:00,2021-03-01T15:00:00,,สมชาย ใจดี,district,,saraban,คำถาม,คำตอบ,5,5,5,5,
yesterday,2021-03-01T15:00:00,fax,,nowhere,,weather,,,6,5,5,5,
2021-03-02T09:00:00,2021-03-01T15:00:00,line,มานี,district,,saraban,คำถาม,,,,,,
2021-03-02T09:00:00,,line,มานี,district,,saraban,คำถาม,,,,,,
"""


def _count(runtime: Runtime, model: type) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


def _import(runtime: Runtime, text: str) -> history_import.ImportResult:
    with runtime.db.transaction() as session:
        return history_import.import_text(session, text, now=runtime.clock.now())


def test_import_loads_history_as_closed_tickets_with_their_surveys(runtime: Runtime) -> None:
    result = _import(runtime, GOOD)
    assert (result.rows, result.imported, result.already_present, result.requesters_created) == (4, 4, 0, 3)
    with runtime.db.transaction() as session:
        tickets = session.scalars(select(Ticket).order_by(Ticket.posted_at)).all()
        assert [t.number for t in tickets] == ["CL-2564-00001", "CL-2564-00002", "CL-2564-00003", "CL-2564-00004"]
        first, second, third, fourth = tickets
        assert (first.channel, first.status, first.agency_name, first.topic_code) == (
            "import", "closed", "สำนักงานเขตพระนคร", "saraban",
        )  # fmt: skip
        assert first.posted_at.isoformat() == "2021-03-01T02:00:00+00:00"  # Bangkok time when no offset
        assert first.requester.channel == "import" and first.requester.display_name == "สมชาย ใจดี"
        assert third.requester_id == first.requester_id  # one requester per distinct name
        assert (second.channel, second.agency_type_code, second.topic_code) == ("messenger", "bureau", "ceremony")
        assert second.agency_name == "สำนักการแพทย์" and second.subject == "จัดพิธีวางพวงมาลา"
        assert [m.kind for m in second.messages] == ["inbound", "outbound", "system"]
        assert second.messages[0].body == "จัดพิธีวางพวงมาลา\nต้องเตรียมอะไร"
        assert (fourth.agency_id, fourth.agency_other) == (None, "มูลนิธิเพื่อนกรุงเทพ")
        assert [first.completed_within_sla, second.completed_within_sla, fourth.completed_within_sla] == [
            True, False, True,
        ]  # fmt: skip
        surveys = {s.ticket_id: s for s in session.scalars(select(SurveyResponse))}
        assert set(surveys) == {first.id, second.id, fourth.id}  # the third row has no scores
        assert (surveys[second.id].overall, surveys[second.id].status) == (3, "completed")
        assert surveys[first.id].suggestion == "คำแนะนำชัดเจน เข้าใจง่าย"
        assert session.scalar(select(AuditEntry.action).where(AuditEntry.action == "history.import"))
    assert _count(runtime, OutboxMessage) == 0  # history sends nothing
    assert runtime.redis.zcard(sla.due_key(runtime)) == 0

    with runtime.db.transaction() as session:
        figures = kpi.compute(session, kpi.Period.parse("2021-03-01", "2021-03-31"), runtime.clock.now())
    assert (figures.consultations, figures.requesters, figures.completed_within_sla) == (4, 3, 3)
    assert (figures.respondents, figures.satisfied, figures.satisfaction_percent) == (3, 2, Decimal("66.7"))
    assert {row.code: row.consultations for row in figures.by_channel}["import"] == 1


def test_importing_the_same_file_twice_adds_nothing(runtime: Runtime) -> None:
    _import(runtime, GOOD)
    again = _import(runtime, GOOD)
    assert (again.imported, again.already_present, again.requesters_created) == (0, 4, 0)
    assert _count(runtime, Ticket) == 4 and _count(runtime, Requester) == 3 and _count(runtime, Message) == 11


def test_a_bad_file_is_refused_whole_with_every_bad_line(runtime: Runtime) -> None:
    with pytest.raises(history_import.HistoryImportError) as refused:
        _import(runtime, BAD)
    lines = sorted({line for line, _ in refused.value.problems})
    assert lines == [3, 4, 5]
    messages = [message for line, message in refused.value.problems if line == 3]
    assert any("posted_at" in m for m in messages) and any("channel" in m for m in messages)
    assert any("requester" in m for m in messages) and any("agency_type" in m for m in messages)
    assert any("topic" in m for m in messages) and any("convenience" in m for m in messages)
    assert any("question" in m for m in messages)
    assert "closed_at ก่อน posted_at" in str(refused.value) and "บรรทัด 5 / line 5" in str(refused.value)
    assert str(refused.value).startswith("นำเข้าไม่สำเร็จ")
    assert _count(runtime, Ticket) == 0 and _count(runtime, Requester) == 0  # the good first row was not kept


def test_a_wrong_header_is_refused(runtime: Runtime) -> None:
    with pytest.raises(history_import.HistoryImportError, match="question"):
        _import(runtime, "posted_at,closed_at,channel,requester,agency_type,agency,topic\n")
    with pytest.raises(history_import.HistoryImportError, match="ว่าง"):
        _import(runtime, "")


def test_clinic_import_history_command(runtime: Runtime, config_env: dict[str, str], tmp_path: Path) -> None:
    good, bad = tmp_path / "history.csv", tmp_path / "bad.csv"
    good.write_text(GOOD, encoding="utf-8-sig")
    bad.write_text(BAD, encoding="utf-8")
    env = {**os.environ, **config_env}

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "manage", "import-history", str(path)], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    refused = run(bad)
    assert refused.returncode == 2 and "บรรทัด 3 / line 3" in refused.stderr and _count(runtime, Ticket) == 0
    first = run(good)
    assert first.returncode == 0, first.stderr
    assert "Imported 4, already present 0" in first.stdout
    second = run(good)
    assert "Imported 0, already present 4" in second.stdout and _count(runtime, Ticket) == 4
