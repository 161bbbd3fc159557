"""Where the CPU went during a load phase: the client, the API server, PostgreSQL, the rest (Linux /proc).

Why: on a 2-core machine the client, the server and the database compete for the same cores, so a
throughput figure means little without knowing who used the CPU. Snapshots are taken before and after a
phase; the difference per request tells whether the client could have been the bottleneck and how much
CPU a booking costs in the application versus in the database.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuSnapshot:
    """Cumulative CPU seconds at one moment; per process, so processes that come and go are handled."""

    wall_s: float
    machine_busy_s: float
    client_s: float
    server: dict[int, float]
    postgres: dict[int, float]


@dataclass(frozen=True, slots=True)
class CpuSplit:
    """CPU seconds used between two snapshots, by whom."""

    wall_s: float
    machine_busy_s: float
    client_s: float
    server_s: float
    postgres_s: float

    @property
    def other_s(self) -> float:
        return max(0.0, self.machine_busy_s - self.client_s - self.server_s - self.postgres_s)

    def per_request_ms(self, requests: int) -> dict[str, float]:
        n = max(requests, 1)
        return {
            "client": self.client_s / n * 1000,
            "server": self.server_s / n * 1000,
            "postgres": self.postgres_s / n * 1000,
            "other": self.other_s / n * 1000,
        }

    def busy_share(self, cores: int) -> float:
        return self.machine_busy_s / max(self.wall_s * cores, 1e-9)


def _machine_busy_s() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) * TICK_S


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, ppid, comm, cpu seconds) of every process we can read."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        found.append((int(entry.name), int(rest[1]), comm, (int(rest[11]) + int(rest[12])) * TICK_S))
    return found


def snapshot(server_pid: int | None) -> CpuSnapshot:
    """CPU used so far by this process, the server's process tree, and PostgreSQL processes."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    postgres: dict[int, float] = {}
    for pid, ppid, comm, seconds in processes:
        children.setdefault(ppid, []).append(pid)
        cpu[pid] = seconds
        if comm == "postgres" or comm.startswith("postgres:"):
            postgres[pid] = seconds
    server: dict[int, float] = {}
    if server_pid is not None:
        stack = [server_pid]
        for _ in range(10_000):  # bounded walk of the server's process tree
            if not stack:
                break
            pid = stack.pop()
            server[pid] = cpu.get(pid, 0.0)
            stack.extend(children.get(pid, []))
    return CpuSnapshot(time.perf_counter(), _machine_busy_s(), time.process_time(), server, postgres)


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU used by the processes alive at the end (new ones count whole; ended ones are lost, rarely much)."""
    return sum(max(0.0, seconds - before.get(pid, 0.0)) for pid, seconds in after.items())


def between(before: CpuSnapshot, after: CpuSnapshot) -> CpuSplit:
    return CpuSplit(
        wall_s=after.wall_s - before.wall_s,
        machine_busy_s=after.machine_busy_s - before.machine_busy_s,
        client_s=after.client_s - before.client_s,
        server_s=_used(before.server, after.server),
        postgres_s=_used(before.postgres, after.postgres),
    )
