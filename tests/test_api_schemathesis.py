"""schemathesis against /openapi.json: cases generated from the document for every API operation, sent as
an admin with an API token, on both databases. No answer may be a 5xx, and every answer must be what the
document says (status code, content type, headers, body schema). At least 1,000 cases per database."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api_world import World

pytest_plugins = ("api_world",)  # the world and fresh_world fixtures

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 45
"""Per operation: 30 operations x 45 is over 1,000 cases (fewer where the schema allows fewer distinct ones)."""
MINIMUM_CASES = 1000
SKIPPED = {
    # Would fetch whatever URL hypothesis invents: the tests send traffic to 127.0.0.1 only (the endpoint is
    # tested against a loopback address in test_api_authz.py).
    ("POST", "/api/v1/advisories/sync"),
    # Mints tokens from a session only; with the token the run uses it is always 403 (tested in test_web_auth).
    ("POST", "/api/v1/tokens"),
    # Hypothesis tries id 1 early, which is the run's own token: revoking it would turn every later case into a
    # 401. Revocation and the id bounds (1..2**63-1, 422 past them) are tested in test_web_auth.py.
    ("DELETE", "/api/v1/tokens/{token_id}"),
}


def _fuzz(operation: Any, headers: dict[str, str], counts: Counter[str]) -> Any:
    """A Hypothesis test of one operation: generated cases, sent, every answer checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        counts[operation.label] += 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    return run


@pytest.mark.slow
def test_generated_requests_never_fail_and_match_the_document(world: World) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.client.app)
    headers = world.as_user("admin")
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue

        try:
            _fuzz(operation, headers, counts)()
        except Exception as error:  # collect every operation's first failure, then report them all
            failures.append(f"{operation.label}: {str(error)[:1500]}")
    total = sum(counts.values())
    assert not failures, "\n\n".join(failures)
    assert total >= MINIMUM_CASES, f"only {total} cases generated: {dict(counts)}"
