"""The DSFinV-K file layout: 20 CSV files, their columns in spec order, the CSV dialect and the GDPdU index.xml.

Columns follow the DSFinV-K 2.x file descriptions (Einzelaufzeichnungs-, Stammdaten- and Kassenabschlussmodul);
every file is written, with its header line, even when tapzone has no rows for it, and index.xml describes all
of them, so an auditor's tool finds the complete set. CSV: UTF-8, ';' between fields, '"' around text that needs
it, CRLF after every record; numbers with a decimal comma and no digit grouping, as index.xml declares.
The GDPdU DTD the index refers to (gdpdu-01-09-2004.dtd) is published by the BZSt and is not bundled.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass

DECIMAL_SYMBOL = ","
DIGIT_GROUPING_SYMBOL = "."
DTD_NAME = "gdpdu-01-09-2004.dtd"
_CRLF_PLACEHOLDER = "\x00CRLF\x00"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    places: int | None = None  # decimals of a numeric column; None: text
    max_length: int | None = None


@dataclass(frozen=True, slots=True)
class Table:
    file: str
    name: str  # the DSFinV-K's name of the file
    description: str
    columns: tuple[Column, ...]


def _text(name: str, max_length: int | None = None) -> Column:
    return Column(name, None, max_length)


def _num(name: str, places: int = 0) -> Column:
    return Column(name, places)


# Every file starts with the key of its cash-register closing.
_Z = (_text("Z_KASSE_ID", 50), _text("Z_ERSTELLUNG"), _num("Z_NR"))
_BON = (*_Z, _text("BON_ID", 40))


def _table(file: str, name: str, description: str, *columns: Column, key: tuple[Column, ...] = _Z) -> Table:
    return Table(file, name, description, (*key, *columns))


TABLES: tuple[Table, ...] = (
    # Einzelaufzeichnungsmodul
    _table(
        "lines.csv",
        "Bonpos",
        "Positionen der Vorgänge",
        _text("POS_ZEILE", 50),
        _text("GUTSCHEIN_NR", 50),
        _text("ARTIKELTEXT", 255),
        _text("POS_TERMINAL_ID", 50),
        _text("GV_TYP", 30),
        _text("GV_NAME", 40),
        _num("INHAUS"),
        _num("P_STORNO"),
        _num("AGENTUR_ID"),
        _text("ART_NR", 50),
        _text("GTIN", 50),
        _text("WARENGR_ID", 40),
        _text("WARENGR", 50),
        _num("MENGE", 3),
        _num("FAKTOR", 3),
        _text("EINHEIT", 50),
        _num("STK_BR", 5),
        key=_BON,
    ),
    _table(
        "lines_vat.csv",
        "Bonpos_USt",
        "Umsatzsteuer je Position",
        _text("POS_ZEILE", 50),
        _num("UST_SCHLUESSEL"),
        _num("POS_BRUTTO", 5),
        _num("POS_NETTO", 5),
        _num("POS_UST", 5),
        key=_BON,
    ),
    _table(
        "itemamounts.csv",
        "Bonpos_Preisfindung",
        "Preisfindung je Position",
        _text("POS_ZEILE", 50),
        _text("TYP", 20),
        _num("UST_SCHLUESSEL"),
        _num("PF_BRUTTO", 5),
        _num("PF_NETTO", 5),
        _num("PF_UST", 5),
        key=_BON,
    ),
    _table(
        "subitems.csv",
        "Bonpos_Zusatzinfo",
        "Zusammensetzung von Positionen",
        _text("POS_ZEILE", 50),
        _text("ZI_ART_NR", 50),
        _text("ZI_GTIN", 50),
        _text("ZI_NAME", 60),
        _text("ZI_WARENGR_ID", 40),
        _text("ZI_WARENGR", 50),
        _num("ZI_MENGE", 3),
        _num("ZI_FAKTOR", 3),
        _text("ZI_EINHEIT", 50),
        _num("ZI_UST_SCHLUESSEL"),
        _num("ZI_BASISPREIS_BRUTTO", 5),
        _num("ZI_BASISPREIS_NETTO", 5),
        _num("ZI_BASISPREIS_UST", 5),
        key=_BON,
    ),
    _table(
        "transactions.csv",
        "Bonkopf",
        "Vorgänge (Bonkopf)",
        _num("BON_NR"),
        _text("BON_TYP", 30),
        _text("BON_NAME", 60),
        _text("TERMINAL_ID", 50),
        _num("BON_STORNO"),
        _text("BON_START"),
        _text("BON_ENDE"),
        _text("BEDIENER_ID", 50),
        _text("BEDIENER_NAME", 50),
        _num("UMS_BRUTTO", 2),
        _text("KUNDE_NAME", 50),
        _text("KUNDE_ID", 50),
        _text("KUNDE_TYP", 50),
        _text("KUNDE_STRASSE", 60),
        _text("KUNDE_PLZ", 10),
        _text("KUNDE_ORT", 62),
        _text("KUNDE_LAND", 3),
        _text("KUNDE_USTID", 15),
        _text("BON_NOTIZ", 255),
        key=_BON,
    ),
    _table(
        "transactions_vat.csv",
        "Bonkopf_USt",
        "Umsatzsteuer je Vorgang",
        _num("UST_SCHLUESSEL"),
        _num("BON_BRUTTO", 5),
        _num("BON_NETTO", 5),
        _num("BON_UST", 5),
        key=_BON,
    ),
    _table("allocation_groups.csv", "Bonkopf_AbrKreis", "Abrechnungskreise", _text("ABRECHNUNGSKREIS", 50), key=_BON),
    _table(
        "datapayment.csv",
        "Bonkopf_Zahlarten",
        "Zahlarten je Vorgang",
        _text("ZAHLART_TYP", 25),
        _text("ZAHLART_NAME", 60),
        _text("ZAHLWAEH_CODE", 3),
        _num("ZAHLWAEH_BETRAG", 2),
        _num("BASISWAEH_BETRAG", 2),
        key=_BON,
    ),
    _table(
        "references.csv",
        "Bon_Referenzen",
        "Referenzen auf andere Vorgänge",
        _text("POS_ZEILE", 50),
        _text("REF_TYP", 20),
        _text("REF_NAME", 40),
        _text("REF_DATUM"),
        _text("REF_Z_KASSE_ID", 50),
        _num("REF_Z_NR"),
        _text("REF_BON_ID", 40),
        key=_BON,
    ),
    _table(
        "transactions_tse.csv",
        "TSE_Transaktionen",
        "TSE-Transaktionen je Vorgang",
        _num("TSE_ID"),
        _num("TSE_TANR"),
        _text("TSE_TA_START", 30),
        _text("TSE_TA_ENDE", 30),
        _text("TSE_TA_VORGANGSART", 30),
        _num("TSE_TA_SIGZ"),
        _text("TSE_TA_SIG", 512),
        _text("TSE_TA_FEHLER", 200),
        _text("TSE_VORGANGSDATEN"),
        key=_BON,
    ),
    # Stammdatenmodul
    _table(
        "cashpointclosing.csv",
        "Stamm_Abschluss",
        "Kassenabschluss",
        _text("Z_BUCHUNGSTAG"),
        _text("TAXONOMIE_VERSION", 10),
        _text("Z_START_ID", 40),
        _text("Z_ENDE_ID", 40),
        _text("NAME", 60),
        _text("STRASSE", 60),
        _text("PLZ", 10),
        _text("ORT", 62),
        _text("LAND", 3),
        _text("STNR", 20),
        _text("USTID", 15),
        _num("Z_SE_ZAHLUNGEN", 2),
        _num("Z_SE_BARZAHLUNGEN", 2),
    ),
    _table(
        "location.csv",
        "Stamm_Orte",
        "Betriebsstätte",
        _text("LOC_NAME", 60),
        _text("LOC_STRASSE", 60),
        _text("LOC_PLZ", 10),
        _text("LOC_ORT", 62),
        _text("LOC_LAND", 3),
        _text("LOC_USTID", 15),
    ),
    _table(
        "cashregister.csv",
        "Stamm_Kassen",
        "Kassen",
        _text("KASSE_BRAND", 50),
        _text("KASSE_MODELL", 50),
        _text("KASSE_SERIENNR", 70),
        _text("KASSE_SW_BRAND", 50),
        _text("KASSE_SW_VERSION", 50),
        _text("KASSE_BASISWAEH_CODE", 3),
        _num("KEINE_UST_ZUORDNUNG"),
    ),
    _table(
        "slaves.csv",
        "Stamm_Terminals",
        "Erfassungsterminals",
        _text("TERMINAL_ID", 50),
        _text("TERMINAL_BRAND", 50),
        _text("TERMINAL_MODELL", 50),
        _text("TERMINAL_SERIENNR", 70),
        _text("TERMINAL_SW_BRAND", 50),
        _text("TERMINAL_SW_VERSION", 50),
    ),
    _table(
        "pa.csv",
        "Stamm_Agenturen",
        "Agenturen",
        _num("AGENTUR_ID"),
        _text("AGENTUR_NAME", 60),
        _text("AGENTUR_STRASSE", 60),
        _text("AGENTUR_PLZ", 10),
        _text("AGENTUR_ORT", 62),
        _text("AGENTUR_LAND", 3),
        _text("AGENTUR_STNR", 20),
        _text("AGENTUR_USTID", 15),
    ),
    _table(
        "vat.csv",
        "Stamm_USt",
        "Umsatzsteuersätze",
        _num("UST_SCHLUESSEL"),
        _num("UST_SATZ", 2),
        _text("UST_BESCHR", 55),
    ),
    _table(
        "tse.csv",
        "Stamm_TSE",
        "Technische Sicherheitseinrichtungen",
        _num("TSE_ID"),
        _text("TSE_SERIAL", 68),
        _text("TSE_SIG_ALGO", 21),
        _text("TSE_ZEITFORMAT", 31),
        _text("TSE_PD_ENCODING", 5),
        _text("TSE_PUBLIC_KEY", 512),
        _text("TSE_ZERTIFIKAT_I", 1000),
        _text("TSE_ZERTIFIKAT_II", 1000),
    ),
    # Kassenabschlussmodul
    _table(
        "businesscases.csv",
        "Z_GV_Typ",
        "Summen je Geschäftsvorfallart und USt-Satz",
        _text("GV_TYP", 30),
        _text("GV_NAME", 40),
        _num("AGENTUR_ID"),
        _num("UST_SCHLUESSEL"),
        _num("Z_UMS_BRUTTO", 5),
        _num("Z_UMS_NETTO", 5),
        _num("Z_UST", 5),
    ),
    _table(
        "payment.csv",
        "Z_Zahlart",
        "Summen je Zahlart",
        _text("ZAHLART_TYP", 25),
        _text("ZAHLART_NAME", 60),
        _num("Z_ZAHLART_BETRAG", 2),
    ),
    _table(
        "cash_per_currency.csv",
        "Z_Waehrungen",
        "Bargeld je Währung",
        _text("ZAHLART_WAEH", 3),
        _num("ZAHLART_BETRAG_WAEH", 2),
    ),
)
TABLES_BY_FILE = {table.file: table for table in TABLES}

Row = dict[str, str]


def amount(minor: int, places: int = 2) -> str:
    """Minor units (two decimals) as a DSFinV-K number: decimal comma, `places` decimals, no grouping."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}{DECIMAL_SYMBOL}{cents:02d}" + "0" * (places - 2)


def quantity(count: int) -> str:
    return f"{count}{DECIMAL_SYMBOL}000"


def percent(rate_bp: int) -> str:
    """A VAT rate in basis points as a percentage with two decimals: 1900 → 19,00."""
    return amount(rate_bp)


def csv_bytes(table: Table, rows: list[Row]) -> bytes:
    """The file: a header line and one record per row; columns a row does not name stay empty."""
    names = [column.name for column in table.columns]
    unknown = {name for row in rows for name in row} - set(names)
    if unknown:
        raise ValueError(f"{table.file} has no columns {sorted(unknown)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", quotechar='"', lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(names)
    for row in rows:
        writer.writerow([_fit(column, row.get(column.name, "")) for column in table.columns])
    return buffer.getvalue().encode("utf-8")


def index_xml(*, supplier: str, location: str, comment: str) -> bytes:
    """The GDPdU description of all files, so audit software (IDEA, AIS TaxAudit) can read them."""
    root = ET.Element("DataSet")
    ET.SubElement(root, "Version").text = "1.0"
    data_supplier = ET.SubElement(root, "DataSupplier")
    ET.SubElement(data_supplier, "Name").text = supplier
    ET.SubElement(data_supplier, "Location").text = location
    ET.SubElement(data_supplier, "Comment").text = comment
    media = ET.SubElement(root, "Media")
    ET.SubElement(media, "Name").text = "DSFinV-K"
    for table in TABLES:
        element = ET.SubElement(media, "Table")
        ET.SubElement(element, "URL").text = table.file
        ET.SubElement(element, "Name").text = table.name
        ET.SubElement(element, "Description").text = table.description
        ET.SubElement(element, "UTF8")
        ET.SubElement(element, "DecimalSymbol").text = DECIMAL_SYMBOL
        ET.SubElement(element, "DigitGroupingSymbol").text = DIGIT_GROUPING_SYMBOL
        ET.SubElement(ET.SubElement(element, "Range"), "From").text = "2"  # line 1 is the header
        variable = ET.SubElement(element, "VariableLength")
        ET.SubElement(variable, "ColumnDelimiter").text = ";"
        ET.SubElement(variable, "RecordDelimiter").text = _CRLF_PLACEHOLDER
        ET.SubElement(variable, "TextEncapsulator").text = '"'
        for column in table.columns:
            described = ET.SubElement(variable, "VariableColumn")
            ET.SubElement(described, "Name").text = column.name
            if column.places is None:
                ET.SubElement(described, "AlphaNumeric")
                if column.max_length:
                    ET.SubElement(described, "MaxLength").text = str(column.max_length)
            else:
                numeric = ET.SubElement(described, "Numeric")
                if column.places:
                    ET.SubElement(numeric, "Accuracy").text = str(column.places)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    # A literal CR would be normalised away by any XML parser; the delimiter must be written as references.
    body = body.replace(_CRLF_PLACEHOLDER, "&#13;&#10;")
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE DataSet SYSTEM "{DTD_NAME}">\n'
    return (head + body + "\n").encode("utf-8")


def _fit(column: Column, value: str) -> str:
    # Text longer than the spec allows is cut rather than refused: an export must not fail on a long name.
    if column.max_length is not None and len(value) > column.max_length:
        return value[: column.max_length]
    return value
