"""The rows of a generated chain: media, visits, card accounts, journal entries and postings, audit rows.

Pure Python, no database: `scale_load.py` writes what these generators yield (PostgreSQL COPY, SQLite
executemany). Every row is built in a stream — per medium for the static tables, per venue and day for the
journal — so memory stays flat however many postings are asked for.

What a venue's history looks like
---------------------------------
Media are dealt to the venues in turn (medium i → venue i mod V), so each venue holds 1/V of them. Within a
venue, medium m has one active prepaid card account of a seed 002 type and a visit bound to the venue's paid
zone (not inside). Its history is one top-up (cash → card money, `topup`) followed by `k` sales paid from the
card (card money → revenue + VAT, `sale`): 2 + 3k postings, k chosen so that the total comes near the postings
asked for (20 postings per medium → k = 6). Half of the media (even m, "funded") keep `funded_load_minor`
after their sales; the other half ("spent") were topped up by exactly what they spent and hold nothing, which
is what lets them leave the paid zone at an exit gate. The sale benchmark touches funded media, the gate
benchmark spent ones.

Spread: entry j of medium m falls on day ⌊(j·N + m)·D / (n·N)⌋ of the D-day window (n = 1 + k entries per
medium, N media in the venue), so every day gets the same number of entries, a medium's entries stay in order
(its top-up first) and each day's entries of one venue are one contiguous range of (j, m) per j. Within a
day they are spaced evenly over the opening hours, so every device's hash chain runs forward in time. Entry
(m, j) is booked at till (m + j) mod T; one medium in `audit_every` gets a `medium.manual_entry` audit row.

Amounts come from the application's own drafting functions (`credit_revenue`, `split_by_rate`) and hashes
from `ChainedEntry.digest` and `audit.row_hash`, so the rows are the ones the use cases would write.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tapzone import audit
from tapzone.ledger.chain import ChainedEntry, sorted_postings
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, cash
from tapzone.pos.booking import credit_revenue
from tapzone.pos.vat import split_by_rate
from tapzone.venues.model import Venue

UID_BASE = 10_000_000  # medium i has UID str(UID_BASE + i): unique across the chain, easy to read
OPEN_HOUR = 9
OPEN_SECONDS = 12 * 3600  # entries of a day fall between 09:00 and 21:00 venue time
RENEWAL_FEE_MINOR = 500
TOPUP_MEMO = "prepaid top-up"  # the memos the use cases write
SALE_MEMO = "sale paid from card balance"


@dataclass(frozen=True, slots=True)
class Shape:
    """How big the chain is and how its history is spread."""

    media: int
    postings: int
    venues: int = 4
    tills_per_venue: int = 8
    lanes_per_venue: int = 8
    days: int = 60
    end_day: date = date(2026, 5, 31)  # the last day of the history
    run_day: date = date(2026, 6, 1)  # the daily job's day: 1 in `due_every` accounts is due then
    funded_load_minor: int = 10_000_000  # what a funded medium keeps: no benchmark sale is ever refused
    due_every: int = 10
    audit_every: int = 100
    currency: str = "EUR"
    timezone: str = "Europe/Berlin"

    def __post_init__(self) -> None:
        if self.media < 2 * self.venues:
            raise ValueError("need at least two media per venue")
        if self.postings < 2 * self.media:
            raise ValueError("need at least two postings per medium (its top-up)")

    @property
    def sales_per_medium(self) -> int:
        return max(0, round((self.postings / self.media - 2) / 3))

    @property
    def entries_per_medium(self) -> int:
        return 1 + self.sales_per_medium

    @property
    def first_day(self) -> date:
        return self.end_day - timedelta(days=self.days - 1)

    def media_of_venue(self, v: int) -> int:
        return self.media // self.venues + (1 if v < self.media % self.venues else 0)

    def global_index(self, v: int, m: int) -> int:
        return m * self.venues + v

    def uid(self, v: int, m: int) -> str:
        return str(UID_BASE + self.global_index(v, m))

    @staticmethod
    def funded(m: int) -> bool:
        return m % 2 == 0

    def due(self, m: int) -> bool:
        return (m // 2) % self.due_every == self.due_every - 1

    def day_of(self, v: int, m: int, j: int) -> int:
        n, count = self.entries_per_medium, self.media_of_venue(v)
        return ((j * count + m) * self.days) // (n * count)


@dataclass(frozen=True, slots=True)
class VenueSetup:
    """What set-up created in one venue (ids from the application's own set-up functions)."""

    venue: Venue
    tills: list[int]
    cashier_id: int
    zone_id: int
    entry_product_id: int
    wallet_type_id: int  # funded media: renews every year, fee from the card
    day_type_id: int  # spent media: deleted on expiry
    products: list[tuple[int, int, int]]  # product id, gross price, VAT rate (bp)
    account_ids: dict[str, int]  # venue-wide ledger account key → id (cash, revenue, VAT payable)


@dataclass(frozen=True, slots=True)
class Ids:
    """The first id of each bulk table (everything set-up wrote lies below)."""

    media: int
    visits: int
    card_accounts: int
    tabs: int
    ledger_accounts: int
    entries: int
    postings: int
    audit: int


@dataclass(slots=True)
class Totals:
    """What the generator wrote and what the application must find in it afterwards."""

    media: int = 0
    entries: int = 0
    postings: int = 0
    audit_rows: int = 0
    float_minor: dict[int, int] = field(default_factory=dict)  # venue → card float (money owed to holders)
    due_renew: int = 0  # funded due accounts: renewed with a fee entry each
    due_delete: int = 0  # spent due accounts: deleted, nothing left to book


def _price_of(setup: VenueSetup, m: int, j: int) -> tuple[int, int, int]:
    return setup.products[(m + 3 * j) % len(setup.products)]


def spent_by(setup: VenueSetup, shape: Shape, m: int) -> int:
    return sum(_price_of(setup, m, j)[1] for j in range(1, shape.entries_per_medium))


def topup_of(setup: VenueSetup, shape: Shape, m: int) -> int:
    return spent_by(setup, shape, m) + (shape.funded_load_minor if shape.funded(m) else 0)


def _local(shape: Shape, day: date, seconds: float) -> datetime:
    start = datetime.combine(day, time(OPEN_HOUR), tzinfo=ZoneInfo(shape.timezone))
    return (start + timedelta(seconds=seconds)).astimezone(UTC)


# --------------------------------------------------------------------------- per-medium tables


def medium_rows(shape: Shape, setups: Sequence[VenueSetup], ids: Ids) -> Iterator[dict[str, tuple[object, ...]]]:
    """For every medium, its rows keyed by table: media, visits, card_accounts, card_balances,
    ledger_accounts (its card-money account), account_balances (that account's row) and, for funded media,
    the open tab every tab sale starts from (as the HTTP benchmark's set-up gives it)."""
    for v, setup in enumerate(setups):
        venue = setup.venue
        for m in range(shape.media_of_venue(v)):
            i = shape.global_index(v, m)
            medium_id, visit_id, account_id = ids.media + i, ids.visits + i, ids.card_accounts + i
            ledger_id = ids.ledger_accounts + i
            opened = _local(shape, shape.first_day + timedelta(days=shape.day_of(v, m, 0)), -1800)
            funded = shape.funded(m)
            held = shape.funded_load_minor if funded else 0
            if shape.due(m):
                until = shape.run_day - timedelta(days=(m // 2) % 30 + (0 if funded else 1))
            else:
                until = shape.run_day + timedelta(days=1 + m % 365)
            rows: dict[str, tuple[object, ...]] = {
                "media": (medium_id, venue.id, shape.uid(v, m), "wristband", "active", 0, opened, None, 0, None),
                "visits": (
                    visit_id,
                    venue.id,
                    medium_id,
                    None,
                    opened,
                    None,
                    setup.tills[m % len(setup.tills)],
                    setup.zone_id,
                    setup.entry_product_id,
                    None,
                    True,
                    False,
                    None,
                    None,
                    0,
                ),
                "card_accounts": (
                    account_id,
                    venue.id,
                    visit_id,
                    medium_id,
                    "prepaid",
                    0,
                    venue.currency,
                    True,
                    opened,
                    None,
                    setup.wallet_type_id if funded else setup.day_type_id,
                    until,
                    None,
                    None,
                ),
                "card_balances": (account_id, venue.currency, venue.id, held),
                "ledger_accounts": (
                    ledger_id,
                    venue.id,
                    card_money(account_id, venue.currency).key,
                    "card-money",
                    "liability",
                    venue.currency,
                    account_id,
                ),
                "account_balances": (ledger_id, "", venue.id, -held),
            }
            if funded:
                rows["tabs"] = (ids.tabs + i, venue.id, account_id, "open", opened, None, None)
            yield rows


COLUMNS: dict[str, tuple[str, ...]] = {
    "media": (
        "id",
        "venue_id",
        "uid",
        "kind",
        "state",
        "deposit_minor",
        "created_at",
        "qr_token",
        "qr_generation",
        "pin_hash",
    ),
    "visits": (
        "id",
        "venue_id",
        "medium_id",
        "customer_id",
        "opened_at",
        "closed_at",
        "opened_by_device_id",
        "zone_id",
        "entry_product_id",
        "party_id",
        "is_main",
        "inside",
        "entered_at",
        "exited_at",
        "overstay_blocks_charged",
    ),
    "card_accounts": (
        "id",
        "venue_id",
        "visit_id",
        "medium_id",
        "credit_type",
        "credit_limit_minor",
        "currency",
        "is_active",
        "opened_at",
        "closed_at",
        "account_type_id",
        "valid_until",
        "last_used_at",
        "closed_reason",
    ),
    "card_balances": ("card_account_id", "unit", "venue_id", "balance"),
    "tabs": ("id", "venue_id", "card_account_id", "state", "opened_at", "closed_at", "settlement_entry_id"),
    "ledger_accounts": ("id", "venue_id", "key", "purpose", "kind", "unit", "card_account_id"),
    "account_balances": ("account_id", "bucket", "venue_id", "balance"),
    "journal_entries": (
        "id",
        "venue_id",
        "code",
        "device_id",
        "operator_id",
        "idempotency_key",
        "created_at",
        "effective_at",
        "business_day",
        "corrects_entry_id",
        "memo",
        "device_seq",
        "prev_hash",
        "hash",
    ),
    "postings": ("id", "venue_id", "entry_id", "account_id", "unit", "bucket", "amount"),
    "audit_log": (
        "id",
        "venue_id",
        "device_id",
        "seq",
        "operator_id",
        "action",
        "subject",
        "details",
        "recorded_at",
        "prev_hash",
        "hash",
    ),
}
PER_MEDIUM_TABLES = ("media", "visits", "card_accounts", "card_balances", "tabs", "ledger_accounts")


# --------------------------------------------------------------------------- the journal


@dataclass(slots=True)
class Journal:
    """State carried through one venue's journal stream: next ids, each till's chain head, the venue-wide
    balance buckets."""

    next_entry: int
    next_posting: int
    heads: dict[int, tuple[int, str]]  # device → (last seq, last hash)
    buckets: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))  # (account, bucket)


def _sale_lines(setup: VenueSetup) -> dict[int, tuple[tuple[int, str, int], ...]]:
    """Per product: the revenue and VAT lines `sell_from_balance` drafts for one item, as
    (account id, unit, amount)."""
    templates = {}
    for product_id, price, rate in setup.products:
        draft = EntryDraft(EntryCode.SALE, memo=SALE_MEMO)
        credit_revenue(draft, setup.venue, split_by_rate([(price, rate)]))
        templates[product_id] = tuple(
            (setup.account_ids[line.account.key], line.unit, line.amount) for line in draft.lines
        )
    return templates


def venue_postings(shape: Shape, setup: VenueSetup, v: int) -> int:
    """How many postings the venue's journal has: 2 per top-up, 1 + the product's revenue lines per sale.
    Counted per product residue instead of per medium: medium m's j-th sale is product (m + 3j) mod P."""
    count, lines = shape.media_of_venue(v), _sale_lines(setup)
    products = len(setup.products)
    total = 2 * count
    for j in range(1, shape.entries_per_medium):
        for r, (product_id, _, _) in enumerate(setup.products):
            media = count // products + (1 if (r - 3 * j) % products < count % products else 0)
            total += media * (1 + len(lines[product_id]))
    return total


def venue_starts(shape: Shape, setups: Sequence[VenueSetup], ids: Ids) -> list[tuple[int, int]]:
    """The first journal entry and posting id of each venue: venues get consecutive id ranges, so each can be
    generated (and loaded) on its own."""
    starts, entry, posting = [], ids.entries, ids.postings
    for v, setup in enumerate(setups):
        starts.append((entry, posting))
        entry += shape.media_of_venue(v) * shape.entries_per_medium
        posting += venue_postings(shape, setup, v)
    return starts


def open_journal(setup: VenueSetup, start: tuple[int, int], heads: dict[int, tuple[int, str]]) -> Journal:
    """A venue's journal state: its first entry and posting id, its tills' chain heads after set-up."""
    return Journal(start[0], start[1], {till: heads[till] for till in setup.tills if till in heads})


def journal_days(
    shape: Shape, setup: VenueSetup, v: int, ids: Ids, journal: Journal
) -> Iterator[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """Yield (journal_entries rows, postings rows) of venue `v`, day by day in time order; `journal` carries
    the ids, chain heads and balance buckets along."""
    n, count = shape.entries_per_medium, shape.media_of_venue(v)
    sale_lines = _sale_lines(setup)
    cash_id = setup.account_ids[cash(setup.venue.currency).key]
    for d in range(shape.days):
        day = shape.first_day + timedelta(days=d)
        ranges = [
            (j, max(0, -(-d * n * count // shape.days) - j * count), -(-(d + 1) * n * count // shape.days) - j * count)
            for j in range(n)
        ]
        ranges = [(j, lo, min(hi, count)) for j, lo, hi in ranges if lo < min(hi, count)]
        total = sum(hi - lo for _, lo, hi in ranges)
        day_rows = _DayRows(shape, setup, v, ids, day, total, sale_lines, cash_id, journal)
        for j, lo, hi in ranges:
            for m in range(lo, hi):
                day_rows.book(m, j)
        yield day_rows.entries, day_rows.postings


class _DayRows:
    """One venue's entries and postings of one day; what is the same for every entry of the day is
    computed once (opening time, each till's bucket)."""

    def __init__(
        self,
        shape: Shape,
        setup: VenueSetup,
        v: int,
        ids: Ids,
        day: date,
        total: int,
        sale_lines: dict[int, tuple[tuple[int, str, int], ...]],
        cash_id: int,
        journal: Journal,
    ) -> None:
        self.shape, self.setup, self.v, self.day = shape, setup, v, day
        self.opening = _local(shape, day, 0)
        self.step_s = OPEN_SECONDS / max(total, 1)
        self.position = 0
        self.buckets = {till: f"d{till}:{day.isoformat()}" for till in setup.tills}
        self.card_ledger_base = ids.ledger_accounts
        self.sale_lines, self.cash_id, self.journal = sale_lines, cash_id, journal
        self.entries: list[tuple[object, ...]] = []
        self.postings: list[tuple[object, ...]] = []

    def book(self, m: int, j: int) -> None:
        shape, setup, journal = self.shape, self.setup, self.journal
        venue_id, unit = setup.venue.id, setup.venue.currency
        at = self.opening + timedelta(seconds=int(self.position * self.step_s))
        self.position += 1
        till = setup.tills[(m + j) % len(setup.tills)]
        bucket = self.buckets[till]
        card_ledger_id = self.card_ledger_base + shape.global_index(self.v, m)
        if j == 0:
            amount = topup_of(setup, shape, m)
            code, memo = EntryCode.TOPUP.value, TOPUP_MEMO
            lines = [(self.cash_id, unit, amount, bucket), (card_ledger_id, unit, -amount, "")]
        else:
            product_id, price, _ = _price_of(setup, m, j)
            code, memo = EntryCode.SALE.value, SALE_MEMO
            lines = [(card_ledger_id, unit, price, "")]
            lines.extend((account, u, amount, bucket) for account, u, amount in self.sale_lines[product_id])
        seq, prev_hash = journal.heads.get(till, (0, audit.GENESIS_HASH))
        digest = ChainedEntry(
            venue_id=venue_id,
            device_id=till,
            device_seq=seq + 1,
            code=code,
            operator_id=setup.cashier_id,
            effective_at=at,
            business_day=self.day,
            corrects_entry_id=None,
            memo=memo,
            postings=sorted_postings((account, u, amount) for account, u, amount, _ in lines),
        ).digest(prev_hash)
        journal.heads[till] = (seq + 1, digest)
        entry_id = journal.next_entry
        journal.next_entry += 1
        key = f"scale-{entry_id}"
        header = (entry_id, venue_id, code, till, setup.cashier_id, key, at, at, self.day, None, memo)
        self.entries.append((*header, seq + 1, prev_hash, digest))
        posting_id = journal.next_posting
        for account, u, amount, line_bucket in lines:
            self.postings.append((posting_id, venue_id, entry_id, account, u, line_bucket, amount))
            posting_id += 1
            if line_bucket:
                journal.buckets[(account, line_bucket)] += amount
        journal.next_posting = posting_id


def bucket_rows(setup: VenueSetup, journal: Journal) -> Iterator[tuple[object, ...]]:
    """account_balances rows of the venue's venue-wide accounts: one per account, till and business day."""
    for (account_id, bucket), balance in sorted(journal.buckets.items()):
        yield (account_id, bucket, setup.venue.id, balance)


# --------------------------------------------------------------------------- audit rows


def audit_rows(
    shape: Shape, setups: Sequence[VenueSetup], ids: Ids, heads: dict[int, tuple[int, str]]
) -> Iterator[tuple[object, ...]]:
    """`medium.manual_entry` rows (a number typed at a till) for one medium in `audit_every`, each half an
    hour before that medium's top-up, chained per till after whatever set-up recorded there."""
    heads = dict(heads)
    next_id = ids.audit
    details = json.dumps({}, sort_keys=True, separators=(",", ":"))
    for v, setup in enumerate(setups):
        for m in range(0, shape.media_of_venue(v), shape.audit_every):
            till = setup.tills[(m // shape.audit_every) % len(setup.tills)]
            day = shape.first_day + timedelta(days=shape.day_of(v, m, 0))
            at = _local(shape, day, -1800 + m % 1000)
            seq, prev_hash = heads.get(till, (0, audit.GENESIS_HASH))
            subject = f"medium:{shape.uid(v, m)}"
            digest = audit.row_hash(
                prev_hash=prev_hash,
                venue_id=setup.venue.id,
                device_id=till,
                seq=seq + 1,
                operator_id=setup.cashier_id,
                action="medium.manual_entry",
                subject=subject,
                details=details,
                recorded_at=at,
            )
            heads[till] = (seq + 1, digest)
            yield (
                next_id,
                setup.venue.id,
                till,
                seq + 1,
                setup.cashier_id,
                "medium.manual_entry",
                subject,
                details,
                at,
                prev_hash,
                digest,
            )
            next_id += 1


def expected_totals(shape: Shape, setups: Sequence[VenueSetup]) -> Totals:
    """What a correct load contains, computed from the shape alone (the smoke test holds the database to it)."""
    totals = Totals()
    for v, setup in enumerate(setups):
        count = shape.media_of_venue(v)
        funded = sum(1 for m in range(count) if shape.funded(m))
        totals.media += count
        totals.entries += count * shape.entries_per_medium
        totals.postings += venue_postings(shape, setup, v)
        totals.audit_rows += len(range(0, count, shape.audit_every))
        totals.float_minor[setup.venue.id] = funded * shape.funded_load_minor
        totals.due_renew += sum(1 for m in range(count) if shape.funded(m) and shape.due(m))
        totals.due_delete += sum(1 for m in range(count) if not shape.funded(m) and shape.due(m))
    return totals
