"""OpenAPI links: which answer feeds which request (e.g. the medium a visit was issued on is the `uid` of every
medium route). They document the API's workflows for clients, and they let a stateful fuzzer follow them
(tests/hostile) instead of guessing identifiers that never exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Link:
    source: tuple[str, str, str]  # method, path, status
    target_path_prefix: str  # every operation under this path that takes `parameter`
    parameter: str
    expression: str  # runtime expression for the value, e.g. "$response.body#/medium_uid"


API = "/api/v1"
LINKS = (
    Link(("post", f"{API}/visits", "201"), f"{API}/media/{{uid}}", "uid", "$response.body#/medium_uid"),
    Link(("post", f"{API}/visits", "201"), f"{API}/card-numbers/{{uid}}", "uid", "$response.body#/medium_uid"),
    Link(
        ("post", f"{API}/price-groups", "201"),
        f"{API}/price-groups/{{price_group_id}}",
        "price_group_id",
        "$response.body#/id",
    ),
    Link(("post", f"{API}/account-types", "201"), f"{API}/account-types/{{type_id}}", "type_id", "$response.body#/id"),
    Link(
        ("post", f"{API}/media/{{uid}}/payouts", "201"),
        f"{API}/payouts/{{payout_id}}",
        "payout_id",
        "$response.body#/payout_id",
    ),
    Link(
        ("post", f"{API}/z-reports", "201"),
        f"{API}/tills/{{device_id}}/z-reports/{{number}}",
        "number",
        "$response.body#/number",
    ),
    Link(
        ("post", f"{API}/media/{{uid}}/tab/settlements", "201"),
        f"{API}/receipts/{{receipt_id}}",
        "receipt_id",
        "$response.body#/receipt_ids/0",
    ),
)


def document_links(schema: dict[str, Any]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for link in LINKS:
        method, path, status = link.source
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue  # the route moved: the link goes with it rather than pointing nowhere
        for target_path, operations in paths.items():
            if not target_path.startswith(link.target_path_prefix):
                continue
            for operation in operations.values():
                names = {
                    parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "path"
                }
                if link.parameter not in names:
                    continue
                response.setdefault("links", {})[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {link.parameter: link.expression},
                }
    return schema
