"""Soak: blind retries, a server killed with SIGKILL while tills and gates book, and a killed daily job.

Why this exists
---------------
A venue loses money and trust when a tap is booked twice, lost, or half booked. Three runs try to make that
happen against the real programs (`tapzone serve`, `tapzone daily`, `tapzone check`) on fresh scratch
databases (PostgreSQL ones are dropped WITH (FORCE) at the end):

1. retries (SQLite and PostgreSQL): 10,000 logical writes from 12 tills and 4 gates — tab sales,
   card-balance sales, top-ups, settlements, entry sales, gate taps — with client timeouts often shorter than
   the server's answer time, twins sent concurrently with the original and blind retries under the same
   Idempotency-Key (a tap: the same tap id). See soak_client.py.
2. crash (PostgreSQL and SQLite): the same 16 devices book continuously while the server's process group is
   killed with SIGKILL 20 times at random intervals and restarted on the same database; every write that got
   no answer is retried with its key after the restart.
3. daily: `tapzone daily` over 20,000 card accounts (2,000 due) is SIGKILLed once some batches committed,
   then run again to the end, then once more.
4. outage: gate controllers keep deciding through a 60-minute server outage (700 visitors, driven by the
   drill's own clock) from their cached lists, then upload their journals; every event must be applied once,
   in order and with its original time, a second upload must change nothing (tapzone.access.outage_drill).

After 1 and 2 the database is compared with the clients' records (soak_verify.py): every write exactly once,
no duplicates, no acknowledged write lost, no partial booking, nothing booked that no client sent; after 3
each renewal and deletion is booked once. `tapzone check` must pass after each. Figures go to var/soak/
(retries.json, crash.json, daily.json, summary.json); the exit code is 1 when any invariant failed.

Usage:
    .venv/bin/python bench/soak.py [--only retries,crash,daily,outage] [--engines pg,sqlite] [--writes 10000]
                                   [--kills 20] [--daily-accounts 20000] ...
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from soak_client import RetryPolicy
from soak_daily import DailyOutcome, run_daily_kill
from soak_runs import Outcome, Shape, run_crash, run_retries, scratch_database
from tapzone.access.outage_drill import DrillReport, run_outage_soak

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
OUT_DIR = Path(__file__).resolve().parent.parent / "var" / "soak"
SCENARIOS = ("retries", "crash", "daily", "outage")

out = Console(width=140, highlight=False)

# The crash run wants answers, not timeouts: what it tests is the kill; a few short timeouts and twins stay in.
CRASH_POLICY = RetryPolicy(
    short_timeout_share=0.05, twin_share=0.05, blind_share=0.05, pause_s=(0.05, 0.25), write_deadline_s=300.0
)


def _mark(ok: bool) -> str:
    return "[green]ok[/green]" if ok else "[red]FAILED[/red]"


def print_retries(outcomes: Sequence[Outcome]) -> None:
    table = Table(title="Retries and duplicates", title_justify="left")
    columns = ("engine", "writes tried", "attempts sent", "client timeouts", "retries", "twins", "2xx answers")
    columns += ("acked writes", "409", "duplicates", "lost acked", "partial", "unexplained", "check", "s")
    for column in columns:
        table.add_column(column, justify="left" if column == "engine" else "right")
    for outcome in outcomes:
        f = outcome.figures()
        table.add_row(
            outcome.engine,
            str(f["writes_tried"]),
            str(f["attempts_sent"]),
            str(f["client_timeouts"]),
            str(f["retries"]),
            str(f["writes_with_twin"]),
            str(f["answers_2xx"]),
            str(f["writes_acknowledged"]),
            str(f["answers_409"]),
            str(f["duplicates"]),
            str(f["lost_acknowledged"]),
            str(f["partial"]),
            str(f["unexplained"]),
            _mark(f["check_clean"]),
            f"{f['seconds']:.0f}",
        )
    out.print(table)
    _print_notes(outcomes)


def print_crash(outcomes: Sequence[Outcome]) -> None:
    table = Table(title="Crashes: SIGKILL of a busy server, restarted on the same database", title_justify="left")
    columns = ("engine", "kills", "max restart s", "writes tried", "acked", "in doubt", "broken conns", "attempts")
    columns += ("unanswered there/absent", "duplicates", "lost acked", "partial", "unexplained", "check", "s")
    for column in columns:
        table.add_column(column, justify="left" if column == "engine" else "right")
    for outcome in outcomes:
        f = outcome.figures()
        table.add_row(
            outcome.engine,
            str(f["kills"]),
            f"{f['restart_s_max']:.1f}" if f["restart_s_max"] is not None else "—",
            str(f["writes_tried"]),
            str(f["writes_acknowledged"]),
            str(f["writes_in_doubt"]),
            str(f["broken_connections"]),
            str(f["attempts_sent"]),
            f"{f['unresolved_present']}/{f['unresolved_absent']}",
            str(f["duplicates"]),
            str(f["lost_acknowledged"]),
            str(f["partial"]),
            str(f["unexplained"]),
            _mark(f["check_clean"]),
            f"{f['seconds']:.0f}",
        )
    out.print(table)
    _print_notes(outcomes)


def _print_notes(outcomes: Sequence[Outcome]) -> None:
    for outcome in outcomes:
        f = outcome.figures()
        name = f"{outcome.scenario}/{outcome.engine}"
        out.print(f"  {name}: writes by kind {f['by_kind']}; entries per write {f['entry_codes']}")
        for line in [*f["examples"], *f["client_notes"]]:
            out.print(f"  [yellow]{outcome.scenario}/{outcome.engine}[/yellow]: {line}")
        if f["replay_mismatches"] or f["gate_refusals"]:
            out.print(
                f"  [red]{outcome.scenario}/{outcome.engine}: {f['replay_mismatches']} replays answered differently,"
                f" {f['gate_refusals']} taps refused[/red]"
            )
        if not outcome.verdict.check_clean:
            out.print(outcome.verdict.check_output)


def print_daily(outcomes: Sequence[DailyOutcome]) -> None:
    table = Table(title="The daily job killed halfway, then rerun", title_justify="left")
    columns = ("engine", "accounts", "due", "logged at kill", "rerun s", "renewed", "deleted", "skipped", "entries")
    columns += ("twice logged", "renewed ≠ +12 mo", "keys twice", "3rd run no-op", "check")
    for column in columns:
        table.add_column(column, justify="left" if column == "engine" else "right")
    for outcome in outcomes:
        f = outcome.figures()

        def versus(name: str, counts: dict[str, int] = f["counts"], expected: dict[str, int] = f["expected"]) -> str:
            return f"{counts.get(name)}" + (
                "" if counts.get(name) == expected.get(name) else f" ≠ {expected.get(name)}"
            )

        table.add_row(
            outcome.engine,
            str(f["accounts"]),
            str(f["due"]),
            str(f["done_at_kill"]) + ("" if f["killed_mid_run"] else " (not mid-run!)"),
            f"{f['rerun_s']:.1f}",
            versus("renewed"),
            versus("deleted"),
            versus("skipped"),
            versus("entries"),
            str(f["duplicate_changes"]),
            str(f["renewed_wrong"]),
            str(f["entry_keys_twice"]),
            _mark(f["third_run_changed_nothing"]),
            _mark(f["check_clean"]),
        )
    out.print(table)
    for outcome in outcomes:
        if not outcome.check_clean:
            out.print(outcome.check_output)


def outage_ok(report: DrillReport) -> bool:
    return (
        report.replayed == report.journaled
        and report.second_replay_changed == 0
        and not report.ledger_findings
        and report.times_match
        and report.in_order
    )


def print_outage(reports: Sequence[tuple[str, DrillReport]]) -> None:
    for engine, report in reports:
        out.print(f"[bold]Offline gates / {engine}[/bold]: {_mark(outage_ok(report))}")
        for line in report.lines():
            out.print(f"  {line}")


def summarise(results: dict[str, list[Any]], seconds: float) -> dict[str, Any]:
    """One row per scenario and engine; the figures the issue's closing note asks for."""
    rows = []
    for outcome in results.get("retries", []) + results.get("crash", []):
        f = outcome.figures()
        rows.append(
            {
                "scenario": outcome.scenario,
                "engine": outcome.engine,
                "writes_tried": f["writes_tried"],
                "kills": f.get("kills", 0),
                "duplicates": f["duplicates"],
                "lost_acknowledged": f["lost_acknowledged"],
                "partial": f["partial"],
                "unexplained": f["unexplained"],
                "check_clean": f["check_clean"],
                "ok": outcome.ok,
                "seconds": f["seconds"],
            }
        )
    for daily in results.get("daily", []):
        f = daily.figures()
        rows.append(
            {
                "scenario": "daily",
                "engine": daily.engine,
                "writes_tried": f["due"],
                "kills": 1,
                "duplicates": f["duplicate_changes"] + f["entry_keys_twice"] + f["renewed_wrong"],
                "lost_acknowledged": 0,
                "partial": 0 if f["counts"] == f["expected"] else 1,
                "unexplained": 0,
                "check_clean": f["check_clean"],
                "ok": daily.ok,
                "seconds": f["rerun_s"],
            }
        )
    for engine, report in results.get("outage", []):
        rows.append(
            {
                "scenario": "outage",
                "engine": engine,
                "writes_tried": report.journaled,
                "kills": 0,
                "duplicates": report.second_replay_changed,
                "lost_acknowledged": report.journaled - report.replayed,
                "partial": 0 if report.in_order and report.times_match else 1,
                "unexplained": 0,
                "check_clean": not report.ledger_findings,
                "ok": outage_ok(report),
                "seconds": 0.0,
            }
        )
    return {
        "rows": rows,
        "writes_tried": sum(r["writes_tried"] for r in rows if r["scenario"] in ("retries", "crash")),
        "outage_events_replayed": sum(report.replayed for _, report in results.get("outage", [])),
        "duplicates": sum(r["duplicates"] for r in rows),
        "lost_acknowledged": sum(r["lost_acknowledged"] for r in rows),
        "kills": sum(r["kills"] for r in rows),
        "ok": all(r["ok"] for r in rows),
        "seconds": round(seconds, 1),
    }


def print_summary(summary: dict[str, Any]) -> None:
    table = Table(title="Soak summary", title_justify="left")
    for column in ("run", "writes", "kills", "duplicates", "lost acked", "partial", "unexplained", "check", "verdict"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for row in summary["rows"]:
        table.add_row(
            f"{row['scenario']}/{row['engine']}",
            str(row["writes_tried"]),
            str(row["kills"]),
            str(row["duplicates"]),
            str(row["lost_acknowledged"]),
            str(row["partial"]),
            str(row["unexplained"]),
            _mark(row["check_clean"]),
            _mark(row["ok"]),
        )
    out.print(table)
    out.print(
        f"writes tried {summary['writes_tried']}, duplicates {summary['duplicates']}, lost acknowledged bookings"
        f" {summary['lost_acknowledged']}, kills {summary['kills']}, outage events replayed"
        f" {summary['outage_events_replayed']}, time {summary['seconds']:.0f} s:"
        f" {_mark(summary['ok'])}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated: retries, crash, daily")
    parser.add_argument("--engines", default="pg,sqlite", help="comma-separated: pg, sqlite (default %(default)s)")
    parser.add_argument("--pg-url", default=os.environ.get("TAPZONE_TEST_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--writes", type=int, default=10_000, help="logical writes of the retries run")
    parser.add_argument("--tills", type=int, default=12, help="simulated tills (default %(default)s)")
    parser.add_argument("--gates", type=int, default=4, help="simulated two-way gates (default %(default)s)")
    parser.add_argument("--media-per-device", type=int, default=40, help="media each till or gate works on")
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the server in the crash run")
    parser.add_argument("--kill-interval", default="1.0,4.0", help="seconds of booking between kills: min,max")
    parser.add_argument("--daily-accounts", type=int, default=20_000, help="card accounts of the daily run")
    parser.add_argument("--daily-due", type=int, default=2_000, help="of those, due on the run day")
    parser.add_argument("--daily-sold", type=int, default=200, help="due accounts sold with value (use case)")
    parser.add_argument("--daily-batch", type=int, default=100, help="accounts per daily-job transaction")
    parser.add_argument("--outage-visitors", type=int, default=700, help="visitors of the offline-gate drill")
    parser.add_argument("--outage-minutes", type=int, default=60, help="length of the drill's server outage")
    parser.add_argument("--seed", type=int, default=20260901)
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="directory of the JSON results")
    args = parser.parse_args(argv)
    args.only = [name for name in args.only.split(",") if name]
    args.engines = [name for name in args.engines.split(",") if name]
    if set(args.only) - set(SCENARIOS) or set(args.engines) - {"pg", "sqlite"}:
        parser.error(f"--only takes {SCENARIOS}, --engines pg and/or sqlite")
    low, high = (float(part) for part in args.kill_interval.split(","))
    args.kill_interval = (low, high)
    if not 0 <= args.daily_sold <= args.daily_due <= args.daily_accounts:
        parser.error("need 0 <= --daily-sold <= --daily-due <= --daily-accounts")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    shape = Shape(args.tills, args.gates, args.media_per_device)
    results: dict[str, list[Any]] = {}
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tapzone_soak_") as tmp:
        log_dir = Path(tmp)
        if "retries" in args.only:
            results["retries"] = [
                run_retries(
                    kind, args.pg_url, log_dir, writes=args.writes, shape=shape, policy=RetryPolicy(), seed=args.seed
                )
                for kind in args.engines
            ]
            _write(args.out / "retries.json", {o.engine: o.figures() for o in results["retries"]})
        if "crash" in args.only:
            results["crash"] = [
                run_crash(
                    kind,
                    args.pg_url,
                    log_dir,
                    kills=args.kills,
                    interval_s=args.kill_interval,
                    shape=shape,
                    policy=CRASH_POLICY,
                    seed=args.seed,
                )
                for kind in args.engines
            ]
            _write(args.out / "crash.json", {o.engine: o.figures() for o in results["crash"]})
    if "daily" in args.only:
        results["daily"] = [
            run_daily_kill(
                kind,
                args.pg_url,
                accounts=args.daily_accounts,
                due=args.daily_due,
                sold=args.daily_sold,
                batch_size=args.daily_batch,
            )
            for kind in args.engines
        ]
        _write(args.out / "daily.json", {o.engine: o.figures() for o in results["daily"]})

    if "outage" in args.only:
        results["outage"] = []
        for kind in args.engines:
            with (
                scratch_database(kind, args.pg_url, "soak_outage") as url,
                tempfile.TemporaryDirectory(prefix="tapzone_gate_journal_") as journals,
            ):
                report = run_outage_soak(
                    url, Path(journals), visitors=args.outage_visitors, outage_minutes=args.outage_minutes
                )
            results["outage"].append((kind, report))
        _write(args.out / "outage.json", {kind: vars(report) for kind, report in results["outage"]})

    out.print(
        f"\n[bold]tapzone soak[/bold] — {shape.tills} tills, {shape.gates} gates, Python {sys.version.split()[0]}"
    )
    if "retries" in results:
        print_retries(results["retries"])
    if "crash" in results:
        print_crash(results["crash"])
    if "daily" in results:
        print_daily(results["daily"])
    if "outage" in results:
        print_outage(results["outage"])
    summary = summarise(results, time.perf_counter() - started)
    print_summary(summary)
    _write(args.out / "summary.json", summary)
    return 0 if summary["ok"] else 1


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
