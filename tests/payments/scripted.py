"""A terminal that plays a fixed script of bytes, written out from the specification, and records what the
client sent: the client is checked against the spec's byte sequences, not only against our own simulator."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expect:
    """Read as many bytes as `data` has; the test compares them afterwards."""

    data: bytes


@dataclass(frozen=True)
class Send:
    data: bytes


@dataclass(frozen=True)
class Close:
    """Drop the connection here."""


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text)


@dataclass
class ScriptedTerminal:
    """One script per expected connection, played in order on 127.0.0.1 (ephemeral port)."""

    connections: list[list[Expect | Send | Close]]
    received: list[list[bytes]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(5)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._play, daemon=True)
        self._thread.start()

    def _play(self) -> None:
        try:
            for script in self.connections:
                conn, _ = self._listener.accept()
                got: list[bytes] = []
                self.received.append(got)
                with conn:
                    conn.settimeout(5)
                    for step in script:
                        if isinstance(step, Close):
                            break
                        if isinstance(step, Send):
                            conn.sendall(step.data)
                            continue
                        chunk = b""
                        while len(chunk) < len(step.data):
                            more = conn.recv(len(step.data) - len(chunk))
                            if not more:
                                break
                            chunk += more
                        got.append(chunk)
                    else:
                        # Hold the line until the client closes it, as a terminal would.
                        conn.settimeout(2)
                        try:
                            while conn.recv(64):
                                pass
                        except OSError:
                            pass
        except BaseException as error:  # reported to the test, not lost in the thread
            self.errors.append(error)
        finally:
            self._listener.close()

    def expected(self) -> list[list[bytes]]:
        return [[step.data for step in script if isinstance(step, Expect)] for script in self.connections]

    def finish(self) -> None:
        deadline = time.monotonic() + 5
        self._thread.join(max(0.0, deadline - time.monotonic()))
        assert not self.errors, self.errors
        assert self.received == self.expected()
