"""One page of a list read: limit/offset with the total, so a screen can offer "previous" and "next".

Limit/offset rather than keyset paging: the back office lists are configuration (hundreds of rows) and an
audit log read newest first; a row inserted while someone pages moves the rest by one, which is harmless
for reading and keeps every page addressable by a plain link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.errors import InvalidRequest

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)

PAGE_SIZE_DEFAULT = 25
PAGE_SIZE_MAX = 200


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int  # rows matching the filters, on every page
    limit: int
    offset: int

    @property
    def first_number(self) -> int:
        """The 1-based position of the first row shown (0 when the page is empty)."""
        return self.offset + 1 if self.items else 0

    @property
    def last_number(self) -> int:
        return self.offset + len(self.items)

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


def check_page(limit: int, offset: int) -> None:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise InvalidRequest(f"limit must be 1..{PAGE_SIZE_MAX}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidRequest("offset must be 0 or more")


def read_page(
    conn: sa.Connection,
    query: sa.Select[Any],
    convert: Callable[[sa.Row[Any]], T],
    *,
    limit: int,
    offset: int,
) -> Page[T]:
    """Count the rows `query` matches and read one page of them; `query` carries its own ORDER BY."""
    check_page(limit, offset)
    total = conn.execute(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows: Sequence[sa.Row[Any]] = conn.execute(query.limit(limit).offset(offset)).all()
    return Page([convert(row) for row in rows], int(total), limit, offset)


def rows_as(model: type[M]) -> Callable[[sa.Row[Any]], M]:
    """Convert a result row whose column labels are the model's fields."""
    return lambda row: model.model_validate(dict(row._mapping))
