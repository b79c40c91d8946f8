"""schemathesis against /api/v1/openapi.json, over real HTTP with a valid token: no 5xx.

Every operation the document describes is called with generated valid and invalid
input (paths, queries, bodies) on a database holding a few real tickets. The operations
are driven through schemathesis's Python API and Hypothesis, one test for the whole
document, because its pytest plugin does not load under this pytest.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from clinic import api_tokens
from clinic.runtime import Runtime
from tests import factories
from tests.faults.conftest import Product


def test_api_never_answers_5xx(product: Product, runtime: Runtime) -> None:
    now = runtime.clock.now()
    with runtime.db.transaction() as session:
        for n in range(3):
            factories.ticket(session, now=now, body=f"คำถามที่ {n} / question {n}")
        factories.staff_user(session, now=now, username="agent1")
        _, token = api_tokens.create(session, name="schemathesis", now=now)
    product.start_web()
    schema = schemathesis.openapi.from_url(f"{product.url}/api/v1/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}

    called = []
    for found in schema.get_all_operations():
        operation = found.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        call()
        called.append(operation.label)
    assert len(called) >= 5, called  # the document describes the API's operations
