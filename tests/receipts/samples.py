"""Sample receipts of every kind, in German (with TSE data), Russian (54-FZ settlement methods) and English."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tapzone.pos.receipts.model import (
    FiscalBlock,
    Receipt,
    ReceiptKind,
    ReceiptLine,
    TenderLine,
    VatLine,
    VenueHeader,
    ZTotals,
)

ISSUED_AT = datetime(2026, 7, 4, 16, 5, 9, tzinfo=UTC)  # 18:05:09 in Berlin and Stockholm, 19:05:09 in Moscow
TIMEZONES = {"de": "Europe/Berlin", "ru": "Europe/Moscow", "en": "Europe/London", "sv": "Europe/Stockholm"}
CURRENCIES = {"de": "EUR", "ru": "RUB", "en": "EUR", "sv": "SEK"}
RATES_BP = {"de": (1900, 700), "ru": (2000, 1000), "en": (2000, 500), "sv": (2500, 1200)}
QR_PAYLOAD = (
    "V0;TZ-TILL-0001;Kassenbeleg-V1;Beleg^0.00_0.00_0.00_0.00_0.00^15.50:Bar;1234;4711;"
    "2026-07-04T16:05:03.000Z;2026-07-04T16:05:09.000Z;ecdsa-plain-SHA384;unixTime;"
    "MGUCMQDQ3ye8Pq0wJp+8Yb1V9dz2kQm7mJ4b1GLqJ3pD8Kx1V1lD0Yx3V7k5uF6f1q2H8CMC9yZ5t3mB7N2v0aH1t4sK8r9Q6w==;"
    "BHhWOeisRpPBTGQ1W4VUH95TXx2GARf8e2NYZXJoInjtGqnxJ8sZ3CQpYgjI+LYEmW5A37sLWHsyU7nSJUBemyU="
)
SIGNATURE = "MGUCMQDQ3ye8Pq0wJp+8Yb1V9dz2kQm7mJ4b1GLqJ3pD8Kx1V1lD0Yx3V7k5uF6f1q2H8CMC9yZ5t3mB7N2v0aH1t4sK8r9Q6w=="

# names with markup characters, an umlaut and Cyrillic: they must come out escaped and intact
NAMES = {
    "de": ("Pommes <groß> & Ketchup", "Apfelschorle 0,5 l"),
    "ru": ("Сауна «Русская» & чай", "Квас 0,5 л"),
    "en": ("Fish & chips <large>", "Lemonade"),
    "sv": ("Bastu & fika <stor>", "Äppelmust"),
}
TOPUP_NAMES = {"de": "Guthaben", "ru": "Депозит", "en": "Prepaid value", "sv": "Saldo"}
VENUES = {
    "de": VenueHeader(name="Bäderland Nord", address=["Wellenweg 3", "20095 Hamburg"], tax_id="DE123456789"),
    "ru": VenueHeader(name="Аквапарк «Волна»", address=["ул. Морская, 5", "Казань"], tax_id="1655000000"),
    "en": VenueHeader(name="Splash & Co <Lido>", address=["1 Pool Lane", "Brighton"], tax_id="GB999999973"),
    "sv": VenueHeader(name="Badhuset Älvsjö", address=["Strandvägen 1", "Stockholm"], tax_id="556000-0000"),
}


def _vat(gross: int, rate_bp: int) -> VatLine:
    vat = (gross * rate_bp * 2 + (10000 + rate_bp)) // (2 * (10000 + rate_bp))  # half-up, VAT included in gross
    return VatLine(rate_bp=rate_bp, gross_minor=gross, net_minor=gross - vat, vat_minor=vat)


def fiscal_block() -> FiscalBlock:
    return FiscalBlock(
        tse_serial="5b2b2d7c0a1e4f0d9a0c3e1f2a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f7",
        signature_algorithm="ecdsa-plain-SHA384",
        time_format="unixTime",
        public_key="BHhWOeisRpPBTGQ1W4VUH95TXx2GARf8e2NYZXJoInjtGqnxJ8sZ3CQpYgjI+LYEmW5A37sLWHsyU7nSJUBemyU=",
        client_id="TZ-TILL-0001",
        transaction_number=1234,
        signature_counter=4711,
        start=datetime(2026, 7, 4, 16, 5, 3, tzinfo=UTC),
        end=ISSUED_AT,
        process_type="Kassenbeleg-V1",
        process_data="Beleg^0.00_0.00_0.00_0.00_0.00^15.50:Bar",
        signature=SIGNATURE,
        qr_payload=QR_PAYLOAD,
    )


def sample_receipt(kind: ReceiptKind, language: str) -> Receipt:
    """A receipt of `kind` with two VAT rates, cash with change and a cashless card payment with a slip."""
    high, low = RATES_BP[language]
    food, drink = NAMES[language]
    lines = [
        ReceiptLine(name=food, quantity=2, unit_price_minor=450, amount_minor=900, vat_rate_bp=high),
        ReceiptLine(name=drink, quantity=1, unit_price_minor=650, amount_minor=650, vat_rate_bp=low),
    ]
    if language == "ru":
        lines = [line.model_copy(update={"settlement_method": "full-payment"}) for line in lines]
    vat = [_vat(900, high), _vat(650, low)]
    tenders = [
        TenderLine(kind="cash", amount_minor=1450),
        TenderLine(kind="card", amount_minor=550, provider="Terminal 1", slip_number="000815", cashless=True),
    ]
    total = 1550
    base: dict[str, object] = {
        "kind": kind,
        "number": 42,
        "venue": VENUES[language],
        "till_name": "Kasse 1 <Eingang>" if language == "de" else "Till 1",
        "till_serial": "TZ-TILL-0001",
        "issued_at": ISSUED_AT,
        "language": language,
        "currency": CURRENCIES[language],
        "operator": "Ada & Bob",
        "medium_uid": "04A1B2C3D4",
        "fiscal_profile": language if language in ("de", "ru") else "generic",
        "fiscal": fiscal_block() if language == "de" and kind is not ReceiptKind.BILL else None,
    }
    match kind:
        case ReceiptKind.ENTRY:
            name = "Tageskarte" if language == "de" else "Day ticket"
            entry = ReceiptLine(name=name, quantity=1, unit_price_minor=1550, amount_minor=1550, vat_rate_bp=low)
            extra = {
                "lines": [entry],
                "vat": [_vat(1550, low)],
                "tenders": tenders,
                "total_minor": total,
                "change_minor": 450,
            }
        case ReceiptKind.TOPUP:
            extra = {
                "lines": [
                    ReceiptLine(
                        name=TOPUP_NAMES[language],
                        quantity=1,
                        unit_price_minor=2000,
                        amount_minor=2000,
                        # 54-FZ: an advance taxed at the calculated rate; de/generic: a voucher, no VAT yet
                        vat_rate_bp=2000 if language == "ru" else 0,
                        settlement_method="advance" if language == "ru" else None,
                    )
                ],
                "vat": [_vat(2000, 2000)] if language == "ru" else [],
                "tenders": [TenderLine(kind="cash", amount_minor=2500)],
                "total_minor": 2000,
                "change_minor": 500,
                "balance_after_minor": 3250,
            }
        case ReceiptKind.BILL:
            extra = {"lines": lines, "vat": vat, "total_minor": total, "unpaid": True, "reference": "tab 12"}
        case ReceiptKind.REFUND:
            extra = {
                "lines": lines[:1],
                "vat": vat[:1],
                "tenders": [TenderLine(kind="cash", amount_minor=900)],
                "total_minor": 900,
                "balance_after_minor": 0,
                "reference": "refund of 41",
            }
        case ReceiptKind.Z_REPORT:
            extra = {
                "z_totals": ZTotals(
                    business_day=date(2026, 7, 4),
                    revenue_by_rate=vat,
                    tenders={"cash": 123450, "card:Terminal 1": 67800, "prepaid": 4500},
                    by_code={"sale": 120, "topup": 35, "refund": 2, "cash-in": 1, "future-code": 3},
                    cash_expected_minor=143450,
                    topups_minor=70000,
                    refunds_minor=1800,
                    entries=161,
                ),
                "medium_uid": None,
            }
        case _:  # purchase, settlement
            extra = {
                "lines": lines,
                "vat": vat,
                "tenders": tenders,
                "total_minor": total,
                "change_minor": 450,
                "balance_after_minor": 1200,
            }
    return Receipt.model_validate({**base, **extra})
