"""The schema. Every row carries venue_id so a venue's data can later be sharded without cross-venue writes.

Migrations under store/migrations must produce exactly this metadata (tests/store/test_migrations.py).
"""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.store.types import ID, Amount, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)


def _id() -> sa.Column[int]:
    return sa.Column("id", ID, primary_key=True, autoincrement=True)


def _venue() -> sa.Column[int]:
    return sa.Column("venue_id", ID, sa.ForeignKey("venues.id"), nullable=False, index=True)


def _created() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False, server_default=sa.func.now())


venues = sa.Table(
    "venues",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("fiscal_profile", sa.String(16), nullable=False),
    sa.Column("advance_vat_rate_bp", sa.Integer, nullable=True),
    _created(),
    # DESIGN §7: unbind the medium automatically when it leaves the paid zone (seed 000), on by default.
    sa.Column("auto_unbind", sa.Boolean, nullable=False, server_default=sa.true()),
    # seed 001 "Använd nycklar till betalning": buying with the medium at the tills, switched per venue.
    sa.Column("pay_with_medium", sa.Boolean, nullable=False, server_default=sa.true()),
    # seed 001 usePaymentKeyForPerson: a registered customer's debt stays on the wristband (settled before
    # exit) instead of going to the customer account.
    sa.Column("member_debt_on_medium", sa.Boolean, nullable=False, server_default=sa.false()),
    # seed 002 "Pfand": the card deposit when a medium is sold without an account type that sets its own.
    sa.Column("card_deposit_minor", Amount, nullable=False, server_default="0"),
    # seed 002 "Stellenzahl": card numbers are shown with this many trailing digits (10046 → 046).
    sa.Column("card_number_digits", sa.Integer, nullable=True),
    # Networked venues of one chain can hand card accounts to each other (seed 002 "vernetzte Studios").
    sa.Column("chain", sa.String(64), nullable=True),
    # Printed on every receipt (KassenSichV / 54-FZ mandatory seller data).
    sa.Column("address", sa.String(500), nullable=False, server_default=""),
    sa.Column("tax_id", sa.String(32), nullable=True),
)

devices = sa.Table(
    "devices",
    metadata,
    _id(),
    _venue(),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    _created(),
    # A till may override the venue's pay_with_medium (seed 001: per computer); NULL follows the venue.
    sa.Column("pay_with_medium", sa.Boolean, nullable=True),
    # Where the device's journal and audit hash chains end (DESIGN §4), set in the transaction that appends
    # to them, on this row which that transaction already holds: `tapzone check` compares them with the
    # chains' last rows, so a chain cut short at its newest end is found too (migration 0013).
    sa.Column("journal_head_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("journal_head_hash", sa.String(64), nullable=False, server_default="0" * 64),
    sa.Column("audit_head_seq", sa.Integer, nullable=False, server_default="0"),
    sa.Column("audit_head_hash", sa.String(64), nullable=False, server_default="0" * 64),
    sa.UniqueConstraint("venue_id", "name"),
)

roles = sa.Table(
    "roles",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(64), nullable=False),
    sa.UniqueConstraint("venue_id", "name"),
)

role_permissions = sa.Table(
    "role_permissions",
    metadata,
    sa.Column("role_id", ID, sa.ForeignKey("roles.id"), primary_key=True),
    sa.Column("permission", sa.String(64), primary_key=True),
)

staff = sa.Table(
    "staff",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("login", sa.String(64), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("role_id", ID, sa.ForeignKey("roles.id"), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    # The screens' language for this person (en, de, sv, ru); NULL follows the venue's language.
    sa.Column("language", sa.String(8), nullable=True),
    sa.UniqueConstraint("venue_id", "login"),
)

customers = sa.Table(
    "customers",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    _created(),
    sa.Column("price_group_id", ID, sa.ForeignKey("price_groups.id"), nullable=True),
    # seed 002 "Hauttypen": the customer's skin type limits tanning time on types that enforce it.
    sa.Column("skin_type", sa.Integer, nullable=True),
)

media = sa.Table(
    "media",
    metadata,
    _id(),
    _venue(),
    sa.Column("uid", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    # Deposit paid for this physical medium and not yet refunded or forfeited (DESIGN §7).
    sa.Column("deposit_minor", Amount, nullable=False, server_default="0"),
    _created(),
    # A QR medium's printed code is a random token, not its number: regenerating it retires the old print.
    sa.Column("qr_token", sa.String(64), nullable=True, unique=True),
    sa.Column("qr_generation", sa.Integer, nullable=False, server_default="0"),
    # The customer portal's PIN (argon2); the number alone never opens the portal.
    sa.Column("pin_hash", sa.String(255), nullable=True),
    sa.UniqueConstraint("venue_id", "uid"),
)

visits = sa.Table(
    "visits",
    metadata,
    _id(),
    _venue(),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=False),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=True),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("opened_by_device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("zone_id", ID, sa.ForeignKey("zones.id"), nullable=True),
    sa.Column("entry_product_id", ID, sa.ForeignKey("products.id"), nullable=True),
    sa.Column("party_id", ID, sa.ForeignKey("parties.id"), nullable=True, index=True),
    sa.Column("is_main", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("inside", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("entered_at", UTCDateTime(), nullable=True),
    sa.Column("exited_at", UTCDateTime(), nullable=True),
    sa.Column("overstay_blocks_charged", sa.Integer, nullable=False, server_default="0"),
    # A medium is bound to at most one open visit: the database refuses a second binding.
    sa.Index(
        "uq_visits_open_medium",
        "medium_id",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
    # A gate's offline list: the open visits of its zone, paged by medium.
    sa.Index(
        "ix_visits_open_zone_medium",
        "venue_id",
        "zone_id",
        "medium_id",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

card_accounts = sa.Table(
    "card_accounts",
    metadata,
    _id(),
    _venue(),
    sa.Column("visit_id", ID, sa.ForeignKey("visits.id"), nullable=False, index=True),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=False, index=True),
    sa.Column("credit_type", sa.String(16), nullable=False),
    sa.Column("credit_limit_minor", Amount, nullable=False, server_default="0"),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint("credit_limit_minor >= 0", name="credit_limit_not_negative"),
    # seed 002: the account type whose tariff and rules apply; NULL for a plain seed 001 credit/prepaid account.
    sa.Column("account_type_id", ID, sa.ForeignKey("account_types.id"), nullable=True, index=True),
    sa.Column("valid_until", sa.Date, nullable=True),
    # The start of the last service used with this account: lock periods and "half time after N days".
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
    # Why the account closed: returned with the medium, deleted on expiry, transferred to another venue.
    sa.Column("closed_reason", sa.String(16), nullable=True),
    # The daily job's due set, in its batch order: a venue's open accounts by validity end (issue 9).
    sa.Index(
        "ix_card_accounts_open_due",
        "venue_id",
        "valid_until",
        "id",
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

# The card-side record of what each card account holds (holder's view: positive = owed to the holder).
# `tapzone check` compares it with the liability postings, an independent source (DESIGN §3).
card_balances = sa.Table(
    "card_balances",
    metadata,
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), primary_key=True),
    sa.Column("unit", sa.String(16), primary_key=True),
    _venue(),
    sa.Column("balance", Amount, nullable=False),
)

products = sa.Table(
    "products",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("price_minor", Amount, nullable=False),
    sa.Column("vat_rate_bp", sa.Integer, nullable=False),
    sa.Column("product_group", sa.String(64), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    sa.CheckConstraint("price_minor > 0", name="price_positive"),
    sa.CheckConstraint("vat_rate_bp >= 0 AND vat_rate_bp <= 10000", name="vat_rate_range"),
)

tabs = sa.Table(
    "tabs",
    metadata,
    _id(),
    _venue(),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False, index=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("settlement_entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Index(
        "uq_tabs_open_card_account",
        "card_account_id",
        unique=True,
        sqlite_where=sa.text("state = 'open'"),
        postgresql_where=sa.text("state = 'open'"),
    ),
)

tab_lines = sa.Table(
    "tab_lines",
    metadata,
    _id(),
    _venue(),
    sa.Column("tab_id", ID, sa.ForeignKey("tabs.id"), nullable=False, index=True),
    sa.Column("product_id", ID, sa.ForeignKey("products.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("unit_price_minor", Amount, nullable=False),
    sa.Column("amount_minor", Amount, nullable=False),
    sa.Column("vat_rate_bp", sa.Integer, nullable=False),
    sa.Column("product_group", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("cancelled_at", UTCDateTime(), nullable=True),
    sa.Column("cancel_reason", sa.String(200), nullable=True),
    sa.CheckConstraint("quantity > 0", name="quantity_positive"),
    sa.CheckConstraint("amount_minor = quantity * unit_price_minor", name="amount_is_quantity_times_price"),
)

bills = sa.Table(
    "bills",
    metadata,
    _id(),
    _venue(),
    sa.Column("tab_id", ID, sa.ForeignKey("tabs.id"), nullable=False, index=True),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("total_minor", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("venue_id", "device_id", "number"),
)

bill_lines = sa.Table(
    "bill_lines",
    metadata,
    sa.Column("bill_id", ID, sa.ForeignKey("bills.id"), primary_key=True),
    sa.Column("tab_line_id", ID, sa.ForeignKey("tab_lines.id"), primary_key=True),
)

holds = sa.Table(
    "holds",
    metadata,
    _id(),
    _venue(),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False, index=True),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("tab_line_id", ID, sa.ForeignKey("tab_lines.id"), nullable=True, index=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint("amount > 0", name="amount_positive"),
)

ledger_accounts = sa.Table(
    "ledger_accounts",
    metadata,
    _id(),
    _venue(),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("purpose", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=True, index=True),
    sa.UniqueConstraint("venue_id", "key"),
)

journal_entries = sa.Table(
    "journal_entries",
    metadata,
    _id(),
    _venue(),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    _created(),
    sa.Column("effective_at", UTCDateTime(), nullable=False),
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("corrects_entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("memo", sa.String(500), nullable=False, server_default=""),
    # Tamper evidence (DESIGN §4): each device's entries form a hash chain over header and postings.
    sa.Column("device_seq", sa.BigInteger, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=True),
    sa.Column("hash", sa.String(64), nullable=True),
    sa.UniqueConstraint("device_id", "device_seq"),
    # The card float as of a past moment or business day reads only the entries after it (reports/card_float).
    sa.Index("ix_journal_entries_venue_id_effective_at", "venue_id", "effective_at"),
    sa.Index("ix_journal_entries_venue_id_business_day", "venue_id", "business_day"),
)

postings = sa.Table(
    "postings",
    metadata,
    _id(),
    _venue(),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=False, index=True),
    sa.Column("account_id", ID, sa.ForeignKey("ledger_accounts.id"), nullable=False, index=True),
    sa.Column("unit", sa.String(16), nullable=False),
    sa.Column("bucket", sa.String(48), nullable=False),
    sa.Column("amount", Amount, nullable=False),
    sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
)

# Materialised balances: one row per card-side account (bucket ''), one per till and business day for
# venue-wide accounts (bucket 'd<device>:<yyyy-mm-dd>'), summed when read.
account_balances = sa.Table(
    "account_balances",
    metadata,
    sa.Column("account_id", ID, sa.ForeignKey("ledger_accounts.id"), primary_key=True),
    sa.Column("bucket", sa.String(48), primary_key=True),
    _venue(),
    sa.Column("balance", Amount, nullable=False),
)

# The card float, pre-aggregated (ledger/float_totals.py): the card liability balances summed per account
# type, medium kind, purpose and unit, and how many of those accounts are non-zero. Kept per booking device
# (`slot`), so each till adds to rows only it writes; slot 0 holds what was there when the table came
# (migration 0011). No foreign keys: 0 stands for "no account type" and for that slot.
card_float_totals = sa.Table(
    "card_float_totals",
    metadata,
    sa.Column("venue_id", ID, primary_key=True),
    sa.Column("slot", ID, primary_key=True),
    sa.Column("account_type_id", ID, primary_key=True),
    sa.Column("medium_kind", sa.String(16), primary_key=True),
    sa.Column("purpose", sa.String(32), primary_key=True),
    sa.Column("unit", sa.String(16), primary_key=True),
    sa.Column("balance", Amount, nullable=False),
    sa.Column("accounts", sa.BigInteger, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("operation", sa.String(64), nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=True),
    _created(),
    sa.UniqueConstraint("venue_id", "device_id", "key"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("device_id", "seq"),
)

# Per-device bearer tokens; only a SHA-256 of the token is stored, the token itself is shown once.
device_tokens = sa.Table(
    "device_tokens",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

# A staff member signed in on one till; the session token is only valid together with that till's token.
staff_sessions = sa.Table(
    "staff_sessions",
    metadata,
    _id(),
    _venue(),
    sa.Column("staff_id", ID, sa.ForeignKey("staff.id"), nullable=False, index=True),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("ended_at", UTCDateTime(), nullable=True),
)

zones = sa.Table(
    "zones",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("service_type", sa.String(16), nullable=False),
    _created(),
    sa.UniqueConstraint("venue_id", "name"),
)

# Which media changed in a way a gate's offline list shows (binding, zone, inside, state, settled or not), one row
# per medium with the number of its last change. Written by database triggers (migration 0008) on media, visits,
# card_accounts, card_balances and tab_lines, so no writer can forget it; gates fetch "changes since seq N".
# seq: a sequence on PostgreSQL, max+1 per venue on SQLite (writers are serialised there); changed_s: database
# time in epoch seconds, used to hand out only versions old enough that no transaction can still commit below.
gate_list_marks = sa.Table(
    "gate_list_marks",
    metadata,
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), primary_key=True),
    sa.Column("venue_id", ID, sa.ForeignKey("venues.id"), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("changed_s", sa.BigInteger, nullable=False),
    sa.Index("ix_gate_list_marks_venue_seq", "venue_id", "seq"),
    sa.Index("ix_gate_list_marks_venue_changed", "venue_id", "changed_s"),
)

# A gate is a device (turnstile, validator, collector, mobile operator) guarding one zone in a direction.
gates = sa.Table(
    "gates",
    metadata,
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), primary_key=True),
    _venue(),
    sa.Column("zone_id", ID, sa.ForeignKey("zones.id"), nullable=False),
    sa.Column("direction", sa.String(8), nullable=False),
    sa.Column("open_ms", sa.Integer, nullable=False),
    # The last offline event of this gate applied from its journal (gate's own sequence numbers, applied in order).
    sa.Column("offline_seq", sa.BigInteger, nullable=False, server_default="0"),
)

# What an entry product (a product sold at the entrance) grants: seed 001 "Entré" tab.
entry_products = sa.Table(
    "entry_products",
    metadata,
    sa.Column("product_id", ID, sa.ForeignKey("products.id"), primary_key=True),
    _venue(),
    sa.Column("zone_id", ID, sa.ForeignKey("zones.id"), nullable=False),
    sa.Column("credit_type", sa.String(16), nullable=False),
    sa.Column("credit_limit_minor", Amount, nullable=False, server_default="0"),
    sa.Column("included_minutes", sa.Integer, nullable=True),
    sa.Column("deposit_minor", Amount, nullable=False, server_default="0"),
    sa.Column("anti_passback", sa.String(16), nullable=False),
    sa.Column("companions", sa.Integer, nullable=False, server_default="0"),
    # Time beyond the included minutes is charged per started block, after a grace period, with this product.
    sa.Column("overstay_product_id", ID, sa.ForeignKey("products.id"), nullable=True),
    sa.Column("overstay_block_minutes", sa.Integer, nullable=True),
    sa.Column("overstay_grace_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.CheckConstraint("companions >= 0 AND companions <= 20", name="companions_range"),
)

# A party: a main medium and its companions sold together on one family or group ticket.
parties = sa.Table(
    "parties",
    metadata,
    _id(),
    _venue(),
    sa.Column("anti_passback", sa.String(16), nullable=False),
    _created(),
)

# Every tap at a gate, allowed or not; (gate, tap id) is unique so a redelivered tap gets the stored answer.
access_events = sa.Table(
    "access_events",
    metadata,
    _id(),
    _venue(),
    sa.Column("gate_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("tap_id", sa.String(64), nullable=False),
    sa.Column("medium_uid", sa.String(64), nullable=False),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=True),
    sa.Column("visit_id", ID, sa.ForeignKey("visits.id"), nullable=True),
    sa.Column("passage", sa.String(8), nullable=True),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("tab_ids", sa.String(200), nullable=False, server_default=""),
    sa.Column("open_ms", sa.Integer, nullable=False),
    sa.Column("unbound", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    # Offline gates: decided by the gate from its cached list during an outage and uploaded later. recorded_at is
    # then the gate's time of the tap, applied_at the server's time of the upload, gate_seq the journal's number.
    sa.Column("offline", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("gate_seq", sa.BigInteger, nullable=True),
    sa.Column("applied_at", UTCDateTime(), nullable=True),
    # What the server found wrong with a passage the gate allowed offline, e.g. passed-offline-while-owing.
    sa.Column("flag", sa.String(40), nullable=True),
    sa.UniqueConstraint("gate_id", "tap_id"),
    sa.Index("ix_access_events_venue_recorded", "venue_id", "recorded_at"),
)

# seed 004 "Benutzergruppe": customers whose products have other prices (staff, members, guests).
price_groups = sa.Table(
    "price_groups",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(64), nullable=False),
    _created(),
    sa.UniqueConstraint("venue_id", "name"),
)

product_prices = sa.Table(
    "product_prices",
    metadata,
    sa.Column("product_id", ID, sa.ForeignKey("products.id"), primary_key=True),
    sa.Column("price_group_id", ID, sa.ForeignKey("price_groups.id"), primary_key=True),
    _venue(),
    sa.Column("price_minor", Amount, nullable=False),
    sa.CheckConstraint("price_minor > 0", name="price_positive"),
)

# seed 002 "Tarife": how a service is priced. A time table (rates) overrides the base price by weekday and time.
tariffs = sa.Table(
    "tariffs",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # per-use, per-minute, subscription
    sa.Column("price_minor", Amount, nullable=True),
    # Subscription tariff ("Abotarif"): the longest session and which resources it may switch on.
    sa.Column("max_minutes", sa.Integer, nullable=True),
    sa.Column("resource_ids", sa.String(500), nullable=False, server_default=""),
    _created(),
    sa.UniqueConstraint("venue_id", "name"),
)

tariff_rates = sa.Table(
    "tariff_rates",
    metadata,
    _id(),
    _venue(),
    sa.Column("tariff_id", ID, sa.ForeignKey("tariffs.id"), nullable=False, index=True),
    sa.Column("weekdays", sa.Integer, nullable=False),  # bit 0 = Monday … bit 6 = Sunday
    sa.Column("start_minute", sa.Integer, nullable=False),
    sa.Column("end_minute", sa.Integer, nullable=False),
    sa.Column("price_minor", Amount, nullable=False),
)

# seed 002 "Aufwertung": how a sale price turns into balances. Free: any price, optional bonus percentage;
# stepped: a price list, each step mapping to increments.
topup_rules = sa.Table(
    "topup_rules",
    metadata,
    _id(),
    _venue(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # free, stepped
    sa.Column("bonus_percent_bp", sa.Integer, nullable=False, server_default="0"),
    _created(),
    sa.UniqueConstraint("venue_id", "name"),
)

topup_steps = sa.Table(
    "topup_steps",
    metadata,
    _id(),
    _venue(),
    sa.Column("rule_id", ID, sa.ForeignKey("topup_rules.id"), nullable=False, index=True),
    sa.Column("price_minor", Amount, nullable=False),
    sa.Column("money_minor", Amount, nullable=False, server_default="0"),
    sa.Column("bonus", Amount, nullable=False, server_default="0"),
    sa.Column("minutes", Amount, nullable=False, server_default="0"),
    sa.Column("visits", Amount, nullable=False, server_default="0"),
    sa.Column("days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("months", sa.Integer, nullable=False, server_default="0"),
    sa.Column("valid_until", sa.Date, nullable=True),
    sa.UniqueConstraint("rule_id", "price_minor"),
)

# seed 002 "Kartenkonto": a tariff system sold as a card. Every field of the manual's dialog is a column.
account_types = sa.Table(
    "account_types",
    metadata,
    _id(),
    _venue(),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("tariff_id", ID, sa.ForeignKey("tariffs.id"), nullable=True),
    sa.Column("usage_free", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("topup_rule_id", ID, sa.ForeignKey("topup_rules.id"), nullable=True),
    sa.Column("discount_type_id", ID, sa.ForeignKey("account_types.id"), nullable=True),
    sa.Column("default_price_minor", Amount, nullable=True),
    sa.Column("vat_rate_bp", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deposit_minor", Amount, nullable=True),
    sa.Column("deposit_is_sale_price", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("lock_days", sa.Integer, nullable=True),
    sa.Column("lock_hours", sa.Integer, nullable=True),
    sa.Column("half_time_after_days", sa.Integer, nullable=True),
    sa.Column("fee_minor", Amount, nullable=False, server_default="0"),
    sa.Column("number_from", sa.BigInteger, nullable=True),
    sa.Column("number_to", sa.BigInteger, nullable=True),
    sa.Column("sellable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("auto_renew", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("delete_on_expiry", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("pay_without_topup", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("staff_only", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("fingerprint_required", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("picture", sa.String(200), nullable=True),
    sa.Column("skin_types_enforced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("contract_required", sa.Boolean, nullable=False, server_default=sa.false()),
    _created(),
    sa.UniqueConstraint("venue_id", "number"),
    sa.CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
)

# seed 002 "Hauttypen": the longest session per skin type.
skin_types = sa.Table(
    "skin_types",
    metadata,
    sa.Column("venue_id", ID, sa.ForeignKey("venues.id"), primary_key=True),
    sa.Column("skin_type", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("max_minutes", sa.Integer, nullable=False),
)

# seed 002 "Abovertrag": the subscription contract filled in when a card account of such a type is issued.
contracts = sa.Table(
    "contracts",
    metadata,
    _id(),
    _venue(),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False, unique=True),
    sa.Column("customer_id", ID, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("account_holder", sa.String(200), nullable=False),
    sa.Column("iban", sa.String(34), nullable=False),
    sa.Column("bic", sa.String(11), nullable=True),
    sa.Column("mandate_reference", sa.String(35), nullable=False),
    sa.Column("mandate_signed_on", sa.Date, nullable=False),
    sa.Column("address", sa.String(500), nullable=False),
    _created(),
)

# A service device (sunbed, sauna, fitness area): the product it books usage to, its longest session.
resources = sa.Table(
    "resources",
    metadata,
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), primary_key=True),
    _venue(),
    sa.Column("product_id", ID, sa.ForeignKey("products.id"), nullable=False),
    sa.Column("max_minutes", sa.Integer, nullable=False),
)

resource_sessions = sa.Table(
    "resource_sessions",
    metadata,
    _id(),
    _venue(),
    sa.Column("resource_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False, index=True),
    sa.Column("requested_by_device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("price_minor", Amount, nullable=False),
    sa.Column("paid_with", sa.String(16), nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("tab_line_id", ID, sa.ForeignKey("tab_lines.id"), nullable=True),
)

# A fingerprint reader confirmed that the person holding the medium is its owner; valid for a short while.
fingerprint_matches = sa.Table(
    "fingerprint_matches",
    metadata,
    _id(),
    _venue(),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=False, index=True),
    sa.Column("reader_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("matched_at", UTCDateTime(), nullable=False),
)

# The log of card-account changes that move no money of their own (seed 002: renewals and deletions appear in
# the log data). (account, code, day) is unique: the daily job renews or deletes an account at most once a day.
card_account_changes = sa.Table(
    "card_account_changes",
    metadata,
    _id(),
    _venue(),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("valid_until_before", sa.Date, nullable=True),
    sa.Column("valid_until_after", sa.Date, nullable=True),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("note", sa.String(200), nullable=False, server_default=""),
    sa.Column("recorded_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("card_account_id", "code", "business_day"),
)

# One row per venue and day the daily job finished; a rerun of a finished day does nothing.
daily_runs = sa.Table(
    "daily_runs",
    metadata,
    sa.Column("venue_id", ID, sa.ForeignKey("venues.id"), primary_key=True),
    sa.Column("business_day", sa.Date, primary_key=True),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("renewed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", sa.Integer, nullable=False, server_default="0"),
)

# --- payments, cash drawer, receipts, fiscal signing (issue 6) ---------------------------------------------

# Card terminals and other cashless providers configured per till (seed 003: one is "used by default").
payment_terminals = sa.Table(
    "payment_terminals",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False, index=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),  # standalone, integrated-zvt, none, simulator
    sa.Column("host", sa.String(255), nullable=True),
    sa.Column("port", sa.Integer, nullable=True),
    sa.Column("password", sa.String(6), nullable=True),  # the ZVT terminal password, six digits
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    sa.UniqueConstraint("device_id", "name"),
    sa.Index(
        "uq_payment_terminals_default",
        "device_id",
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    ),
)

# A cashless payment: pending until the terminal (or the cashier, for a standalone terminal) approves it; only
# then is the operation it pays for booked and its receipt issued (seed 003).
payments = sa.Table(
    "payments",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False, index=True),
    sa.Column("terminal_id", ID, sa.ForeignKey("payment_terminals.id"), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    # The key of the request that opened the payment: a retry finds this payment instead of opening another.
    sa.Column("idempotency_key", sa.String(128), nullable=False),
    sa.Column("amount_minor", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("operation", sa.String(32), nullable=False),
    sa.Column("operation_payload", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Column("approved_amount_minor", Amount, nullable=True),
    sa.Column("slip_number", sa.String(32), nullable=True),
    sa.Column("terminal_reference", sa.String(64), nullable=True),
    sa.Column("detail", sa.String(500), nullable=False, server_default=""),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("receipt_id", ID, sa.ForeignKey("receipts.id"), nullable=True),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
    sa.UniqueConstraint("device_id", "idempotency_key"),
)

# A cashier's shift at one till: opened with a float, closed with the counted cash.
shifts = sa.Table(
    "shifts",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False, index=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("opened_at", UTCDateTime(), nullable=False),
    sa.Column("opened_by", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("float_minor", Amount, nullable=False),
    sa.Column("float_entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("closed_at", UTCDateTime(), nullable=True),
    sa.Column("closed_by", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("expected_minor", Amount, nullable=True),
    sa.Column("counted_minor", Amount, nullable=True),
    sa.Column("counted_denominations", sa.Text, nullable=True),
    sa.Column("difference_minor", Amount, nullable=True),
    sa.Column("difference_entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.UniqueConstraint("device_id", "number"),
    sa.Index(
        "uq_shifts_open_device",
        "device_id",
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    ),
)

# The numbered, immutable end-of-day report of one till (Z report); its totals are read from the ledger.
z_reports = sa.Table(
    "z_reports",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("business_day", sa.Date, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("totals", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("device_id", "number"),
    sa.UniqueConstraint("device_id", "business_day"),
)

# Every printed document: numbered per till, its content kept as issued (the receipt model as JSON).
receipts = sa.Table(
    "receipts",
    metadata,
    _id(),
    _venue(),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True, index=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("tse_transaction_id", ID, sa.ForeignKey("tse_transactions.id"), nullable=True),
    sa.UniqueConstraint("device_id", "number"),
)

# Per-till counters (receipt numbers, shift numbers, Z numbers): one row per device and name, bumped under lock.
device_counters = sa.Table(
    "device_counters",
    metadata,
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), primary_key=True),
    sa.Column("name", sa.String(32), primary_key=True),
    _venue(),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# A technical security element (TSE, KassenSichV) or its simulator: keys, serial and counters survive restarts.
tse_signers = sa.Table(
    "tse_signers",
    metadata,
    _id(),
    _venue(),
    sa.Column("serial", sa.String(64), nullable=False, unique=True),
    # The till this TSE serves; one per till keeps tills from queueing behind one signer row (DESIGN §4).
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=True, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # simulator; hardware TSEs plug in as other kinds
    sa.Column("public_key", sa.Text, nullable=False),
    sa.Column("private_key", sa.Text, nullable=True),  # the simulator's own key; a real TSE never reveals it
    sa.Column("signature_algorithm", sa.String(32), nullable=False),
    sa.Column("signature_counter", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("transaction_counter", sa.BigInteger, nullable=False, server_default="0"),
    _created(),
)

tse_transactions = sa.Table(
    "tse_transactions",
    metadata,
    _id(),
    _venue(),
    sa.Column("signer_id", ID, sa.ForeignKey("tse_signers.id"), nullable=False),
    sa.Column("number", sa.BigInteger, nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),  # the till's serial number
    sa.Column("state", sa.String(16), nullable=False),  # started, finished
    sa.Column("process_type", sa.String(64), nullable=False),
    sa.Column("process_data", sa.Text, nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("signature_counter", sa.BigInteger, nullable=True),
    sa.Column("signature", sa.Text, nullable=True),
    sa.UniqueConstraint("signer_id", "number"),
)


# --- card lifecycle and money operations (issue 7) -----------------------------------------------------------

# seed 004 "Karte Umbuchen": a lost medium's value moved to a new one, once (the unique from_medium_id).
medium_transfers = sa.Table(
    "medium_transfers",
    metadata,
    _id(),
    _venue(),
    sa.Column("from_medium_id", ID, sa.ForeignKey("media.id"), nullable=False, unique=True),
    sa.Column("to_medium_id", ID, sa.ForeignKey("media.id"), nullable=False),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("device_id", ID, sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("operator_id", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# A top-up paid online through a payment provider: pending until the provider confirms, credited once.
online_topups = sa.Table(
    "online_topups",
    metadata,
    _id(),
    _venue(),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=False, index=True),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False),
    sa.Column("amount_minor", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("provider_reference", sa.String(64), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # pending, credited, resolved, failed
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("confirmed_at", UTCDateTime(), nullable=True),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    # seed 004: support closes a top-up that never completed with the transaction and a correction value.
    sa.Column("resolved_by", ID, sa.ForeignKey("staff.id"), nullable=True),
    sa.Column("resolution", sa.String(500), nullable=True),
    sa.UniqueConstraint("provider", "provider_reference"),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
)

# Leftover value paid out after the visit or event: in cash at a till, or by bank transfer in a SEPA batch.
payouts = sa.Table(
    "payouts",
    metadata,
    _id(),
    _venue(),
    sa.Column("card_account_id", ID, sa.ForeignKey("card_accounts.id"), nullable=False, index=True),
    sa.Column("medium_id", ID, sa.ForeignKey("media.id"), nullable=False),
    sa.Column("amount_minor", Amount, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("method", sa.String(8), nullable=False),  # cash, bank
    sa.Column("state", sa.String(16), nullable=False),  # requested, exported, revoked, paid
    sa.Column("account_holder", sa.String(70), nullable=True),
    sa.Column("iban", sa.String(34), nullable=True),
    sa.Column("bic", sa.String(11), nullable=True),
    sa.Column("batch_id", ID, sa.ForeignKey("payout_batches.id"), nullable=True),
    sa.Column("entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("revoke_entry_id", ID, sa.ForeignKey("journal_entries.id"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
)

payout_batches = sa.Table(
    "payout_batches",
    metadata,
    _id(),
    _venue(),
    sa.Column("message_id", sa.String(35), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("total_minor", Amount, nullable=False),
    sa.Column("xml", sa.Text, nullable=False),
)

# Fixed-window counters for rate limits that must hold across API processes (sign-in, PIN checks, lookups).
rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("scope", sa.String(32), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("window_start", UTCDateTime(), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
)
