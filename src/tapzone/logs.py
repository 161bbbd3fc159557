"""Logs as one JSON object per line (for a log shipper) or as plain text (for a person at a terminal).

Fields of every line: time (UTC, ISO 8601), level, logger, message; whatever a call passes in `extra`
(the request log passes method, route template, status, duration_ms, request_id, idempotency_key,
device_id, venue_id, staff_id) and the traceback as `exc`. No secret is ever passed to a logger; as a
second line of defence the formatter masks anything that looks like a bearer token in the text.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

LOG_FORMATS = ("json", "text")
# The attributes every LogRecord has; anything else on a record came from `extra` and is a field of the line.
# uvicorn's `color_message` repeats the message with terminal colour codes.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+")


def mask_secrets(text: str) -> str:
    return _BEARER.sub(r"\1***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        line.update(
            (name, value)
            for name, value in vars(record).items()
            if name not in _RECORD_ATTRIBUTES and not name.startswith("_")
        )
        if record.exc_info:
            line["exc"] = mask_secrets(self.formatException(record.exc_info))
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


def logging_config(log_format: str, level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for `tapzone serve` (uvicorn applies it in every worker process).

    uvicorn's own access log stays off: tapzone's request log (`tapzone.request`) replaces it and knows the
    route template, the device and the idempotency key, which uvicorn cannot.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format is one of {', '.join(LOG_FORMATS)}")
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"tapzone": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "tapzone", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
