"""The agency a requester types, as the intake treats it: the table of issue 13, item 1.

Only an exact or normalised match (with or without สำนักงานเขต/เขต/กทม., spaces, Thai digits,
doubled or reordered Thai marks) is saved at once. A near miss asks `หมายถึง … ใช่ไหม` with at
most three candidates and `ไม่ใช่ ใช้ชื่อที่พิมพ์`; a name close to nothing asks whether to keep it.
Every row goes through the real conversation, from first contact to the saved requester.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot import requesters
from bot.choices import agency_label
from clinic.models import Agency
from clinic.runtime import Runtime
from tests.test_conversation import labels, send, step, texts

USE_TYPED_LABEL = "ไม่ใช่ ใช้ที่พิมพ์"


@dataclass(frozen=True)
class Saved:
    """Saved at once as this agency, no question asked."""

    code: str


@dataclass(frozen=True)
class Asked:
    """Asked `หมายถึง … ใช่ไหม` with exactly these candidates, best first; then the user picks
    `pick` (by its button, or `ใช่` when it is the only one), or, when `pick` is None, taps
    `ไม่ใช่ ใช้ชื่อที่พิมพ์` and the name is kept as typed."""

    candidates: tuple[str, ...]
    pick: str | None


@dataclass(frozen=True)
class Kept:
    """Close to no district: `ไม่พบ … ใช้ชื่อนี้?`, confirmed, kept as typed (agency_other)."""


def _d(number: int) -> str:
    return f"district-{number}"


TABLE: list[tuple[str, Saved | Asked | Kept]] = [
    # Exact or normalised: saved at once.
    ("บางรัก", Saved(_d(1004))),
    ("เขตบางรัก", Saved(_d(1004))),
    ("เขต บางรัก", Saved(_d(1004))),
    ("สำนักงานเขตบางรัก", Saved(_d(1004))),
    ("สนง.เขตบางรัก", Saved(_d(1004))),
    ("  สำนักงาน เขต บางรัก  ", Saved(_d(1004))),
    ("เขตบางรัก กทม.", Saved(_d(1004))),
    ("เขตหลักสี่ กรุงเทพฯ", Saved(_d(1041))),
    ("Bang Rak District Office", Saved(_d(1004))),
    ("bang rak", Saved(_d(1004))),
    ("๔", Saved(_d(1004))),  # Thai digit: the 4th in the list
    ("๕๐", Saved(_d(1050))),
    ("บางกะปิิ", Saved(_d(1006))),  # a vowel typed twice
    ("ส\u0e4d\u0e32นักงานเขตบางนา", Saved(_d(1047))),  # ํ + า typed for ำ
    ("วัฒนา", Saved(_d(1039))),  # not ทวีวัฒนา
    ("ทวีวัฒนา", Saved(_d(1048))),
    ("มีนบุรี", Saved(_d(1010))),
    ("บางพลัด", Saved(_d(1025))),
    ("บางกอกใหญ่", Saved(_d(1016))),
    ("สำนักงานเขตป้อมปราบศัตรูพ่าย", Saved(_d(1008))),
    # A common misspelling of every district: asked, then picked.
    ("พระนะคร", Asked((_d(1001),), _d(1001))),
    ("ดุสิด", Asked((_d(1002),), _d(1002))),
    ("หนองจก", Asked((_d(1003),), _d(1003))),
    ("บางลัก", Asked((_d(1004), _d(1025)), _d(1004))),
    ("บางเข็น", Asked((_d(1005),), _d(1005))),
    ("เขต บางกะปี", Asked((_d(1006),), _d(1006))),
    ("ปทุมวรรณ", Asked((_d(1007),), _d(1007))),
    ("ป้อมปราบ", Asked((_d(1008),), _d(1008))),
    ("พระขโนง", Asked((_d(1009),), _d(1009))),
    ("มินบุรี", Asked((_d(1010), _d(1015)), _d(1010))),
    ("ลาดกะบัง", Asked((_d(1011),), _d(1011))),
    ("ยานาวา", Asked((_d(1012),), _d(1012))),
    ("สัมพันธวงค์", Asked((_d(1013),), _d(1013))),
    ("พญาไธ", Asked((_d(1014),), _d(1014))),
    ("ธนบุลี", Asked((_d(1015),), _d(1015))),
    ("บางกอกใหย่", Asked((_d(1016),), _d(1016))),
    ("ห้วยขวาน", Asked((_d(1017),), _d(1017))),
    ("คลองสาร", Asked((_d(1018), _d(1046)), _d(1018))),
    ("ตลิ่งชั้น", Asked((_d(1019),), _d(1019))),
    ("บางกอกหน่อย", Asked((_d(1020), _d(1016)), _d(1020))),
    ("บางขุนเทียร", Asked((_d(1021),), _d(1021))),
    ("ภาษีเจริน", Asked((_d(1022),), _d(1022))),
    ("หนองเขม", Asked((_d(1023),), _d(1023))),
    ("ราชบูรณะ", Asked((_d(1024),), _d(1024))),
    ("บางพลัต", Asked((_d(1025),), _d(1025))),
    ("ดินแดน", Asked((_d(1026),), _d(1026))),
    ("บึงกุม", Asked((_d(1027),), _d(1027))),
    ("สาธร", Asked((_d(1028),), _d(1028))),
    ("บางซือ", Asked((_d(1029),), _d(1029))),
    ("จตุจัก", Asked((_d(1030),), _d(1030))),
    ("บางคอแหลบ", Asked((_d(1031),), _d(1031))),
    ("ประเวส", Asked((_d(1032),), _d(1032))),
    ("คองเตย", Asked((_d(1033),), _d(1033))),
    ("สวนหลว", Asked((_d(1034),), _d(1034))),
    ("จอมทอน", Asked((_d(1035),), _d(1035))),
    ("ดอนเมีอง", Asked((_d(1036),), _d(1036))),
    ("ราชเทวิ", Asked((_d(1037),), _d(1037))),
    ("ลาดพล้าว", Asked((_d(1038),), _d(1038))),
    ("วัธนา", Asked((_d(1039),), _d(1039))),
    ("บางแคร์", Asked((_d(1040),), _d(1040))),
    ("หลักสี", Asked((_d(1041),), _d(1041))),
    ("สายใหม", Asked((_d(1042),), _d(1042))),
    ("คันนายว", Asked((_d(1043),), _d(1043))),
    ("สพานสูง", Asked((_d(1044),), _d(1044))),
    ("วังทองหลวง", Asked((_d(1045),), _d(1045))),
    ("คลองสามว้า", Asked((_d(1046),), _d(1046))),
    ("บางนะ", Asked((_d(1047), _d(1005), _d(1050)), _d(1047))),
    ("ทวีวัฒนะ", Asked((_d(1048),), _d(1048))),
    ("ทุ่งคุ", Asked((_d(1049),), _d(1049))),
    ("บางบอล", Asked((_d(1050),), _d(1050))),
    # Places outside Bangkok that look like a district: asked, and kept as typed.
    ("บางใหญ่", Asked((_d(1016),), None)),
    ("เขตบางใหญ่", Asked((_d(1016),), None)),
    ("อำเภอบางใหญ่", Asked((_d(1016),), None)),
    ("บางพลี", Asked((_d(1025),), None)),
    ("เขตบางพลี", Asked((_d(1025),), None)),
    ("บางบัวทอง", Asked((_d(1050),), None)),
    ("บางกรวย", Asked((_d(1004),), None)),
    ("บางเสาธง", Asked((_d(1047),), None)),
    ("ธัญบุรี", Asked((_d(1015),), None)),
    ("เมืองนนทบุรี", Asked((_d(1010),), None)),
    ("นนทบุรี", Asked((_d(1015), _d(1010)), None)),
    ("ปทุมธานี", Asked((_d(1007),), None)),
    ("บางบ่อ", Asked((_d(1050), _d(1029)), None)),
    ("บางปะอิน", Asked((_d(1050), _d(1006), _d(1047)), None)),
    ("บางคูวัด", Asked((_d(1025), _d(1040)), None)),
    ("บางเลน", Asked((_d(1005), _d(1047)), None)),
    ("ลาดบัวหลวง", Asked((_d(1011),), None)),
    # Outside Bangkok and like no district: not found, confirmed, kept as typed.
    ("ปากเกร็ด", Kept()),
    ("ลำลูกกา", Kept()),
    ("พระประแดง", Kept()),
    ("สามโคก", Kept()),
    ("คลองหลวง", Kept()),
    ("ลาดหลุมแก้ว", Kept()),
    ("สมุทรปราการ", Kept()),
]


def _names(runtime: Runtime) -> dict[str, str]:
    with runtime.db.transaction() as session:
        return {agency.code or "": agency.name_th for agency in session.scalars(select(Agency))}


def _saved(runtime: Runtime, user: str) -> tuple[str | None, str]:
    """(agency code, agency_other) of the requester once the intake moved on to the name."""
    assert step(runtime, user) == "name"
    with runtime.db.transaction() as session:
        requester = requesters.find(session, "line", user)
        assert requester is not None and requester.agency_type_code == "district"
        return (requester.agency.code if requester.agency else None), requester.agency_other


def test_the_table_has_every_district_and_enough_rows(runtime: Runtime) -> None:
    assert len(TABLE) >= 40
    districts = {code for code in _names(runtime) if code.startswith("district-")}
    misspelt = {outcome.pick for _, outcome in TABLE if isinstance(outcome, Asked) and outcome.pick}
    assert misspelt == districts  # a misspelling of each of the 50 districts


@pytest.mark.parametrize(("typed", "outcome"), TABLE, ids=[typed.strip() for typed, _ in TABLE])
def test_typed_agency(runtime: Runtime, typed: str, outcome: Saved | Asked | Kept) -> None:
    names = _names(runtime)
    user = "U-agency"
    send(runtime, user, kind="follow")
    send(runtime, user, "สำนักงานเขต")
    replies = send(runtime, user, typed)
    body = texts(replies)

    if isinstance(outcome, Saved):
        assert f"บันทึกหน่วยงาน: {names[outcome.code]}" in body
        assert _saved(runtime, user) == (outcome.code, "")
        return

    assert "บันทึกหน่วยงาน" not in body and step(runtime, user) == "agency_confirm"
    if isinstance(outcome, Kept):
        assert f"ไม่พบ “{typed.strip()}” ในรายการ" in body
        replies = send(runtime, user, "ใช้ชื่อนี้")
    else:
        candidates = [names[code] for code in outcome.candidates]
        if len(candidates) == 1:
            assert f"หมายถึง {candidates[0]} ใช่ไหม" in body
        else:
            assert "หมายถึงหน่วยงานใดต่อไปนี้ ใช่ไหม" in body
            assert all(f"{n}. {name}" in body for n, name in enumerate(candidates, start=1))
        assert "ไม่ใช่ ใช้ชื่อที่พิมพ์" in body
        assert labels(replies) == [agency_label(name) for name in candidates] + [USE_TYPED_LABEL]
        if outcome.pick is None:
            replies = send(runtime, user, "ไม่ใช่ ใช้ชื่อที่พิมพ์")
        elif len(candidates) == 1:
            replies = send(runtime, user, "ใช่")
        else:
            replies = send(runtime, user, names[outcome.pick])  # the button's text
        if outcome.pick is not None:
            assert f"บันทึกหน่วยงาน: {names[outcome.pick]}" in texts(replies)
            assert _saved(runtime, user) == (outcome.pick, "")
            return
    assert f"บันทึกหน่วยงาน: {typed.strip()}" in texts(replies)
    assert _saved(runtime, user) == (None, typed.strip())


def test_candidates_answer_to_numbers_and_another_name_starts_over(runtime: Runtime) -> None:
    names = _names(runtime)
    send(runtime, "U-n", kind="follow")
    send(runtime, "U-n", "2")
    assert "หมายถึงหน่วยงานใดต่อไปนี้" in texts(send(runtime, "U-n", "บางนะ"))
    replies = send(runtime, "U-n", "ใช่")  # yes to three candidates: which one?
    assert "หมายถึงหน่วยงานใดต่อไปนี้" in texts(replies) and step(runtime, "U-n") == "agency_confirm"
    replies = send(runtime, "U-n", "3")  # the third candidate, not the third district
    assert f"บันทึกหน่วยงาน: {names[_d(1050)]}" in texts(replies)

    send(runtime, "U-y", kind="follow")
    send(runtime, "U-y", "2")
    send(runtime, "U-y", "บางใหญ่")
    replies = send(runtime, "U-y", "ใช้ชื่อนี้")  # which name? asked again, nothing saved
    assert "หมายถึง สำนักงานเขตบางกอกใหญ่ ใช่ไหม" in texts(replies) and step(runtime, "U-y") == "agency_confirm"
    replies = send(runtime, "U-y", "ใช่ค่ะ")
    assert f"บันทึกหน่วยงาน: {names[_d(1016)]}" in texts(replies)

    send(runtime, "U-m", kind="follow")
    send(runtime, "U-m", "2")
    send(runtime, "U-m", "บางใหญ่")
    replies = send(runtime, "U-m", "เขตจอมทอง")  # they type the right name instead
    assert f"บันทึกหน่วยงาน: {names[_d(1035)]}" in texts(replies)

    send(runtime, "U-l", kind="follow")
    send(runtime, "U-l", "2")
    send(runtime, "U-l", "บางพลี")
    replies = send(runtime, "U-l", "เลือกจากรายการ")
    assert "(หน้า 1/5)" in texts(replies) and step(runtime, "U-l") == "agency"
