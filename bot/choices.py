"""Matching what a user typed against a list of choices: by number, by label, or forgivingly by name.

People type district names with or without the word เขต, with Thai digits, with stray spaces
and small typos. Only a name that is the same once those are normalised away is taken at once;
a near miss is offered as a candidate for the user to confirm, because a look-alike place
outside Bangkok (บางใหญ่, บางพลี) must never be recorded silently as a district (บางกอกใหญ่,
บางพลัด): the KPI breakdown by agency would count it wrongly.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from pythainlp.util import normalize as thai_normalize

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
_NOISE = re.compile(r"[\s\u200b\u200c\u200d\ufeff.,:;!?'\"()\[\]/\\\-_–—]+")
# Words that say what kind of office it is but not which one; users leave them out.
_GENERIC_PREFIXES = ("สำนักงานเขต", "สนง.เขต", "สนงเขต", "เขต", "สำนักงาน", "สนง.", "สำนัก")
# The city, added after a district's name (`เขตบางรัก กทม.`), and the English words of the aliases.
_GENERIC_SUFFIXES = ("กรุงเทพมหานคร", "กรุงเทพฯ", "กรุงเทพ", "กทม", "districtoffice", "district")
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
    """Lower case, Thai digits to Arabic, no spaces or punctuation, NFC.

    PyThaiNLP's normaliser also mends what keyboards produce but readers do not see: a vowel or
    tone mark typed twice, marks typed in the other order, `ํา` typed for `ำ`.
    """
    text = unicodedata.normalize("NFC", text or "").translate(_THAI_DIGITS).lower()
    return thai_normalize(_NOISE.sub("", text))


@functools.lru_cache(maxsize=4096)
def _core(text: str) -> str:
    """The distinguishing part of an agency name: `สำนักงานเขตพระนคร` and `เขต พระนคร` both give `พระนคร`."""
    value = normalize(text)
    for suffix in _GENERIC_SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix):
            value = value[: -len(suffix)]
            break
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


MAX_CANDIDATES = 3


@dataclass(frozen=True)
class NameMatch:
    """What a typed name found: `exact` (take it at once) or `candidates` to ask about, best first."""

    exact: Choice | None = None
    candidates: list[Choice] = field(default_factory=list)


def by_name(text: str, choices: Sequence[Choice], *, cutoff: float = 0.6) -> NameMatch:
    """The choice whose name (or alias) the text is once normalised, else up to three near misses.

    Normalised means: with or without สำนักงานเขต/เขต/กทม., spaces, punctuation, Thai digits
    and doubled or reordered Thai marks. Anything else, however close, is only a candidate.
    """
    typed = _core(text)
    if not typed:
        return NameMatch()
    for choice in choices:
        if typed == _core(choice.name) or typed in {_core(alias) for alias in choice.aliases}:
            return NameMatch(exact=choice)
    scored = []
    for choice in choices:
        core = _core(choice.name)
        score = difflib.SequenceMatcher(None, typed, core, autojunk=False).ratio()
        if len(typed) >= 3 and typed in core:
            score = max(score, 0.9)  # the start of a long name: `ป้อมปราบ`
        if score >= cutoff:
            scored.append((score, choice))
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if not scored:
        return NameMatch()
    # Candidates far behind the best one only add noise to the question.
    best = scored[0][0]
    return NameMatch(candidates=[choice for score, choice in scored if score >= best - 0.15][:MAX_CANDIDATES])
