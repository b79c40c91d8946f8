"""Splitting an outgoing text into as many chat messages as a channel's length limit needs.

Nothing is ever cut off: a text longer than the limit becomes several messages, cut at the
best boundary in the last half of the allowed length, in this order of preference: a blank
line (paragraph), a line break, the end of a sentence (`.`, `?`, `!`, `…` before a space),
any space (Thai separates sentences and phrases with a space, not punctuation), a word
boundary found by PyThaiNLP (a Thai run without spaces), and only for one "word" longer than
the limit itself (a very long URL) a cut between two characters, never inside a character
and its combining marks. The whitespace at a cut is the only thing dropped: the message
boundary takes its place.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

log = logging.getLogger(__name__)

# Boundaries from the most to the least natural; a match's start is where a part ends and its
# end is where the next part begins, so the separator itself is what is dropped.
_BOUNDARIES = (
    re.compile(r"[ \t]*\n[ \t\r\f\v]*\n\s*"),  # a blank line: between paragraphs
    re.compile(r"[ \t]*\n\s*"),  # a line break
    re.compile(r"(?<=[.!?…。])\s+"),  # after the end of a sentence
    re.compile(r"\s+"),  # any space
)
# How far past the limit the word segmenter looks, so the word at the limit is seen whole.
_LOOKAHEAD = 60


def split_text(text: str, limit: int) -> list[str]:
    """The text in parts of at most `limit` characters; joined at their boundaries they are the text."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    parts: list[str] = []
    rest = text
    while len(rest) > limit:
        end, resume = _cut(rest, limit)
        parts.append(rest[:end])
        rest = rest[resume:]
    if rest.strip() or not parts:  # whitespace left after the last cut is no message of its own
        parts.append(rest)
    return parts


def split_messages(payload: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Channel-neutral messages (see clinic.outbox) with every text split to `limit`.

    A message's quick replies go with its last part, where the person will look for them.
    """
    out: list[dict[str, Any]] = []
    for item in payload:
        texts = split_text(str(item.get("text", "")), limit)
        for index, part in enumerate(texts):
            message: dict[str, Any] = {"text": part}
            if index == len(texts) - 1 and item.get("quick_replies"):
                message["quick_replies"] = item["quick_replies"]
            out.append(message)
    return out


def _cut(text: str, limit: int) -> tuple[int, int]:
    """Where the first part ends and the rest begins, for a text longer than `limit`."""
    found = _separator(text, limit, floor=limit // 2)
    if found is not None:
        return found
    word = _word_boundary(text, limit)
    if word is not None and word >= limit // 2:
        return word, word
    found = _separator(text, limit, floor=1)
    if found is not None:
        return found
    cut = limit
    # Never separate a Thai vowel or tone mark (a combining mark) from the letter it sits on.
    while cut > 1 and unicodedata.category(text[cut])[0] == "M":
        cut -= 1
    return cut, cut


def _separator(text: str, limit: int, *, floor: int) -> tuple[int, int] | None:
    """The most natural separator starting between `floor` and `limit`: (part end, next start)."""
    window = text[: limit + 1]  # a separator starting right at the limit still counts
    for pattern in _BOUNDARIES:
        best = None
        for match in pattern.finditer(window):
            if floor <= match.start() <= limit:
                best = match
        if best is not None:
            end = best.end()
            # The separator may run past the window (a long run of blank lines).
            while end < len(text) and text[end].isspace():
                end += 1
            return best.start(), end
    return None


def _word_boundary(text: str, limit: int) -> int | None:
    """The last word boundary after the start and at or before `limit` (PyThaiNLP's newmm for Thai)."""
    from pythainlp.tokenize import word_tokenize

    window = text[: limit + _LOOKAHEAD]
    words = word_tokenize(window, engine="newmm", keep_whitespace=True)
    if "".join(words) != window:  # never seen with newmm; the caller then cuts between characters
        log.warning("word segmentation did not reproduce the text")
        return None
    offset, best = 0, None
    for word in words:
        offset += len(word)
        if offset > limit:
            break
        best = offset
    return best
