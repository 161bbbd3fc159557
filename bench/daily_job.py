"""Daily job benchmark: `run_daily` over 100,000 card accounts of which 10 % are due, SQLite and PostgreSQL.

Why this benchmark exists
-------------------------
The daily job (seed 002 "Automatisch verlängern", "Bei Ablauf löschen") scans every card account of a venue
once a day, renews or deletes the due ones in batches of 500, one transaction each, and books fees and
breakage through the ordinary ledger. A chain with many subscriptions must finish it in the quiet hours,
and while a batch holds its row locks a till touching one of those cards waits. This script measures:

1. the job itself (`tapzone.plans.daily_job.run_daily`, the same function `tapzone daily` calls) on the
   application's engine with full commit durability, from a settled database;
2. as baselines in the same run, on the same rows: a plain `SELECT count(*)` of the due accounts (the full
   scan with the job's predicate) and one `UPDATE` statement touching the same due rows in one committed
   transaction (the floor for writing them at all); the job's time is printed as a ratio to that UPDATE;
3. a rerun of the finished day (must change nothing), and the ledger check (`tapzone check`'s functions)
   afterwards, which must pass: fees and breakage keep the card float right.

The accounts
------------
Set-up is not measured. 1,000 of the due accounts are sold through the real use case
(`sell_account_type`): 500 money cards whose renewal fee comes from the card and 500 ten-visit cards that
are deleted with money and visits left (their breakage is booked). The other 99,000 are bulk-inserted rows
(media, visits, card accounts; 2,000 registered customers) holding no value, so no balance can disagree
with the postings. Of these, 9,000 are due, spread evenly over the id range: per ten, two of a renewing type
without fee, two of a renewing type whose fee goes to the customer account (a journal entry each), one of
that type without a customer (fee unpaid: logged and skipped), five of a delete-on-expiry type. The 90,000
others are of the same types but valid beyond the run day, or of a type that is neither renewed nor deleted.

The result object is written to var/bench/daily.json ({"pg": {...}, "sqlite": {...}}) and printed as the
last line.

Usage:
    .venv/bin/python bench/daily_job.py [--engines pg,sqlite] [--accounts 100000] [--due 10000] [--sold 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from sqlalchemy.engine import Engine

import scratch
from tapzone.clock import FixedClock
from tapzone.context import RequestContext
from tapzone.ledger.check import all_findings
from tapzone.plans.daily_job import run_daily
from tapzone.plans.selling import sell_account_type
from tapzone.plans.setup import create_account_type, create_topup_rule
from tapzone.plans.specs import AccountTypeSpec, StepSpec, TopupRuleSpec
from tapzone.plans.topup_rules import RuleKind
from tapzone.store.db import make_engine
from tapzone.store.migrate import upgrade
from tapzone.store.tables import account_types, card_accounts, customers, journal_entries, media, visits
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tapzone.venues.setup import add_device, add_staff, create_venue

OUT_PATH = Path(__file__).resolve().parent.parent / "var" / "bench" / "daily.json"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SOLD_AT = datetime(2026, 7, 4, 10, 0, tzinfo=UTC)
RUN_DAY = date(2027, 7, 4)
RUN_AT = datetime(2027, 7, 4, 1, 0, tzinfo=UTC)  # 03:00 in Berlin: the quiet hours
CUSTOMERS = 2_000
INSERT_CHUNK = 10_000

out = Console(width=132, highlight=False)
log = Console(stderr=True, width=132, highlight=False)


@dataclass(frozen=True, slots=True)
class Types:
    abo: int  # auto-renew, no fee
    abo_fee: int  # auto-renew, fee 15.00 at 19 %
    money: int  # auto-renew, fee, holds money
    ten: int  # delete on expiry, holds money and visits
    month: int  # delete on expiry, validity only
    plain: int  # neither


@dataclass(slots=True)
class Expected:
    renewed: int = 0
    deleted: int = 0
    skipped: int = 0
    entries: int = 0  # journal entries the job books


@dataclass(slots=True)
class Report:
    engine: str
    accounts: int
    due: int
    setup_s: float = 0.0
    job_s: float = 0.0
    scan_s: float = 0.0
    update_s: float = 0.0
    rerun_s: float = 0.0
    check_s: float = 0.0
    renewed: int = 0
    deleted: int = 0
    skipped: int = 0
    entries: int = 0
    expected: Expected = field(default_factory=Expected)
    check_clean: bool = False
    rerun_changed_nothing: bool = False

    def summary(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts,
            "due": self.due,
            "job_s": round(self.job_s, 3),
            "accounts_per_s": round(self.accounts / self.job_s, 1),
            "due_per_s": round(self.due / self.job_s, 1),
            "renewed": self.renewed,
            "deleted": self.deleted,
            "skipped": self.skipped,
            "entries": self.entries,
            "baseline_scan_s": round(self.scan_s, 4),
            "baseline_update_s": round(self.update_s, 4),
            "ratio_to_update": round(self.job_s / self.update_s, 1),
            "rerun_s": round(self.rerun_s, 4),
            "counts_match": (self.renewed, self.deleted, self.skipped, self.entries)
            == (self.expected.renewed, self.expected.deleted, self.expected.skipped, self.expected.entries),
            "rerun_changed_nothing": self.rerun_changed_nothing,
            "check_clean": self.check_clean,
            "check_s": round(self.check_s, 2),
            "setup_s": round(self.setup_s, 1),
        }


# --------------------------------------------------------------------------- set-up


def create_types(uow: UnitOfWork, venue_id: int, till: int, admin: int) -> Types:
    def ctx() -> RequestContext:
        return RequestContext(venue_id, till, admin, f"setup-{uuid.uuid4()}")

    def rule(name: str, step: StepSpec) -> int:
        return create_topup_rule(uow, ctx(), TopupRuleSpec(name=name, kind=RuleKind.STEPPED, steps=[step])).id

    def kind(number: int, name: str, rule_id: int, price: int, **flags: Any) -> int:
        values = {"number": number, "name": name, "topup_rule_id": rule_id, "default_price_minor": price, **flags}
        return create_account_type(uow, ctx(), AccountTypeSpec.model_validate(values)).id

    year = rule("Year", StepSpec(price_minor=12_000, months=12))
    money_year = rule("Money year", StepSpec(price_minor=5_000, money_minor=3_000, months=12))
    ten = rule("Ten visits", StepSpec(price_minor=5_000, money_minor=1_000, visits=10, days=90))
    month = rule("Month", StepSpec(price_minor=3_900, days=30))
    return Types(
        abo=kind(1, "Abo", year, 12_000, auto_renew=True, vat_rate_bp=1900),
        abo_fee=kind(2, "Abo with fee", year, 12_000, auto_renew=True, fee_minor=1_500, vat_rate_bp=1900),
        money=kind(3, "Money card", money_year, 5_000, auto_renew=True, fee_minor=1_500, vat_rate_bp=1900),
        ten=kind(4, "Ten visits", ten, 5_000, delete_on_expiry=True, vat_rate_bp=700),
        month=kind(5, "Month pass", month, 3_900, delete_on_expiry=True, vat_rate_bp=1900),
        plain=kind(6, "Plain year", year, 12_000, vat_rate_bp=1900),
    )


def spread(count: int, among: int) -> Callable[[int], int | None]:
    """Pick `count` of `among` rows evenly: row n → its index among the picked ones, or None."""

    def pick(n: int) -> int | None:
        k = n * count // among
        return k if (n + 1) * count // among != k else None

    return pick


def build(
    url: str, accounts: int, due: int, sold: int, *, sold_at: datetime = SOLD_AT, run_day: date = RUN_DAY
) -> tuple[int, Expected]:
    """Migrate, set up the venue and its types, sell `sold` due accounts, bulk-insert the rest.

    `sold_at`/`run_day` move the whole set-up in time: the soak runs the real `tapzone daily` CLI, which
    only runs for a business day that has begun, so its accounts fall due on a past day."""
    engine = scratch.setup_engine(url)
    try:
        upgrade(engine)
        uow = UnitOfWork(engine, clock=FixedClock(sold_at))
        venue_id = create_venue(
            uow, name="Bench Solarium", currency="EUR", timezone="Europe/Berlin", fiscal_profile=FiscalProfile.DE
        )
        till = add_device(uow, venue_id, name="Till 1")
        cashier = add_staff(uow, venue_id, name="Bench Cashier", login="cashier", role="cashier")
        admin = add_staff(uow, venue_id, name="Bench Admin", login="admin", role="admin")
        types = create_types(uow, venue_id, till, admin)
        expected = Expected()
        sold_ids = _sell(uow, venue_id, till, cashier, types, sold, expected)
        _bulk(engine, venue_id, till, types, accounts - len(sold_ids), due - len(sold_ids), expected, sold_at, run_day)
        with engine.begin() as conn:
            conn.execute(
                card_accounts.update()
                .where(card_accounts.c.id.in_(sold_ids))
                .values(valid_until=run_day - timedelta(3))
            )
            if conn.dialect.name == "postgresql":  # bulk rows carry explicit ids: move the sequences past them
                for name in (table.name for table in (media, visits, card_accounts, customers)):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"
                    )
    finally:
        engine.dispose()
    scratch.settle_database(url)
    return venue_id, expected


def _sell(
    uow: UnitOfWork, venue_id: int, till: int, cashier: int, types: Types, sold: int, expected: Expected
) -> list[int]:
    ids = []
    for n in range(sold):
        renew = n % 2 == 0
        sale = sell_account_type(
            uow,
            RequestContext(venue_id, till, cashier, f"setup-{uuid.uuid4()}"),
            medium_uid=f"S{n:06d}",
            account_type_id=types.money if renew else types.ten,
        )
        ids.append(sale.account.card_account_id)
        expected.entries += 1  # the renewal fee from the card, or the breakage of what is left
        if renew:
            expected.renewed += 1
        else:
            expected.deleted += 1
    return ids


def _bulk(
    engine: Engine,
    venue_id: int,
    till: int,
    types: Types,
    rows: int,
    due: int,
    expected: Expected,
    sold_at: datetime = SOLD_AT,
    run_day: date = RUN_DAY,
) -> None:
    """Media, visits and card accounts without value, inserted directly (set-up only)."""
    with engine.connect() as conn:
        start = 1 + max(
            int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one())
            for table in (media, visits, card_accounts, customers)
        )
    pick = spread(due, rows)
    customer_ids = list(range(start, start + CUSTOMERS))
    rotation = [types.abo, types.abo_fee, types.month, types.plain]
    medium_rows, visit_rows, account_rows = [], [], []
    for n in range(rows):
        row_id = start + n
        k = pick(n)
        customer: int | None = customer_ids[n % CUSTOMERS] if n % 3 else None
        if k is None:  # not due: valid beyond the run day, or of a type the job leaves alone
            kind = rotation[n % len(rotation)]
            until = run_day - timedelta(days=40) if kind == types.plain else run_day + timedelta(days=1 + n % 365)
        elif k % 10 < 2:
            kind, until = types.abo, run_day - timedelta(days=k % 30)
            expected.renewed += 1
        elif k % 10 < 4:
            kind, until = types.abo_fee, run_day - timedelta(days=k % 30)
            customer = customer_ids[k % CUSTOMERS]
            expected.renewed += 1
            expected.entries += 1
        elif k % 10 == 4:
            kind, until, customer = types.abo_fee, run_day - timedelta(days=k % 30), None
            expected.skipped += 1
        else:
            kind, until = types.month, run_day - timedelta(days=1 + k % 30)
            expected.deleted += 1
        medium_rows.append(
            {"id": row_id, "venue_id": venue_id, "uid": f"B{row_id:07d}", "kind": "card", "state": "active"}
        )
        visit_rows.append(
            {
                "id": row_id,
                "venue_id": venue_id,
                "medium_id": row_id,
                "customer_id": customer,
                "opened_at": sold_at,
                "opened_by_device_id": till,
            }
        )
        account_rows.append(
            {
                "id": row_id,
                "venue_id": venue_id,
                "visit_id": row_id,
                "medium_id": row_id,
                "credit_type": "none",
                "currency": "EUR",
                "is_active": True,
                "opened_at": sold_at,
                "account_type_id": kind,
                "valid_until": until,
            }
        )
    customer_rows = [{"id": c, "venue_id": venue_id, "name": f"Customer {c}"} for c in customer_ids]
    with engine.begin() as conn:
        for table, table_rows in (
            (customers, customer_rows),
            (media, medium_rows),
            (visits, visit_rows),
            (card_accounts, account_rows),
        ):
            for i in range(0, len(table_rows), INSERT_CHUNK):
                conn.execute(table.insert(), table_rows[i : i + INSERT_CHUNK])


# --------------------------------------------------------------------------- measurement


def _due_predicate() -> sa.ColumnElement[bool]:
    return sa.and_(
        card_accounts.c.closed_at.is_(None),
        sa.or_(
            sa.and_(account_types.c.auto_renew.is_(True), card_accounts.c.valid_until <= RUN_DAY),
            sa.and_(account_types.c.delete_on_expiry.is_(True), card_accounts.c.valid_until < RUN_DAY),
        ),
    )


def baseline_scan(engine: Engine) -> tuple[float, int]:
    """The due accounts counted in one statement: the scan the job cannot avoid (median of three)."""
    query = (
        sa.select(sa.func.count())
        .select_from(card_accounts.join(account_types, account_types.c.id == card_accounts.c.account_type_id))
        .where(_due_predicate())
    )
    times, count = [], 0
    for _ in range(3):
        with engine.begin() as conn:
            started = time.perf_counter()
            count = int(conn.execute(query).scalar_one())
            times.append(time.perf_counter() - started)
    return statistics.median(times), count


def baseline_update(engine: Engine) -> float:
    """The same due rows written once by one UPDATE in one committed transaction (values left as they are)."""
    due_ids = (
        sa.select(card_accounts.c.id)
        .select_from(card_accounts.join(account_types, account_types.c.id == card_accounts.c.account_type_id))
        .where(_due_predicate())
        .scalar_subquery()
    )
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            card_accounts.update()
            .where(card_accounts.c.id.in_(due_ids))
            .values(valid_until=card_accounts.c.valid_until)
        )
    return time.perf_counter() - started


def journal_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(journal_entries)).scalar_one())


def run_engine(kind: str, args: argparse.Namespace) -> Report:
    report = Report(kind, args.accounts, args.due)
    scratch_db = scratch.pg_scratch(args.pg_url, "daily") if kind == "pg" else scratch.sqlite_scratch()
    with scratch_db as url:
        log.print(f"[bold]{kind}[/bold]: {args.accounts} card accounts, {args.due} due ({args.sold} sold) …")
        started = time.perf_counter()
        venue_id, report.expected = build(url, args.accounts, args.due, args.sold)
        report.setup_s = time.perf_counter() - started
        log.print(f"  {kind}: set-up took {report.setup_s:.0f} s")
        engine = make_engine(url)
        try:
            report.scan_s, found = baseline_scan(engine)
            if found != args.due:
                raise RuntimeError(f"{found} accounts are due, expected {args.due}")
            report.update_s = baseline_update(engine)
            engine.dispose()
            scratch.settle_database(url)  # the UPDATE left dead rows behind on PostgreSQL

            entries_before = journal_count(engine)
            uow = UnitOfWork(engine, clock=FixedClock(RUN_AT))
            started = time.perf_counter()
            run = run_daily(uow, venue_id)
            report.job_s = time.perf_counter() - started
            report.renewed, report.deleted, report.skipped = run.renewed, run.deleted, run.skipped
            entries_after = journal_count(engine)
            report.entries = entries_after - entries_before

            started = time.perf_counter()
            again = run_daily(uow, venue_id)
            report.rerun_s = time.perf_counter() - started
            report.rerun_changed_nothing = again.already_finished and journal_count(engine) == entries_after

            started = time.perf_counter()
            with engine.connect() as conn:
                findings = all_findings(conn)
            report.check_s = time.perf_counter() - started
            report.check_clean = not findings
            for finding in findings[:5]:
                log.print(f"  [red]{finding}[/red]")
        finally:
            engine.dispose()
    log.print(f"  {kind}: job {report.job_s:.2f} s, {json.dumps(report.summary())}")
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="pg,sqlite", help="comma-separated: pg, sqlite")
    parser.add_argument("--accounts", type=int, default=100_000, help="card accounts in the venue")
    parser.add_argument("--due", type=int, default=10_000, help="of those, due for renewal or deletion")
    parser.add_argument("--sold", type=int, default=1_000, help="due accounts sold through the use case, with value")
    parser.add_argument("--pg-url", default=os.environ.get("TAPZONE_TEST_PG_URL", DEFAULT_PG_URL))
    parser.add_argument("--out", type=Path, default=OUT_PATH)
    args = parser.parse_args(argv)
    args.engines = [e for e in args.engines.split(",") if e]
    if not 0 <= args.sold <= args.due <= args.accounts:
        parser.error("need 0 <= --sold <= --due <= --accounts")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    reports = [run_engine(kind, args) for kind in args.engines]
    out.print(f"\n[bold]tapzone daily job benchmark[/bold] — {args.accounts} accounts, {args.due} due")
    for report in reports:
        s = report.summary()
        out.print(
            f"{report.engine:>6}: job {s['job_s']:.2f} s ({s['accounts_per_s']:.0f} accounts/s,"
            f" {s['due_per_s']:.0f} due/s); one-statement UPDATE of the due rows {s['baseline_update_s']:.3f} s"
            f" (job = {s['ratio_to_update']}×); scan {s['baseline_scan_s']:.3f} s; renewed {s['renewed']},"
            f" deleted {s['deleted']}, skipped {s['skipped']}, entries {s['entries']};"
            f" counts match: {s['counts_match']}; rerun {s['rerun_s']:.3f} s,"
            f" changed nothing: {s['rerun_changed_nothing']}; check clean: {s['check_clean']}"
        )
    result = {report.engine: report.summary() for report in reports}
    line = json.dumps(result, separators=(", ", ": "))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(line + "\n")
    sys.stdout.flush()
    print(line)
    ok = all(r["counts_match"] and r["rerun_changed_nothing"] and r["check_clean"] for r in result.values())
    return 0 if ok else 1


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
