"""How a Web API method refuses a call: with one of Slack's own error codes."""

from __future__ import annotations


class SlackError(Exception):
    """A Slack error code (`channel_not_found`, `name_taken` …) sent back as `{"ok": false}`.

    `status` and `headers` exist for the few errors Slack sends with a non-200 status, such as
    `ratelimited` (HTTP 429 with `Retry-After`).
    """

    def __init__(
        self, code: str, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.headers = headers or {}
