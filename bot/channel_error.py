"""The one error the channel clients raise, so delivery decides retry or give-up in one place."""

from __future__ import annotations


class ChannelApiError(Exception):
    """A LINE or Graph API call failed.

    status is the HTTP status (0 when the API could not be reached); detail is the API's own
    error text, kept for staff to read; retry_after is the API's hint in seconds, if any.
    """

    def __init__(self, status: int, detail: str, *, retry_after: float | None = None, transient: bool | None = None):
        super().__init__(f"HTTP {status}: {detail}" if status else detail)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after
        self._transient = transient

    @property
    def transient(self) -> bool:
        """Worth retrying: rate limits, server errors and network failures."""
        if self._transient is not None:
            return self._transient
        return self.status == 0 or self.status == 429 or self.status >= 500
