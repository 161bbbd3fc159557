"""Watch every HTTP request once: its route template, status and duration, told to a callback when done.

A plain ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, which would buffer streamed answers
(the gate monitor's event stream) and cost a task per request. The duration runs until the response
headers go out: for an ordinary answer the body follows at once, and for an event stream the hours
afterwards are not latency.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
UNMATCHED = "<unmatched>"  # one label for every path no route knows: scanners must not add label values
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_IDEMPOTENCY_KEY_CHARS_MAX = 128


@dataclass(frozen=True, slots=True)
class ObservedRequest:
    method: str
    route: str  # the route's template, e.g. /api/v1/media/{uid}/tab — never the raw path
    status: int
    duration_s: float
    request_id: str
    idempotency_key: str | None
    device_id: int | None
    venue_id: int | None
    staff_id: int | None


class RouteTemplates:
    """Route object → full path template. FastAPI puts the route *as declared in its router* into the scope,
    without the prefix it was included under, so the app's own route list supplies the full template."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._templates: dict[int, list[tuple[re.Pattern[str], str]]] | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict[int, list[tuple[re.Pattern[str], str]]]:
        found: dict[int, list[tuple[re.Pattern[str], str]]] = {}
        for context in iter_route_contexts(self._app.routes):
            template, regex = context.path_format, getattr(context, "path_regex", None)
            if template is None or regex is None:
                continue
            found.setdefault(id(context.original_route), []).append((regex, template))
        return found

    def template(self, scope: Scope) -> str:
        if self._templates is None:  # built on the first request, once every router is included
            with self._lock:
                if self._templates is None:
                    self._templates = self._build()
        route: BaseRoute | None = scope.get("route")
        if route is None:
            mount = str(scope.get("root_path", ""))  # a mounted app (static files) has no route object of its own
            return f"{mount}/{{path}}" if mount and "endpoint" in scope else UNMATCHED
        candidates = self._templates.get(id(route), [])
        if len(candidates) == 1:
            return candidates[0][1]
        for regex, template in candidates:  # one router object included under two prefixes
            if regex.match(str(scope.get("path", ""))):
                return template
        return str(getattr(route, "path_format", UNMATCHED))


def request_id_of(scope: Scope) -> str:
    """The caller's X-Request-ID when it is a plain token (it lands in logs), else a fresh one."""
    for name, value in scope.get("headers", ()):
        if name == REQUEST_ID_HEADER.encode():
            text = str(value.decode("latin-1"))
            if _REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def _idempotency_key_of(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"idempotency-key":
            return value.decode("latin-1").strip()[:_IDEMPOTENCY_KEY_CHARS_MAX] or None
    return None


def _who(scope: Scope) -> tuple[int | None, int | None, int | None]:
    """Device, venue and staff member, as the authentication step left them in the request state."""
    state: MutableMapping[str, Any] = scope.get("state") or {}
    return state.get("device_id"), state.get("venue_id"), state.get("staff_id")


class ObserveRequests:
    def __init__(self, app: ASGIApp, *, routes: RouteTemplates, done: Callable[[ObservedRequest], None]) -> None:
        self.app = app
        self.routes = routes
        self.done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        scope.setdefault("state", {})  # shared with request.state, where authentication notes the caller
        status = 500  # what the client gets if the app fails before answering
        finished = False

        def finish(status_code: int) -> None:
            nonlocal finished
            if finished:
                return
            finished = True
            device_id, venue_id, staff_id = _who(scope)
            self.done(
                ObservedRequest(
                    method=scope["method"],
                    route=self.routes.template(scope),
                    status=status_code,
                    duration_s=time.perf_counter() - started,
                    request_id=request_id,
                    idempotency_key=_idempotency_key_of(scope),
                    device_id=device_id,
                    venue_id=venue_id,
                    staff_id=staff_id,
                )
            )

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
                finish(status)
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            finish(status)
