"""Property-based tests from the OpenAPI schema (schemathesis): whatever the input, no
response is a server error, and every error has the documented shape. Runs against the
live API on SQLite and on PostgreSQL (which refuses some inputs SQLite takes, e.g. NUL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from service_support import RATE_LIMITER, Api, upload

pytestmark = [pytest.mark.service]

EXAMPLES = 30


def _openapi() -> dict[str, Any]:
    """The app's schema, built without serving anything (no connection is opened)."""
    from api.app import create_app
    from grader.settings import Settings

    app = create_app(
        Settings(secret_key="s" * 32, database_url="sqlite://", redis_url="redis://127.0.0.1:1/0")
    )
    return app.openapi()


SCHEMA = schemathesis.openapi.from_dict(_openapi())


@pytest.fixture
def schema_api(live_api: Callable[..., Api], request: pytest.FixtureRequest) -> Api:
    """The live API on the database named by the test's ``db`` parameter."""
    db = (
        request.node.callspec.params.get("db", "sqlite")
        if hasattr(request.node, "callspec")
        else "sqlite"
    )
    overrides: dict[str, Any] = {}
    if db == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_server").create_database()
    api = live_api(**overrides)
    # A real submission, so that some generated ids may be found at all.
    upload(api.client("candidate"), RATE_LIMITER / "solution" / "ratelimit.py")
    return api


def _error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx/5xx body is {"error": {"code", "message"}} (the API's one error shape)."""
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return None


HYPOTHESIS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@schemathesis.check
def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    return _error_shape(ctx, response, case)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
@SCHEMA.parametrize()
@HYPOTHESIS
def test_no_input_yields_a_server_error(case: Any, db: str, schema_api: Api) -> None:
    role = "admin" if case.path.startswith("/v1/tokens") or db == "postgresql" else "reviewer"
    headers = {"Authorization": f"Bearer {schema_api.tokens[role]}"}
    case.call_and_validate(
        base_url=schema_api.url, headers=headers, checks=[not_a_server_error, error_shape]
    )
