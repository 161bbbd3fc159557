"""Structured logs: one JSON object per request with the route template, the device and the idempotency key,
and never a token."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tapzone.api.metrics import REQUEST_LOGGER
from tapzone.logs import JsonFormatter, mask_secrets
from tests.api.conftest import Api
from tests.databases import SqliteTemplate


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, formatted as `tapzone serve --log-format json` formats it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root, request_log = logging.getLogger(), logging.getLogger(REQUEST_LOGGER)
    old_level = request_log.level
    root.addHandler(handler)
    request_log.setLevel(logging.INFO)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        request_log.setLevel(old_level)


def test_a_request_logs_one_json_line_with_key_device_and_no_token(api: Api, log_lines: io.StringIO) -> None:
    api.issue("LOG1", "prepaid", 5000)
    session = api.sessions["kim"]
    log_lines.truncate(0)
    log_lines.seek(0)
    response = api.post(
        "/media/LOG1/sales",
        {"items": [{"product_id": api.world.beer_id}]},
        key="key-for-the-log",
        **{"X-Request-ID": "req-42"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "req-42"

    text = log_lines.getvalue()
    requests = [line for line in map(json.loads, text.splitlines()) if line["logger"] == REQUEST_LOGGER]
    assert len(requests) == 1, text
    line = requests[0]
    assert line["route"] == "/api/v1/media/{uid}/sales"  # the template: medium numbers stay out of the log
    assert (line["method"], line["status"], line["level"]) == ("POST", 201, "info")
    assert line["idempotency_key"] == "key-for-the-log"
    assert (line["device_id"], line["venue_id"], line["staff_id"]) == (
        api.world.till_id,
        api.world.venue_id,
        api.world.cashier_id,
    )
    assert line["request_id"] == "req-42"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")
    for secret in (api.till_token, session):
        assert secret not in text
    assert "LOG1" not in text


def test_a_hostile_request_id_is_replaced(api: Api, log_lines: io.StringIO) -> None:
    response = api.client.get("/api/v1/health", headers={"X-Request-ID": 'x"\n{"level":"forged"}'})
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 32  # a fresh one; the caller's text never reaches the log
    assert "forged" not in log_lines.getvalue()


def test_the_formatter_masks_a_bearer_token_that_slipped_into_a_message() -> None:
    record = logging.LogRecord(
        "tapzone.x", logging.WARNING, __file__, 1, "header was %s", ("Bearer abc.DEF-123",), None
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "header was Bearer ***"
    assert mask_secrets("authorization: bearer s3cr3t, next") == "authorization: bearer ***, next"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
def test_serve_writes_only_json_lines(tmp_path: Path, sqlite_template: SqliteTemplate) -> None:
    """The real `tapzone serve`: uvicorn's own lines and the request log are JSON, uvicorn's access log is off."""
    url = sqlite_template.clone(tmp_path / "serve.db")
    tapzone = [str(Path(sys.executable).parent / "tapzone")]
    port = _free_port()
    server = subprocess.Popen(
        [*tapzone, "serve", "--port", str(port), "--database-url", url],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "TAPZONE_METRICS_TOKEN": ""},
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", headers={"Idempotency-Key": "k-serve"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "tapzone serve did not start"
                time.sleep(0.2)
        assert health.status_code == 200
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics")  # this client is on loopback
        assert metrics.status_code == 200 and "tapzone_bookings_total" in metrics.text
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
    lines = [json.loads(line) for line in errors.splitlines() if line.strip()]
    assert any(line["logger"].startswith("uvicorn") for line in lines), errors
    requests = [line for line in lines if line["logger"] == REQUEST_LOGGER]
    assert [(line["route"], line["status"], line["idempotency_key"]) for line in requests] == [
        ("/api/v1/health", 200, "k-serve"),
        ("/metrics", 200, None),
    ]
