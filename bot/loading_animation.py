"""LINE's loading animation while the worker prepares an answer that takes more than a second.

Most answers are ready in well under a second, and then nothing is shown. When reading an
event takes longer (an image or a file to download, a busy database), a timer starts the
animation in the person's chat; LINE hides it as soon as the bot's answer arrives. It is a
courtesy: it runs on the timer's own thread with a short timeout, and a failure is only logged,
never in the way of the answer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot import line_events
from bot.channel_error import ChannelApiError
from bot.line_api import LineApi
from clinic.runtime import Runtime

log = logging.getLogger(__name__)

SHOW_AFTER = 1.0  # seconds of preparing before the animation is worth showing
LOADING_SECONDS = 20  # LINE takes 5 to 60, in steps of 5; the answer ends it sooner


@contextmanager
def shown_if_slow(
    runtime: Runtime, channel: str, payload: dict[str, Any], *, after: float = SHOW_AFTER
) -> Iterator[None]:
    """Around the work on one stored event: the animation starts if the work is still going after `after` s."""
    chat = line_events.loading_chat(payload) if channel == "line" and runtime.config.line_enabled else None
    if chat is None:
        yield
        return
    timer = threading.Timer(after, _start, args=(LineApi(runtime.config), chat))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _start(api: LineApi, chat: str) -> None:
    try:
        api.show_loading(chat, LOADING_SECONDS)
    except ChannelApiError as exc:
        log.info("loading animation for %s not shown (%s)", chat, exc)
    except Exception:  # noqa: BLE001 - a courtesy on its own thread must never raise
        log.exception("loading animation for %s failed", chat)
