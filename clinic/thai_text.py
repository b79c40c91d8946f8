"""Thai text as words: the one segmentation the knowledge base and the ticket search share.

PyThaiNLP's `newmm` tokenizer runs offline from the dictionary inside its wheel. Questions
arrive as staff type them in chat: run-on Thai without spaces, Thai digits, repeated
characters, English loanwords and chat particles. `words()` gives what a ranker should
compare: normalised, lower-cased, without particles and punctuation, plus every domain term
(`clinic/data/thai_domain_terms.txt`) found in the text, so `หนังสือภายนอก` typed with or
without a space matches the same article.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# A token worth keeping has a Thai letter, a Latin letter or a digit.
_WORDLIKE = re.compile(r"[\u0e01-\u0e2e\u0e30-\u0e4ea-z0-9]")
_SPACES = re.compile(r"\s+")
# Chat particles and fillers that PyThaiNLP's stop-word list does not have.
_CHAT_FILLERS = frozenset(
    "ครับ คับ ค่ะ คะ ค่า คร้าบ จ้า จ้ะ จ๊ะ นะ นะคะ นะครับ ฮะ ฮับ อ่ะ อะ เนอะ หน่อย ด้วย รบกวน สอบถาม ขอสอบถาม "
    "ขอถาม อยากทราบ อยากถาม ทราบ ช่วย บอก แนะนำ ว่า ยังไง อย่างไร ไหม มั้ย มั๊ย หรือเปล่า รึเปล่า ป่าว "
    "please pls plz hi hello ครับผม ค่ะๆ".split()
)


@cache
def domain_terms() -> tuple[str, ...]:
    """Compound terms of the clinic's work, longest first (the custom dictionary)."""
    text = resources.files("clinic.data").joinpath("thai_domain_terms.txt").read_text(encoding="utf-8")
    terms = {normalize(line.split("#", 1)[0]) for line in text.splitlines()}
    return tuple(sorted((t for t in terms if t), key=len, reverse=True))


# Function words that say nothing about what is asked. PyThaiNLP's own list (about 1,000 words) is
# too eager here: it drops ภายนอก, ภายใน, ส่ง and ใช้, which tell one article from another.
_FUNCTION_WORDS = frozenset(
    "การ ความ ที่ ของ และ หรือ ใน จาก กับ แก่ แต่ ซึ่ง คือ เป็น ได้ มี ให้ จะ ก็ ถ้า เมื่อ แล้ว นี้ นั้น "
    "อยู่ โดย ต้อง ควร ทำ เรา ผม ดิฉัน หนู เค้า เขา คุณ ท่าน เรื่อง อัน ไร".split()
)


def _stopwords() -> frozenset[str]:
    return _FUNCTION_WORDS | _CHAT_FILLERS


@cache
def _dictionary():  # type: ignore[no-untyped-def]
    """PyThaiNLP's word list with the domain terms added (built once per process)."""
    from pythainlp.corpus import thai_words
    from pythainlp.util import Trie

    return Trie(set(thai_words()) | set(domain_terms()))


def normalize(text: str) -> str:
    """NFC, lower case, Thai digits as Arabic, PyThaiNLP's fixes for doubled or misordered marks."""
    from pythainlp.util import normalize as thai_normalize

    text = unicodedata.normalize("NFC", text or "").translate(_THAI_DIGITS).lower()
    return _SPACES.sub(" ", thai_normalize(text)).strip()


def tokenize(text: str) -> list[str]:
    """Every word of the text in order (stop words included), for display and phrase search."""
    from pythainlp.tokenize import word_tokenize

    normal = normalize(text)
    if not normal:
        return []
    return [w for w in word_tokenize(normal, custom_dict=_dictionary(), engine="newmm", keep_whitespace=False)
            if _WORDLIKE.search(w)]  # fmt: skip


@cache
def _parts(term: str) -> tuple[str, ...]:
    """A compound domain term's own words (`หนังสือภายนอก` → `หนังสือ`, `ภายนอก`), by the plain dictionary."""
    from pythainlp.tokenize import word_tokenize

    parts = [w for w in word_tokenize(term, engine="newmm", keep_whitespace=False) if _WORDLIKE.search(w)]
    return tuple(parts) if len(parts) > 1 else ()


def words(text: str) -> list[str]:
    """The words a ranker compares: content words, each compound term also as its parts.

    A compound is kept whole and split, so `หนังสือภายนอก`, `หนังสือ ภายนอก` and a sentence that
    mentions `หนังสือ` alone all share words with an article about external letters.
    """
    stop = _stopwords()
    terms = set(domain_terms())
    found: list[str] = []
    for word in tokenize(text):
        if word in stop:
            continue
        found.append(word)
        if word in terms:
            found += [part for part in _parts(word) if part not in stop]
    squeezed = normalize(text).replace(" ", "")
    seen = set(found)
    for term in domain_terms():
        if term not in seen and term.replace(" ", "") in squeezed:
            found.append(term)
            seen.add(term)
    return found


def segmented(text: str) -> str:
    """The text as space-separated words (compounds also as their parts), for a full-text index."""
    out: list[str] = []
    terms = set(domain_terms())
    for word in tokenize(text):
        out.append(word)
        if word in terms:
            out += _parts(word)
    return " ".join(out)
