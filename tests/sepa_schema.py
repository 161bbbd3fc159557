"""The official ISO 20022 pain.001.001.09 schema, as the sepaxml package ships it, for tests to check SEPA files
against independently of the code that writes them."""

from __future__ import annotations

import functools
import importlib.resources

import xmlschema


@functools.cache
def _schema() -> xmlschema.XMLSchema:
    resource = importlib.resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"
    with importlib.resources.as_file(resource) as path:
        return xmlschema.XMLSchema(str(path))


def pain001_errors(document: str) -> list[str]:
    return [str(error) for error in _schema().iter_errors(document)]
