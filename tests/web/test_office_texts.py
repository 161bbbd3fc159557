"""Every text the back office can show is in every catalog, including screens no browser test opens.

Texts are found where they are written: `_("…")` in the office templates, the titles, notices and form
problems in the office modules, and the stable codes (zone kinds, gate kinds, tariff kinds …) that the
screens show through `_()`, taken from their enums so a new code without a translation fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tapzone.access.model import AntiPassback, Direction, ServiceType
from tapzone.i18n import LANGUAGES, catalog
from tapzone.media.model import MediumState
from tapzone.money import CountUnit
from tapzone.payments.model import TerminalKind
from tapzone.plans.card_accounts import CreditType
from tapzone.plans.tariffs import TariffKind
from tapzone.plans.topup_rules import Field, RuleKind
from tapzone.venues.model import DeviceKind
from tapzone.web.office import tariffs

WEB = Path(__file__).resolve().parents[2] / "src" / "tapzone" / "web"
TEMPLATES = [*sorted((WEB / "templates" / "office").glob("*.html"))]
MODULES = sorted((WEB / "office").glob("*.py"))
_CALL = re.compile(r"""_\(\s*(?:"([^"]+)"|'([^']+)')""")
# Keyword arguments and attributes whose string values reach the screen through the catalogs.
_SHOWN = {"title", "notice"}
# Calls whose argument at this position is a problem shown next to a form field.
_PROBLEM_CALLS = {"problem": 1, "FormValueError": 0, "_decimal": 1, "_scaled": 2}


def template_texts() -> set[str]:
    found = set()
    for path in TEMPLATES:
        for match in _CALL.finditer(path.read_text()):
            found.add(match.group(1) or match.group(2))
    return found


def module_texts() -> set[str]:
    found: set[str] = set()
    for path in MODULES:
        source = path.read_text()
        found |= {match.group(1) or match.group(2) for match in _CALL.finditer(source)}
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.keyword) and node.arg in _SHOWN:
                found |= _strings(node.value)
            elif isinstance(node, ast.Assign) and any(_names_notice(target) for target in node.targets):
                value = node.value.elts[0] if isinstance(node.value, ast.Tuple) else node.value
                found |= _strings(value)
            elif isinstance(node, ast.Call) and _called(node) in _PROBLEM_CALLS:
                index = _PROBLEM_CALLS[str(_called(node))]
                if len(node.args) > index:
                    found |= _strings(node.args[index])
            elif isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id in ("CHECK_THIS_FIELD", "REQUIRED", "too_precise")
                for target in node.targets
            ):
                found |= _strings(node.value)
    return found


def _names_notice(target: ast.expr) -> bool:
    if isinstance(target, ast.Attribute):
        return target.attr == "notice"
    return isinstance(target, ast.Tuple) and bool(target.elts) and _names_notice(target.elts[0])


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return node.func.id if isinstance(node.func, ast.Name) else None


def _strings(node: ast.expr) -> set[str]:
    """String constants of an expression, through conditionals ("a" if x else "b")."""
    return {sub.value for sub in ast.walk(node) if isinstance(sub, ast.Constant) and isinstance(sub.value, str)}


def code_texts() -> set[str]:
    enums = (ServiceType, Direction, DeviceKind, TerminalKind, CreditType, AntiPassback, TariffKind, RuleKind, Field)
    codes = {member.value for enum in enums for member in enum}
    # Medium states and balance units the report screens name; weekday abbreviations of the time table.
    codes |= {state.value for state in MediumState} | {unit.value for unit in CountUnit}
    return codes | set(tariffs.WEEKDAYS) | {"yes", "no", "on", "off"}


ALL_TEXTS = sorted(template_texts() | module_texts() | code_texts())


def test_the_texts_are_found() -> None:
    assert {"Back office", "Check this field", "Enter an amount like 12.50", "Product {name} created"} <= set(ALL_TEXTS)
    assert len(ALL_TEXTS) > 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_office_text_is_in_the_catalog(language: str) -> None:
    missing = [text for text in ALL_TEXTS if text not in catalog(language)]
    assert missing == []


def _prose(text: str) -> bool:
    """Words to translate: codes ("simulator") and units ("{minutes} min") may read the same in a language."""
    words = re.findall(r"[^\W\d_]{4,}", re.sub(r"\{\w+\}", "", text))
    return " " in text and bool(words)


@pytest.mark.parametrize("language", ["de", "sv", "ru"])
def test_office_texts_are_translated(language: str) -> None:
    same = [text for text in ALL_TEXTS if catalog(language).get(text) == text and _prose(text)]
    assert same == []
