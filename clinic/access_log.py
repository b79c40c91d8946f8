"""gunicorn's access log without the desk's polling: errors and real page views only.

Every open desk page asks `/live` every 5 seconds, and monitors ask `/healthz`; logging
each of those buried the requests a person looks for (1,280 lines in 17 idle minutes).
A poll, a health check or a static file is logged only when it fails (status 400 and up).
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

QUIET_PATHS = ("/live", "/healthz")
QUIET_PREFIXES = ("/desk/static/", "/bot/static/")


def is_routine(path: str, status: int) -> bool:
    """A successful poll, health check or static file: nothing a person needs to read."""
    if status >= 400:
        return False
    return path in QUIET_PATHS or path.startswith(QUIET_PREFIXES)


class QuietAccessLogger(Logger):  # type: ignore[misc]
    """`clinic run` passes this as gunicorn's `--logger-class`."""

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        status = getattr(resp, "status_code", None) or int(str(getattr(resp, "status", "0")).split(" ")[0] or 0)
        if is_routine(environ.get("PATH_INFO", ""), int(status)):
            return
        super().access(resp, req, environ, request_time)
