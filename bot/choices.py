"""Matching what a user typed against a list of choices: by number, by label, or forgivingly by name.

People type district names with or without the word เขต, with Thai digits, with stray spaces
and small typos; all of those must still find the right agency.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_NOISE = re.compile(r"[\s\u200b\u200c\u200d\ufeff.,:;!?'\"()\[\]/\\\-_–—]+")
# Words that say what kind of office it is but not which one; users leave them out.
_GENERIC_PREFIXES = ("สำนักงานเขต", "สนง.เขต", "สนงเขต", "เขต", "สำนักงาน", "สนง.", "สำนัก")
# Shorter forms for chat buttons, which cut labels at 20 characters.
_ABBREVIATIONS = (
    ("สำนักงานเขต", "เขต"),
    ("กรุงเทพมหานคร", "กทม."),
    ("สำนักงาน", "สนง."),
)
MAX_LABEL = 20


@dataclass(frozen=True)
class Choice:
    """One option offered to the user. `key` is what the program keeps; `label` fits a button."""

    key: str
    name: str
    label: str
    aliases: tuple[str, ...] = ()


def normalize(text: str) -> str:
    """Lower case, Thai digits to Arabic, no spaces or punctuation, NFC."""
    text = unicodedata.normalize("NFC", text or "").translate(_THAI_DIGITS).lower()
    return _NOISE.sub("", text)


def _core(text: str) -> str:
    """The distinguishing part of an agency name: `สำนักงานเขตพระนคร` and `เขต พระนคร` both give `พระนคร`."""
    value = normalize(text)
    for prefix in _GENERIC_PREFIXES:
        if value.startswith(prefix) and len(value) > len(prefix):
            return value[len(prefix) :]
    return value


def short_label(name: str) -> str:
    """A button label of at most 20 characters, abbreviated the way BMA staff write."""
    label = name.strip()
    for long, short in _ABBREVIATIONS:
        if len(label) <= MAX_LABEL:
            break
        label = label.replace(long, short)
    label = re.sub(r"\s*\(.*?\)\s*", "", label) if len(label) > MAX_LABEL else label
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def agency_label(name: str) -> str:
    """Agency buttons all read `เขต…` for districts, so a page of them looks alike."""
    name = name.strip()
    if name.startswith("สำนักงานเขต"):
        name = "เขต" + name[len("สำนักงานเขต") :]
    return short_label(name)


def by_number_or_label(text: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice whose 1-based number, label, name or alias the text is exactly (ignoring case and spacing)."""
    typed = normalize(text)
    if not typed:
        return None
    if typed.isdigit():
        index = int(typed)
        return choices[index - 1] if 1 <= index <= len(choices) else None
    for choice in choices:
        if typed in {normalize(choice.label), normalize(choice.name), normalize(choice.key)}:
            return choice
        if typed in {normalize(alias) for alias in choice.aliases}:
            return choice
    return None


def by_name(text: str, choices: Sequence[Choice], *, cutoff: float = 0.75) -> list[Choice]:
    """Choices whose name is close to the text, best first; one exact hit if there is one.

    A result of one means a confident match; several mean the user should pick.
    """
    typed = _core(text)
    if not typed:
        return []
    cores = {choice.key: _core(choice.name) for choice in choices}
    exact = [choice for choice in choices if cores[choice.key] == typed]
    if exact:
        return exact[:1]
    contained = [choice for choice in choices if len(typed) >= 3 and typed in cores[choice.key]]
    if len(contained) == 1:
        return contained
    scored = sorted(
        ((difflib.SequenceMatcher(None, typed, cores[choice.key]).ratio(), choice) for choice in choices),
        key=lambda pair: pair[0],
        reverse=True,
    )
    close = [choice for score, choice in scored if score >= cutoff]
    if len(close) > 1 and scored[0][0] - scored[1][0] >= 0.1:
        return close[:1]  # one clearly better than the rest
    return (contained or close)[:5]
