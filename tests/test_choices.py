"""Matching typed text against choices (bot/choices.py), without a conversation around it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.choices import MAX_CANDIDATES, Choice, _core, agency_label, by_name, by_number_or_label, normalize

AGENCIES = Path(__file__).resolve().parent.parent / "clinic" / "data" / "agencies.csv"
DISTRICTS = [
    Choice(row["code"], row["name_th"], agency_label(row["name_th"]), (row["name_en"],))
    for row in csv.DictReader(AGENCIES.open(encoding="utf-8"))
    if row["agency_type"] == "district"
]
OUTSIDE_BANGKOK = (
    "บางใหญ่", "บางพลี", "บางบัวทอง", "บางกรวย", "ปากเกร็ด", "ลำลูกกา", "บางเสาธง", "พระประแดง", "สามโคก",
    "ธัญบุรี", "คลองหลวง", "บางบ่อ", "เมืองนนทบุรี", "นนทบุรี", "ลาดหลุมแก้ว", "บางปะอิน", "บางคูวัด", "บางเลน",
    "ปทุมธานี", "ลาดบัวหลวง", "บางปลาม้า", "บางบาล", "สมุทรปราการ", "เมืองสมุทรปราการ", "บางกระเจ้า",
)  # fmt: skip


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  เขต  บางรัก ", "เขตบางรัก"),
        ("๑๒๓", "123"),
        ("Bang Rak", "bangrak"),
        ("สนง.เขต", "สนงเขต"),
        ("บางกะปิิ", "บางกะปิ"),  # a vowel typed twice
        ("ส\u0e4d\u0e32นัก", "สำนัก"),  # ํ + า for ำ
        ("พระ\u200bนคร", "พระนคร"),  # a zero-width space pasted from a document
    ],
)
def test_normalize(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["สำนักงานเขตพระนคร", "เขตพระนคร", "เขต พระนคร", "สนง.เขตพระนคร", "พระนคร", "เขตพระนคร กทม.",
     "พระนคร กรุงเทพมหานคร", "เขตพระนคร กรุงเทพฯ"],
)  # fmt: skip
def test_core_drops_the_generic_words(typed: str) -> None:
    assert _core(typed) == "พระนคร"


def test_every_district_is_found_exactly_by_its_name_with_or_without_the_generic_words() -> None:
    for choice in DISTRICTS:
        short = choice.name.removeprefix("สำนักงานเขต")
        for typed in (choice.name, short, f"เขต{short}", f"เขต {short}", f"{short} กทม.", choice.aliases[0]):
            assert by_name(typed, DISTRICTS).exact == choice, typed


@pytest.mark.parametrize("typed", OUTSIDE_BANGKOK)
def test_a_place_outside_bangkok_is_never_taken_as_a_district(typed: str) -> None:
    for form in (typed, f"เขต{typed}", f"อำเภอ{typed}"):
        match = by_name(form, DISTRICTS)
        assert match.exact is None
        assert len(match.candidates) <= MAX_CANDIDATES


def test_near_misses_are_candidates_best_first_never_exact() -> None:
    match = by_name("บางใหญ่", DISTRICTS)
    assert match.exact is None and [c.key for c in match.candidates] == ["district-1016"]
    match = by_name("บางนะ", DISTRICTS)
    assert [c.key for c in match.candidates] == ["district-1047", "district-1005", "district-1050"]
    assert by_name("ป้อมปราบ", DISTRICTS).candidates[0].key == "district-1008"  # the start of a long name
    assert by_name("บาง", DISTRICTS).exact is None and len(by_name("บาง", DISTRICTS).candidates) == MAX_CANDIDATES


def test_nothing_close_is_nothing() -> None:
    assert by_name("ปากเกร็ด", DISTRICTS).candidates == []
    assert by_name("", DISTRICTS).exact is None and by_name("  ", DISTRICTS).candidates == []
    assert by_name("เขต", DISTRICTS).exact is None


def test_by_number_or_label() -> None:
    assert by_number_or_label("๑", DISTRICTS) == DISTRICTS[0]
    assert by_number_or_label("50", DISTRICTS) == DISTRICTS[49]
    assert by_number_or_label("51", DISTRICTS) is None and by_number_or_label("0", DISTRICTS) is None
    assert by_number_or_label("เขตบางรัก", DISTRICTS) == DISTRICTS[3]  # the button label
    assert by_number_or_label("บางรัก", DISTRICTS) is None  # a name is for by_name


def test_agency_labels_fit_a_button() -> None:
    assert all(len(choice.label) <= 20 for choice in DISTRICTS)
