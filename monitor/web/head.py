"""HEAD wherever GET answers: FastAPI routes only the methods declared, so a HEAD was 405.
This ASGI middleware hands the request on as a GET and drops the body of the answer, keeping
its status and headers (Content-Length included), as HTTP asks (RFC 9110 §9.3.2). The
OpenAPI document stays one operation per GET.

The console's live feed (`/live/…`) is left out: it is an endless stream, which a HEAD
turned GET would hold open for nothing; it stays 405.
"""

from __future__ import annotations

from monitor.web.limits import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """ASGI middleware answering HEAD as GET, without the body (not on `/live/` streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _is_head(scope):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


def _is_head(scope: Scope) -> bool:
    return (
        scope["type"] == "http"
        and scope.get("method") == "HEAD"
        and not str(scope.get("path", "")).startswith("/live/")
    )
