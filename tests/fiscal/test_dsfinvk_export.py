"""DSFinV-K export of a day: the files, their headers, and rows whose amounts match the issued receipts."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from tapzone.clock import FixedClock
from tapzone.errors import NotFound
from tapzone.fiscal.dsfinvk import export_day
from tapzone.fiscal.dsfinvk_layout import TABLES
from tapzone.pos.receipts.model import ReceiptKind, TenderLine, ZTotals
from tapzone.store.tables import tse_signers, tse_transactions, z_reports
from tests.fiscal.issue import issue, line
from tests.world import World

DAY = date(2026, 7, 4)
Files = dict[str, list[dict[str, str]]]


def read(archive: bytes) -> tuple[list[str], Files, dict[str, list[str]]]:
    files: Files = {}
    headers: dict[str, list[str]] = {}
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        names = zf.namelist()
        for name in names:
            if name.endswith(".csv"):
                text = zf.read(name).decode("utf-8")
                assert text.endswith("\r\n")
                reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')
                headers[name], *records = list(reader)
                files[name] = [dict(zip(headers[name], record, strict=True)) for record in records]
        files["index.xml"] = [{"xml": zf.read("index.xml").decode("utf-8")}]
    return names, files, headers


def business(world: World) -> None:
    """Till 1: a cash sale with change, a card top-up, a sale paid with prepaid value, an unpaid bill and a sale
    on the next day; till 2: one cash sale. Till 1 closed the day with Z report 7."""
    beer, fries, towel = line("Beer", 1, 450, 1900), line("Fries", 2, 320, 700), line("Towel", 1, 1200, 1900)
    issue(
        world,
        number=1,
        kind=ReceiptKind.PURCHASE,
        lines=[beer, fries],
        tenders=[TenderLine(kind="cash", amount_minor=2000)],
        change_minor=910,
        business_day=DAY,
    )
    issue(
        world,
        number=2,
        kind=ReceiptKind.TOPUP,
        lines=[line("Guthaben", 1, 3000, 0)],
        tenders=[TenderLine(kind="card", amount_minor=3000, provider="girocard-sim", slip_number="0042")],
        business_day=DAY,
    )
    issue(
        world,
        number=3,
        kind=ReceiptKind.PURCHASE,
        lines=[towel],
        tenders=[TenderLine(kind="prepaid", amount_minor=1200)],
        business_day=DAY,
    )
    issue(world, number=4, kind=ReceiptKind.BILL, lines=[beer], tenders=[])  # not booked: dated by print time
    issue(
        world,
        number=1,
        kind=ReceiptKind.PURCHASE,
        lines=[beer],
        tenders=[TenderLine(kind="cash", amount_minor=450)],
        till=world.till2_id,
        business_day=DAY,
    )
    clock = world.uow.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(hours=10))  # 22:00 in Berlin: till 1 closes the day
    totals = ZTotals(
        business_day=DAY,
        revenue_by_rate=[],
        tenders={},
        by_code={},
        cash_expected_minor=1090,
        topups_minor=3000,
        refunds_minor=0,
        entries=3,
    )
    issue(world, number=6, kind=ReceiptKind.Z_REPORT, lines=[], tenders=[], z_totals=totals)
    clock.advance(timedelta(hours=14))
    issue(
        world,
        number=7,
        kind=ReceiptKind.PURCHASE,
        lines=[beer],
        tenders=[TenderLine(kind="cash", amount_minor=450)],
        business_day=DAY + timedelta(days=1),
    )
    with world.uow.transaction() as tx:
        tx.conn.execute(
            z_reports.insert().values(
                venue_id=world.venue_id,
                device_id=world.till_id,
                number=7,
                business_day=DAY,
                created_at=datetime(2026, 7, 4, 20, 0, tzinfo=UTC),
                totals="{}",
                content_hash="0" * 64,
            )
        )


def of(rows: list[dict[str, str]], **where: str) -> list[dict[str, str]]:
    return [row for row in rows if all(row[key] == value for key, value in where.items())]


def money(value: str) -> int:
    """A DSFinV-K amount (decimal comma) back in minor units."""
    whole, _, fraction = value.partition(",")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(fraction[:2]))


def test_every_file_is_there_with_its_header_and_index_xml_describes_it(world: World) -> None:
    business(world)
    names, files, headers = read(export_day(world.uow, world.venue_id, DAY))
    assert names[0] == "index.xml"
    assert sorted(names[1:]) == sorted(table.file for table in TABLES)
    assert len(TABLES) == 20
    assert sum(len(table.columns) for table in TABLES) == 219
    for table in TABLES:
        assert headers[table.file] == [column.name for column in table.columns], table.file
    assert headers["transactions.csv"][:8] == [
        "Z_KASSE_ID",
        "Z_ERSTELLUNG",
        "Z_NR",
        "BON_ID",
        "BON_NR",
        "BON_TYP",
        "BON_NAME",
        "TERMINAL_ID",
    ]

    index = files["index.xml"][0]["xml"]
    assert '<!DOCTYPE DataSet SYSTEM "gdpdu-01-09-2004.dtd">' in index
    assert "<RecordDelimiter>&#13;&#10;</RecordDelimiter>" in index
    root = ET.fromstring(index.split("\n", 2)[2])
    described = {
        table.findtext("URL"): [column.findtext("Name") for column in table.iter("VariableColumn")]
        for table in root.iter("Table")
    }
    assert described == headers


def test_transactions_lines_vat_and_payments_match_the_receipts(world: World) -> None:
    business(world)
    _, files, _ = read(export_day(world.uow, world.venue_id, DAY, world.till_id))
    till = f"TZ-{world.venue_id}-{world.till_id}"

    transactions = files["transactions.csv"]
    assert [(t["BON_ID"], t["BON_TYP"], t["UMS_BRUTTO"]) for t in transactions] == [
        ("1", "Beleg", "10,90"),  # 4.50 beer + 2 × 3.20 fries
        ("2", "Beleg", "30,00"),  # the top-up: a multi-purpose voucher sold
        ("3", "Beleg", "0,00"),  # the towel, paid with the voucher: 12.00 − 12.00
        ("4", "AVSonstige", "4,50"),  # the bill
        ("6", "AVSonstige", "0,00"),  # the Z report; receipt 7 is the next day's
    ]
    assert [t["BON_NAME"] for t in transactions] == ["", "", "", "Nota (unbezahlt)", "Z-Bon"]
    assert {(t["Z_KASSE_ID"], t["Z_NR"], t["TERMINAL_ID"]) for t in transactions} == {(till, "7", till)}
    assert transactions[0]["Z_ERSTELLUNG"] == "2026-07-04T22:00:00+02:00"  # Z report time, Berlin
    assert transactions[0]["BON_START"] == "2026-07-04T12:00:00+02:00"
    assert transactions[0]["BEDIENER_ID"] == str(world.cashier_id)
    assert transactions[0]["BEDIENER_NAME"] == "Kim Cashier"

    lines = files["lines.csv"]
    assert [(x["BON_ID"], x["POS_ZEILE"], x["ARTIKELTEXT"], x["GV_TYP"], x["MENGE"], x["STK_BR"]) for x in lines] == [
        ("1", "1", "Beer", "Umsatz", "1,000", "4,50000"),
        ("1", "2", "Fries", "Umsatz", "2,000", "3,20000"),
        ("2", "1", "Guthaben", "MehrzweckgutscheinKauf", "1,000", "30,00000"),
        ("3", "1", "Towel", "Umsatz", "1,000", "12,00000"),
        ("3", "2", "Guthaben (Mehrzweckgutschein)", "MehrzweckgutscheinEinloesung", "1,000", "-12,00000"),
        ("4", "1", "Beer", "Umsatz", "1,000", "4,50000"),
    ]
    assert [
        (v["BON_ID"], v["UST_SCHLUESSEL"], v["POS_BRUTTO"], v["POS_NETTO"], v["POS_UST"])
        for v in of(files["lines_vat.csv"], BON_ID="1")
    ] == [
        ("1", "1", "4,50000", "3,78000", "0,72000"),
        ("1", "2", "6,40000", "5,98000", "0,42000"),
    ]
    assert [
        (v["BON_ID"], v["UST_SCHLUESSEL"], v["BON_BRUTTO"], v["BON_UST"]) for v in files["transactions_vat.csv"]
    ] == [
        ("1", "1", "4,50000", "0,72000"),
        ("1", "2", "6,40000", "0,42000"),
        ("2", "5", "30,00000", "0,00000"),
        ("3", "1", "12,00000", "1,92000"),
        ("3", "5", "-12,00000", "0,00000"),
        ("4", "1", "4,50000", "0,72000"),
    ]

    payments = files["datapayment.csv"]
    assert [(p["BON_ID"], p["ZAHLART_TYP"], p["ZAHLART_NAME"], p["BASISWAEH_BETRAG"]) for p in payments] == [
        ("1", "Bar", "cash", "10,90"),  # 20.00 given, 9.10 change
        ("2", "Unbar", "girocard-sim", "30,00"),
        ("3", "Keine", "", "0,00"),
    ]
    for bon in of(transactions, BON_TYP="Beleg"):  # every receipt of payment adds up: positions = payments
        paid = sum(money(p["BASISWAEH_BETRAG"]) for p in of(payments, BON_ID=bon["BON_ID"]))
        assert paid == money(bon["UMS_BRUTTO"])


def test_tse_columns_are_the_signed_transactions(world: World) -> None:
    business(world)
    _, files, _ = read(export_day(world.uow, world.venue_id, DAY, world.till_id))
    with world.uow.engine.connect() as conn:
        signer = conn.execute(sa.select(tse_signers)).one()
        signed = conn.execute(sa.select(tse_transactions).order_by(tse_transactions.c.number)).all()
    rows = files["transactions_tse.csv"]
    assert [(r["BON_ID"], r["TSE_TANR"], r["TSE_TA_SIGZ"]) for r in rows] == [
        ("1", "1", "2"),
        ("2", "2", "4"),
        ("3", "3", "6"),
        ("4", "4", "8"),  # till 2's receipt was TSE transaction 5 of the same TSE
        ("6", "6", "12"),
    ]
    assert [(r["TSE_TA_VORGANGSART"], r["TSE_VORGANGSDATEN"]) for r in rows[3:]] == [
        ("SonstigerVorgang", "bill"),
        ("SonstigerVorgang", "z-report"),
    ]
    first = rows[0]
    assert first["TSE_ID"] == str(signer.id)
    assert first["TSE_TA_VORGANGSART"] == "Kassenbeleg-V1"
    assert first["TSE_VORGANGSDATEN"] == signed[0].process_data == "Beleg^4.50_6.40_0.00_0.00_0.00^10.90:Bar"
    assert first["TSE_TA_SIG"] == signed[0].signature
    assert first["TSE_TA_START"] == first["TSE_TA_ENDE"] == "2026-07-04T10:00:00.000Z"
    assert first["TSE_TA_FEHLER"] == ""
    assert files["tse.csv"] == [
        {
            "Z_KASSE_ID": first["Z_KASSE_ID"],
            "Z_ERSTELLUNG": first["Z_ERSTELLUNG"],
            "Z_NR": "7",
            "TSE_ID": str(signer.id),
            "TSE_SERIAL": signer.serial,
            "TSE_SIG_ALGO": "ecdsa-plain-SHA256",
            "TSE_ZEITFORMAT": "unixTime",
            "TSE_PD_ENCODING": "UTF-8",
            "TSE_PUBLIC_KEY": signer.public_key,
            "TSE_ZERTIFIKAT_I": "",
            "TSE_ZERTIFIKAT_II": "",
        }
    ]


def test_closing_sums_and_master_data(world: World) -> None:
    business(world)
    _, files, _ = read(export_day(world.uow, world.venue_id, DAY))
    till1, till2 = f"TZ-{world.venue_id}-{world.till_id}", f"TZ-{world.venue_id}-{world.till2_id}"

    closings = {row["Z_KASSE_ID"]: row for row in files["cashpointclosing.csv"]}
    assert set(closings) == {till1, till2}
    first = closings[till1]
    assert (first["Z_NR"], first["Z_START_ID"], first["Z_ENDE_ID"]) == ("7", "1", "6")
    assert (first["Z_SE_ZAHLUNGEN"], first["Z_SE_BARZAHLUNGEN"]) == ("40,90", "10,90")
    assert (first["NAME"], first["STRASSE"], first["PLZ"], first["ORT"], first["LAND"]) == (
        "Aquapark Test",
        "Badstraße 1",
        "10115",
        "Berlin",
        "DEU",
    )
    assert (first["USTID"], first["STNR"], first["Z_BUCHUNGSTAG"]) == ("DE123456789", "", "")
    # Till 2 has no Z report yet: a provisional closing 1, dated at its last receipt.
    assert (closings[till2]["Z_NR"], closings[till2]["Z_ERSTELLUNG"]) == ("1", "2026-07-04T12:00:00+02:00")
    assert closings[till2]["Z_SE_BARZAHLUNGEN"] == "4,50"

    cases = {
        (row["GV_TYP"], row["UST_SCHLUESSEL"]): (row["Z_UMS_BRUTTO"], row["Z_UMS_NETTO"], row["Z_UST"])
        for row in of(files["businesscases.csv"], Z_KASSE_ID=till1)
    }
    assert cases == {  # the bill is no sale and stays out
        ("Umsatz", "1"): ("16,50000", "13,86000", "2,64000"),
        ("Umsatz", "2"): ("6,40000", "5,98000", "0,42000"),
        ("MehrzweckgutscheinKauf", "5"): ("30,00000", "30,00000", "0,00000"),
        ("MehrzweckgutscheinEinloesung", "5"): ("-12,00000", "-12,00000", "0,00000"),
    }
    assert [
        (p["ZAHLART_TYP"], p["ZAHLART_NAME"], p["Z_ZAHLART_BETRAG"]) for p in of(files["payment.csv"], Z_KASSE_ID=till1)
    ] == [("Bar", "cash", "10,90"), ("Unbar", "girocard-sim", "30,00")]
    assert of(files["cash_per_currency.csv"], Z_KASSE_ID=till1)[0]["ZAHLART_BETRAG_WAEH"] == "10,90"

    vat = of(files["vat.csv"], Z_KASSE_ID=till1)
    assert [(v["UST_SCHLUESSEL"], v["UST_SATZ"]) for v in vat] == [
        ("1", "19,00"),
        ("2", "7,00"),
        ("3", "10,70"),
        ("4", "5,50"),
        ("5", "0,00"),
    ]
    register = of(files["cashregister.csv"], Z_KASSE_ID=till1)[0]
    assert (register["KASSE_SERIENNR"], register["KASSE_BASISWAEH_CODE"]) == (till1, "EUR")
    assert of(files["location.csv"], Z_KASSE_ID=till1)[0]["LOC_ORT"] == "Berlin"
    for empty in ("itemamounts.csv", "subitems.csv", "allocation_groups.csv", "references.csv", "slaves.csv"):
        assert files[empty] == []


def test_the_same_day_exports_to_the_same_bytes_and_other_days_are_apart(world: World) -> None:
    business(world)
    assert export_day(world.uow, world.venue_id, DAY) == export_day(world.uow, world.venue_id, DAY)
    _, files, _ = read(export_day(world.uow, world.venue_id, DAY + timedelta(days=1)))
    assert [(t["BON_ID"], t["Z_NR"]) for t in files["transactions.csv"]] == [("7", "8")]  # after Z report 7
    _, empty, _ = read(export_day(world.uow, world.venue_id, DAY - timedelta(days=1)))
    assert all(rows == [] for name, rows in empty.items() if name.endswith(".csv"))


def test_unknown_venue_or_foreign_till_is_refused(world: World) -> None:
    with pytest.raises(NotFound):
        export_day(world.uow, 9999, DAY)
    with pytest.raises(NotFound):
        export_day(world.uow, world.venue_id, DAY, device_id=9999)
