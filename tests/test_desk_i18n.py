"""Every text the desk's templates translate has a Thai entry (Thai is the default language)."""

from __future__ import annotations

import re
from pathlib import Path

from desk.i18n import THAI

TEMPLATES = Path(__file__).parent.parent / "desk" / "templates"
CALL = re.compile(r"""\bt\((["'])(.+?)\1\)""")


def test_every_translated_text_in_the_templates_has_thai() -> None:
    used = {match.group(2) for path in TEMPLATES.rglob("*.html") for match in CALL.finditer(path.read_text())}
    assert len(used) > 50
    missing = sorted(text for text in used if text not in THAI)
    assert missing == []


def test_thai_entries_are_thai() -> None:
    thai_letters = re.compile(r"[\u0E00-\u0E7F]")
    assert all(thai_letters.search(value) for value in THAI.values())
