"""Schemathesis fuzzes every operation ``/api/openapi.json`` describes to an administrator, through WSGI
(no server): 0 server errors. Deterministic (``derandomize``) and bounded (a few examples per operation
in three passes: valid data, invalid data, valid data on a record that exists) plus schemathesis's
coverage phase (boundary and wrong-type values, missing parameters, unexpected methods), so it stays
under a minute per database. Raise ``LOWCODE_FUZZ_EXAMPLES`` for a longer hunt.

Signing out and refreshing are left out: they end the token the fuzz runs with.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.generation import derive_operation_seed, overrides
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test

from tests.conftest import ApiClient, login
from tests.integration.workflows.bundle import PASSWORD
from tests.integration.workflows.bundle import install as install_workflow_app

ENDS_THE_TOKEN = {"/api/auth/logout", "/api/auth/refresh"}
EXAMPLES = int(os.environ.get("LOWCODE_FUZZ_EXAMPLES", "6"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))  # fmt: skip
RECORD_PATH = re.compile(r"^(/api/data/[^/]+/[^/]+)/\{id\}")
INGEST_PATH = "/api/integrations/shop/order_in/ingest"
ORDER_IN = {
    "name": "order_in", "source": {"kind": "payload"}, "target": "order",
    "fields": [{"field": "customer", "source": "buyer.name", "required": True},
               {"field": "status", "source": "state", "values": {"map": {"NEW": "draft", "OK": "confirmed"}}}],
    "children": [{"field": "lines", "source": "items[*]", "fields": [
        {"field": "item", "source": "sku"}, {"field": "amount", "source": "price"}]}],
}  # fmt: skip


def install_with_mapping(app, api) -> None:
    """The workflow app and a payload mapping into its orders (the ingest route is fuzzed too)."""
    install_workflow_app(app, api)
    assert api.put("/api/definitions/shop/mapping/order_in", json=ORDER_IN).status_code == 200
    published = api.post("/api/definitions/shop/mapping/order_in/publish")
    assert published.status_code == 200, published.get_json()


@pytest.fixture
def fuzz_schema(app, demo_api):
    install_with_mapping(app, demo_api)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=demo_api.headers)


def _passes(operation, api):
    """(generation mode, fixed path parameters) for one operation: real ids too where the path has one."""
    yield GenerationMode.POSITIVE, None
    yield GenerationMode.NEGATIVE, None
    match = RECORD_PATH.match(operation.path)
    if match:
        page = api.get(f"{match.group(1)}?limit=1&sort=id").get_json()["data"]
        if page:
            yield GenerationMode.POSITIVE, {"id": page[0]["id"]}


def _coverage_test(schema, operation, body):
    """Schemathesis's coverage phase for one operation: boundary and wrong-type values of every parameter
    and body field, missing required ones, unexpected methods (deterministic, no examples budget)."""
    return create_test(operation=operation, test_func=body, config=HypothesisTestConfig(
        settings=settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck)),
        modes=[HypothesisTestMode.COVERAGE], seed=derive_operation_seed(0, operation.label), project=schema.config,
        override=overrides.with_config_headers(schema.config, operation=operation)))  # fmt: skip


def _operations(schema) -> list:
    return [r.ok() for r in schema.get_all_operations() if r.ok().path not in ENDS_THE_TOKEN]


def _fuzz(schema, api, part: int = 0, parts: int = 1) -> list[str]:
    """Run every operation of ``schema`` (every ``parts``-th from ``part``: one share of them) as ``api``'s
    caller; the server errors met, as curl commands."""
    failures: list[str] = []
    operations = _operations(schema)[part::parts]
    sent = 0

    def send(case) -> None:
        nonlocal sent
        case.headers = {**(case.headers or {}), **api.headers}  # negative cases drop auth
        response = case.call()
        sent += 1
        if response.status_code >= 500:
            failures.append(f"{case.as_curl_command()}\n-> {response.status_code} {response.text[:300]}")

    for operation in operations:
        for mode, path_parameters in _passes(operation, api):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
            FUZZ(given(case=strategy)(lambda case: send(case)))()
        _coverage_test(schema, operation, lambda case: send(case))()
    assert sent > 10 * len(operations)
    return failures


ADMIN_PARTS = 4
"""The administrator's operations are fuzzed in this many tests (each on its own database), so the test
workers share the longest test of the suite instead of one of them running it alone at the end."""


@pytest.mark.parametrize("part", range(ADMIN_PARTS))
def test_no_operation_answers_a_server_error(fuzz_schema, demo_api, part):
    assert len(_operations(fuzz_schema)) > 40  # the demo, workflow and admin routes
    assert INGEST_PATH in fuzz_schema.raw_schema["paths"]
    failures = _fuzz(fuzz_schema, demo_api, part, ADMIN_PARTS)
    assert not failures, "\n\n".join(failures)


def test_no_operation_answers_a_server_error_to_a_user_with_a_record_rule(app, api):
    """A clerk: a record rule (own orders only), some transitions, no other entity."""
    install_with_mapping(app, api)
    client = app.test_client()
    clerk = ApiClient(client, login(client, "cleo", PASSWORD))
    clerk.post(
        "/api/data/shop/order", json={"customer": "Acme", "lines": [{"item": "shirt", "amount": "10.00"}]}
    )
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers=clerk.headers)
    assert "/api/data/shop/order/{id}/transitions/{name}" in schema.raw_schema["paths"]
    assert INGEST_PATH in schema.raw_schema["paths"]
    failures = _fuzz(schema, clerk)
    assert not failures, "\n\n".join(failures)
