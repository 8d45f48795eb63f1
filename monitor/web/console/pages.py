"""What every console page shares beyond rendering: the error page, and the route class that
turns a missing session into a trip to the sign-in page and a refusal into a 403 page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from monitor.web.console.deps import Forbidden, SignInNeeded, Visitor, login_url, monitor_of
from monitor.web.console.render import render


def error_page(
    request: Request, who: Visitor | None, status: int, title: str, message: str
) -> Response:
    """A page saying what went wrong, in the console's frame."""
    base = {"title": title, "message": message, "now": monitor_of(request).ctx.clock.now()}
    context = who.page(request, **base) if who else base
    return render(request, "console/error.html", context, status_code=status)


class ConsoleRoute(APIRoute):
    """A console page: SignInNeeded → 303 to the sign-in page; Forbidden → a 403 page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded as e:
                if request.method in ("GET", "HEAD"):
                    return RedirectResponse(login_url(request, e.back_to), status_code=303)
                return error_page(
                    request, None, 403, "Signed out", "Your session ended: sign in again."
                )
            except Forbidden as e:
                return error_page(request, None, 403, "Not allowed", str(e))

        return route
