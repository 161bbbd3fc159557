"""Keyword arguments of a use case as JSON, so a payment confirmed later can run the operation it pays for.

Only the value types use cases take are known here (money, tenders, items, enums, pydantic specs); anything
else is refused when the payment is opened, never half-encoded.
"""

from __future__ import annotations

import importlib
import json
from enum import Enum
from typing import Any

from pydantic import BaseModel

from tapzone.money import Money
from tapzone.pos.catalogue import Item
from tapzone.pos.tenders import Tender, TenderKind

_TAG = "__type__"


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):  # before str: a StrEnum is a str, but must come back as its enum
        return {_TAG: "enum", "class": f"{type(value).__module__}:{type(value).__qualname__}", "value": value.value}
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return {_TAG: "money", "minor": value.minor, "currency": value.currency}
    if isinstance(value, Tender):
        return {
            _TAG: "tender",
            "kind": value.kind.value,
            "minor": value.amount.minor,
            "currency": value.amount.currency,
            "provider": value.provider,
        }
    if isinstance(value, Item):
        return {_TAG: "item", "product_id": value.product_id, "quantity": value.quantity}
    if isinstance(value, BaseModel):
        model = type(value)
        return {
            _TAG: "model",
            "class": f"{model.__module__}:{model.__qualname__}",
            "data": value.model_dump(mode="json"),
        }
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    raise TypeError(f"cannot keep {type(value).__name__} with a pending payment")


def _load_class(path: str) -> Any:
    module, _, name = path.partition(":")
    if not module.startswith("tapzone."):  # only our own types are ever rebuilt from stored data
        raise TypeError(f"refusing to load {path}")
    return getattr(importlib.import_module(module), name)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag == "enum":
        return _load_class(value["class"])(value["value"])
    if tag == "money":
        return Money(value["minor"], value["currency"])
    if tag == "tender":
        return Tender(TenderKind(value["kind"]), Money(value["minor"], value["currency"]), value["provider"])
    if tag == "item":
        return Item(value["product_id"], value["quantity"])
    if tag == "model":
        return _load_class(value["class"]).model_validate(value["data"])
    raise TypeError(f"unknown stored value {value!r}")


def encode_kwargs(kwargs: dict[str, Any]) -> str:
    return json.dumps({name: _encode(value) for name, value in kwargs.items()}, sort_keys=True)


def decode_kwargs(text: str) -> dict[str, Any]:
    return {name: _decode(value) for name, value in json.loads(text).items()}
