"""The audit trail: every staff action, with who and when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from clinic import labels, thaidate
from clinic.models import AuditEntry, StaffUser


def record(
    session: Session,
    *,
    now: datetime,
    action: str,
    staff: StaffUser | None = None,
    actor: str = "",
    target_type: str = "",
    target_id: str | int = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        at=now,
        staff_id=staff.id if staff else None,
        actor=actor or (staff.username if staff else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail,
    )
    session.add(entry)
    return entry


# --- reading the trail -------------------------------------------------------------------------

Lookup = Callable[[str, str], str | None]  # (kind, code) -> a person's name for it, or None


def _no_lookup(kind: str, code: str) -> str | None:
    return None


def describe(entry: AuditEntry, lang: str = "th", lookup: Lookup = _no_lookup, who: str = "") -> str:
    """The entry as one sentence a person reads: `สมชาย ปิดเรื่อง CL-2569-00012 (ทันเวลา)`.

    `who` is the actor's display name (the view knows the staff rows); the fields an
    action changed follow after a dash, with labels for the codes, never as JSON.
    """
    en = lang == "en"
    detail = dict(entry.detail or {})
    actor = who or _actor(entry.actor, en)
    verb = labels.text("audit_action", entry.action, lang)
    target = _target(entry, detail, lang, lookup)
    sentence = " ".join(part for part in (actor, verb, target) if part)
    qualifier = _qualifier(entry.action, detail, lang, lookup)
    if qualifier:
        sentence += f" {qualifier}"
    changes = _changes(entry.action, detail, lang, lookup)
    if changes:
        sentence += " — " + "; ".join(changes)
    return sentence


def _actor(actor: str, en: bool) -> str:
    if actor == "system":
        return "System" if en else "ระบบ"
    if actor.startswith("api:"):
        return f"API ({actor[4:]})"
    return actor


def _target(entry: AuditEntry, detail: dict[str, Any], lang: str, lookup: Lookup) -> str:
    kind, code = entry.target_type, entry.target_id
    if kind == "ticket":
        return code
    if kind == "staff":
        name = detail.get("username") or lookup("staff", code)
        return str(name) if name and entry.action not in ("staff.link_code", "staff.link_line") else ""
    if kind == "agency":
        return str(detail.get("name_th") or lookup("agency", code) or "")
    if kind == "topic":
        return lookup("topic", code) or code
    if kind == "survey_item":
        return labels.text("survey_item", code, lang)
    if kind == "canned":
        found = lookup("canned", code)
        return f"“{found}”" if found else ""
    if kind == "api_token":
        return f"“{code}”"
    if kind == "kpi" and ".." in code:
        first, _, last = code.partition("..")
        return _period(first, last, lang)
    return ""


def _period(first: str, last: str, lang: str) -> str:
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return f"{first} - {last}"
    if lang == "en":
        return f"for {start:%d %b} {thaidate.be_year(start.year)} - {end:%d %b} {thaidate.be_year(end.year)}"
    return f"ช่วง {thaidate.format_date(start)} - {thaidate.format_date(end)}"


def _qualifier(action: str, detail: dict[str, Any], lang: str, lookup: Lookup) -> str:
    en = lang == "en"
    if action == "ticket.close" and "within_sla" in detail:
        if detail["within_sla"]:
            return "(within the deadline)" if en else "(ทันเวลา)"
        return "(after the deadline)" if en else "(เกินกำหนด)"
    if action == "ticket.assign":
        if detail.get("assignee"):
            name = lookup("staff_username", str(detail["assignee"])) or detail["assignee"]
            return f"to {name}" if en else f"ให้ {name}"
        return "to nobody (unassigned)" if en else "(ไม่มีผู้รับผิดชอบ)"
    if action == "ticket.reopen" and detail.get("due_at"):
        try:
            due = datetime.fromisoformat(str(detail["due_at"]))
        except ValueError:
            return ""
        if en:
            return f"(new deadline {thaidate.format_datetime_en_be(due)})"
        return f"(กำหนดเสร็จใหม่ {thaidate.format_datetime(due)})"
    if action in ("staff.login", "staff.login_failed") and detail.get("address"):
        return f"from {detail['address']}" if en else f"จาก {detail['address']}"
    if action == "kpi.export" and detail.get("format"):
        return f"as {str(detail['format']).upper()}" if en else f"เป็นไฟล์ {str(detail['format']).upper()}"
    return ""


# Fields that name the target or were said in the qualifier; not repeated as changes.
_NOT_CHANGES = {"username", "within_sla", "assignee", "due_at", "address", "format", "message_id", "before"}


def _changes(action: str, detail: dict[str, Any], lang: str, lookup: Lookup) -> list[str]:
    if action in ("staff.login", "staff.logout", "staff.login_failed", "ticket.reply", "ticket.note"):
        return []
    before = detail.get("before") if isinstance(detail.get("before"), dict) else None
    lines = []
    for field, value in detail.items():
        if field in _NOT_CHANGES or (field == "name_th" and action == "agency.add"):
            continue
        if before is not None and field in before:
            if before[field] == value:
                continue
            value = [before[field], value]
        elif before is not None and action == "agency.update":
            continue  # name_en and the like: recorded without a before value
        name = labels.text("audit_field", field, lang)
        if isinstance(value, list) and len(value) == 2:
            shown = f"{_value(field, value[0], lang, lookup)} → {_value(field, value[1], lang, lookup)}"
        else:
            shown = _value(field, value, lang, lookup)
        lines.append(f"{name}: {shown}")
    return lines


def _value(field: str, value: Any, lang: str, lookup: Lookup) -> str:
    en = lang == "en"
    if isinstance(value, bool):
        return ("yes" if value else "no") if en else ("ใช่" if value else "ไม่")
    if value is None or value == "":
        return "-"
    if field == "role":
        return labels.text("role", str(value), lang)
    if field in ("topic", "agency_type"):
        return lookup(field, str(value)) or str(value)
    if field == "password":
        return "changed" if en else "เปลี่ยนแล้ว"
    return str(value)
