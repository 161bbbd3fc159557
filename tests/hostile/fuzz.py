"""Schemathesis over the whole published OpenAPI schema, as a signed-in admin on a real till.

Every generated request carries the till's bearer token, an administrator's staff session and a fresh
Idempotency-Key, so requests get past authentication and reach the use cases; the checks are that nothing
answers 5xx and every answer is in the schema (documented status, content type, body and headers). Failures
are collected, not raised at the first one, so one run reports them all; the caller asserts there are none.

The run is stateless (every operation on its own) and then stateful: the schema's links (api/openapi_links.py)
let the state machine issue a visit and then sell, top up, settle, block… on that very medium, which random
identifiers would almost never hit. `TAPZONE_FUZZ_EXAMPLES` sets examples per operation (the smoke run in
`make test` uses a few; `bench/soak.py` may ask for hundreds).
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import given as hypothesis_given
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import DataGenerationMethod
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.stateful import run_state_machine_as_test

CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
)
EXAMPLES_VARIABLE = "TAPZONE_FUZZ_EXAMPLES"
SUMMARY_PATH = Path("var/fuzz/summary.json")
MAX_FAILURE_TEXT = 2000
SCENARIOS_PER_RUN = 4

# The schema is OpenAPI 3.1 (FastAPI); schemathesis 3 reads it behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()


def examples_per_operation(default: int) -> int:
    value = os.environ.get(EXAMPLES_VARIABLE, "").strip()
    return int(value) if value else default


@dataclass
class FuzzRun:
    database: str
    examples_per_operation: int
    operations: int = 0
    cases: int = 0
    stateful_steps: int = 0
    stateful_restarts: int = 0
    linked_steps: int = 0  # stateful steps that used an earlier answer (e.g. the medium a visit was issued on)
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def record(self, operation: str, status: int, error: Exception | None) -> None:
        self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
        if error is not None:
            text = str(error)
            self.failures.append({"operation": operation, "status": str(status), "failure": text[:MAX_FAILURE_TEXT]})


class TillCredentials:
    """The till's token and a signed-in administrator. The fuzzer also calls sign-out, which ends the session
    for every later request; a new one is opened then, as the till would."""

    SIGN_OUT = "DELETE /api/v1/sessions/current"

    def __init__(self, till_token: str, sign_in: Callable[[], str]) -> None:
        self.till_token = till_token
        self.sign_in = sign_in
        self.session = sign_in()

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.till_token}",
            "X-Staff-Session": self.session,
            "Idempotency-Key": uuid.uuid4().hex,
        }

    def after(self, case: Any, response: Any) -> None:
        if case.operation.verbose_name == self.SIGN_OUT and response.status_code == 204:
            self.session = self.sign_in()


def _check(run: FuzzRun, credentials: TillCredentials, case: Any, response: Any) -> None:
    credentials.after(case, response)
    try:
        case.validate_response(response, checks=CHECKS)
    except AssertionError as error:  # schemathesis' CheckFailed and grouped failures are AssertionErrors
        run.record(case.operation.verbose_name, response.status_code, error)
    else:
        run.record(case.operation.verbose_name, response.status_code, None)


def fuzz_stateless(schema: Any, credentials: TillCredentials, run: FuzzRun) -> None:
    """Every operation with `run.examples_per_operation` generated requests, valid and invalid ones."""
    for result in schema.get_all_operations():
        operation = result.ok()
        run.operations += 1

        @settings(
            max_examples=run.examples_per_operation,
            deadline=None,
            database=None,
            derandomize=True,  # the smoke run in CI is the same every time; longer runs widen it
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # collect failures rather than shrink each one
        )
        @hypothesis_given(case=operation.as_strategy())
        def call(case: Any) -> None:
            run.cases += 1
            _check(run, credentials, case, case.call(headers=credentials.headers()))

        call()


def fuzz_stateful(schema: Any, credentials: TillCredentials, run: FuzzRun, scenarios: int, steps: int) -> None:
    """Sequences that follow the schema's links, e.g. issue a visit, then act on its medium."""
    base = schema.as_state_machine()

    class Workflow(base):  # type: ignore[misc, valid-type]
        def _add_results_to_targets(self, targets: Any, results: Any) -> None:
            # schemathesis 3.39 files each answer under the link it can feed by overriding
            # `_add_result_to_targets`, which newer Hypothesis renamed to this; without it, answers land only
            # in the catch-all bundle, no link is ever followed and the machine soon stops making progress.
            for result in results:
                target = self._get_target_for_result(result) if result is not None else None
                if target is not None:
                    super()._add_results_to_targets((target,), (result,))

        def step(self, case: Any, previous: Any = None) -> Any:
            if previous is not None:
                run.linked_steps += 1
            return super().step(case, previous)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": credentials.headers()}

        def validate_response(self, response: Any, case: Any, additional_checks: tuple[Any, ...] = ()) -> None:
            run.stateful_steps += 1
            run.cases += 1
            _check(run, credentials, case, response)

    # Which rules a scenario may take depends on what the database answered before (a 201 fills a link's bundle,
    # a name taken earlier answers 409), so Hypothesis, meeting a choice sequence it has seen, may stop with
    # "inconsistent data generation". Every step is checked as it runs, so such a stop loses no finding; the
    # scenarios go on in a new run. Seeding the global random generator Hypothesis draws from keeps the smoke run
    # the same every time. (A run per scenario would avoid the stop, but every run starts with the simplest
    # scenario, which never gets past the first step.)
    batch_settings = settings(
        max_examples=SCENARIOS_PER_RUN,
        stateful_step_count=steps,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
    for batch in range(max(1, scenarios // SCENARIOS_PER_RUN)):
        random.seed(batch)
        try:
            run_state_machine_as_test(Workflow, settings=batch_settings)
        except FlakyStrategyDefinition:
            run.stateful_restarts += 1


def load_schema(app: Any) -> Any:
    return schemathesis.from_dict(
        app.openapi(), app=app, data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative]
    )


def timed(run: FuzzRun, started: float) -> FuzzRun:
    run.seconds = round(time.monotonic() - started, 1)
    return run


def write_summary(run: FuzzRun, path: Path = SUMMARY_PATH) -> dict[str, Any]:
    """The figures the issue's closing note asks for (fuzz cases and failures), per database and in total; a run
    replaces the earlier run on the same database and keeps the others."""
    earlier = json.loads(path.read_text()).get("runs", []) if path.exists() else []
    runs = [other for other in earlier if other.get("database") != run.database] + [asdict(run)]
    summary = {
        "cases": sum(other["cases"] for other in runs),
        "failures": sum(len(other["failures"]) for other in runs),
        "runs": runs,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1))
    return summary
