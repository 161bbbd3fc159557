"""Problem responses in the published OpenAPI schema.

FastAPI documents only the success response and its own 422 validation body, which the API never sends: every
refusal is `application/problem+json` (`problems.py`). Without this, a client generated from the schema — or a
schema fuzzer — meets status codes and bodies the schema says cannot happen. Each operation therefore lists the
problem statuses it can answer with, each described by the problem types that use that status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from tapzone.api.openapi_links import document_links
from tapzone.errors import all_error_types

PROBLEM_SCHEMA_NAME = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}
# Every request can be refused for who sends it (401/403), what it names (404), the state it meets (409), its
# shape (400 malformed, 422 invalid) or its rate (429).
COMMON_STATUSES = (400, 401, 403, 404, 409, 422, 429)
# Writes also need a JSON body of bounded size (413, 415) and an Idempotency-Key (428).
WRITE_STATUSES = (413, 415, 428)
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM_SCHEMA_NAME,
    "description": "RFC 9457 problem details; `type` is stable per failure (see /problems).",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "/problems/<slug>"},
        "title": {"type": "string", "description": "translated into the venue's or the caller's language"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "for invalid-request, invalid-amount and malformed-json: what was wrong where",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}


def install_problem_docs(app: FastAPI) -> None:
    """Wrap `app.openapi` so the generated schema documents the problem responses and the links between
    operations (once, then cached)."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_links(document_problems(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    schema.setdefault("components", {}).setdefault("schemas", {})[PROBLEM_SCHEMA_NAME] = PROBLEM_SCHEMA
    descriptions = _status_descriptions()
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            statuses = COMMON_STATUSES + (WRITE_STATUSES if method in WRITE_METHODS else ())
            responses = operation.setdefault("responses", {})
            for status in statuses:
                documented = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": documented.get("description") or descriptions.get(status, "Refused"),
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                }
    return schema


def _status_descriptions() -> dict[int, str]:
    slugs: dict[int, list[str]] = defaultdict(list)
    for error in all_error_types():
        slugs[error.status].append(error.type)
    return {status: "Problem: " + ", ".join(sorted(types)) for status, types in slugs.items()}
