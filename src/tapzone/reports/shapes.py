"""What a report becomes before it is written out: tables (CSV, XLSX) and bars (charts). Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field

# A cell is text or an integer (minor units, counts); never a float, so money keeps its exact value.
Cell = str | int | None


@dataclass(frozen=True, slots=True)
class Table:
    """One section of a report: a worksheet in XLSX, a run of rows tagged with `name` in CSV."""

    name: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.name}: a row has {len(row)} cells for {len(self.columns)} columns")


@dataclass(frozen=True, slots=True)
class Bars:
    """A horizontal bar chart of money amounts, one bar per label."""

    title: str
    currency: str
    language: str
    items: list[tuple[str, int]]  # (label, amount in minor units)
