"""Hostile request bodies are refused before any router or parser sees them.

An ASGI middleware reads the body itself, up to `MAX_BODY_BYTES` (the `Content-Length` is checked first, and a
streamed body without one is counted as it arrives), then looks at it without building objects: JSON nested
deeper than `MAX_JSON_DEPTH` would cost the parser recursion (CPython's decoder raises RecursionError, which
would surface as a 5xx), and text the database cannot store (NUL, which PostgreSQL refuses in text columns; lone
UTF-16 surrogates, which are not UTF-8) would fail deep inside a use case. API writes must be JSON (415
otherwise). Each refusal is problem+json and happens before any transaction, so nothing changes. The body the
app then reads is the buffered one, replayed once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tapzone.api.problems import problem_response
from tapzone.errors import InvalidRequest, NestingTooDeep, PayloadTooLarge, TapzoneError, UnsupportedMediaType

MAX_BODY_BYTES = 64 * 1024  # the largest real request (a settlement with 20 other media) is under 4 KiB
MAX_JSON_DEPTH = 32  # the deepest request schema nests 4 levels
API_PREFIX = "/api/"
# A provider's signature covers the raw bytes it sends, whatever it calls them; the webhook checks the body itself.
CONTENT_TYPE_EXEMPT = ("/api/v1/payment-providers/",)
_METHODS_WITHOUT_BODY = frozenset({"GET", "HEAD", "OPTIONS"})
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


def install_body_limits(app: FastAPI) -> None:
    app.add_middleware(BodyLimits)


class BodyLimits:
    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            if scope["method"] in _METHODS_WITHOUT_BODY:
                await self.app(scope, receive, send)
                return
            body = await self._read_body(scope, receive)
            if body:
                self._check_body(scope, body)
        except TapzoneError as error:
            await problem_response(Request(scope), error)(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            # Refused unread: a client announcing 10 GB never gets to send them.
            raise PayloadTooLarge(f"request bodies are limited to {self.max_body_bytes} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:  # streamed (chunked) bodies carry no Content-Length to check first
                raise PayloadTooLarge(f"request bodies are limited to {self.max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _check_body(self, scope: Scope, body: bytes) -> None:
        media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        is_json = media_type == "application/json" or media_type.endswith("+json")
        path: str = scope["path"]
        if path.startswith(API_PREFIX) and not is_json and not path.startswith(CONTENT_TYPE_EXEMPT):
            raise UnsupportedMediaType("send the body as application/json")
        if is_json:
            depth = json_depth(body)
            if depth > self.max_depth:
                raise NestingTooDeep(f"JSON may nest at most {self.max_depth} levels, this nests {depth}")
            _check_json_text(body)


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in `body`, counted without parsing it (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _check_json_text(body: bytes) -> None:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return  # malformed: the router's parser answers malformed-json with the position
    for text in _strings(document):
        if "\x00" in text:
            raise InvalidRequest("text may not contain NUL characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidRequest("text may not contain unpaired UTF-16 surrogates") from error


def _strings(value: Any) -> Iterator[str]:
    # Depth is already bounded, so this recursion is too.
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_url(scope: Scope) -> None:
    # NUL reaches a query as %00; PostgreSQL cannot compare or store it, and no identifier of ours contains it.
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        raise InvalidRequest("the URL may not contain NUL characters")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: disconnects, for streaming responses

    return replay
