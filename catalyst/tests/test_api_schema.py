"""The OpenAPI schema tells the truth: schemathesis drives every route in-process.

Every generated request carries a real API token. The checks: no 5xx, every
status the API answers is documented, every answer matches its documented
schema, content type and headers, a request the schema allows is never
refused as invalid, and one it forbids is never taken. A fixed seed and few
examples per route keep it quick and repeatable. A longer pass by hand, with
every check schemathesis has (requests without the token, unsupported
methods, …)::

    API_SCHEMA_EXAMPLES=100 API_SCHEMA_ALL_CHECKS=1 API_SCHEMA_SEED=7 pytest catalyst/tests/test_api_schema.py
"""

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from accounts.models import ApiToken
from catalyst.schemas import NOT_BLANK_PATTERN
from catalyst.wsgi import application
from chat.generation import generations_stop_all
from chat.models import ChatHistory
from projects.models import Priority, Project, ProposalChange, Task
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "5"))
ALL_CHECKS = bool(os.environ.get("API_SCHEMA_ALL_CHECKS"))
# By hand, API_SCHEMA_SEED=<n> draws other examples than the suite's fixed ones.
SEED = os.environ.get("API_SCHEMA_SEED")

CONFIG = {
    "seed": int(SEED or 20240601),
    "generation": {"max-examples": EXAMPLES, "deterministic": SEED is None, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
}

# The one rule between fields the schema cannot state (projects/models.py).
DATE_RULE = "The due date cannot be before the start date."


def schema_valid_requests_are_accepted(ctx, response, case):
    """``positive_data_acceptance``, but for the date rule, which answers 422."""
    if response.status_code == 422 and DATE_RULE in response.json()["error"]:
        return None
    return checks.positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    schema_valid_requests_are_accepted,
    checks.negative_data_rejection,
]


@pytest.fixture(autouse=True)
def _quick(settings):
    # Every route is a test of its own, each with a fresh user: hash quickly.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CHAT_OFFLINE_CHUNK_DELAY = 0
    settings.CHAT_FLUSH_INTERVAL = 0.05
    settings.CHAT_POLL_INTERVAL = 0.05
    settings.CHAT_SEND_LIMIT = 10_000
    settings.CHAT_SAVE_LIMIT = 10_000
    yield
    generations_stop_all()


@pytest.fixture
def bearer():
    user = UserFactory()
    project = ProjectFactory(owner=user)
    TaskFactory(project=project)
    ChatHistoryFactory(user=user)
    _, raw = ApiToken.issue(user=user, name="schema")
    # Uncompressed: in-process, schemathesis checks the bytes as served, and would not gunzip them.
    return {"Authorization": f"Bearer {raw}", "Accept-Encoding": "identity"}


schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application, config=schemathesis.Config.from_dict(CONFIG))


@schema.parametrize()
# One user, token and set of records serve every example of the run, on purpose.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_api_answers_as_its_schema_says(case, bearer):
    if ALL_CHECKS:
        case.call_and_validate(
            headers=bearer,
            excluded_checks=[checks.positive_data_acceptance],
            additional_checks=[schema_valid_requests_are_accepted],
        )
    else:
        case.call_and_validate(headers=bearer, checks=CHECKS)


def test_the_blank_pattern_knows_every_character_python_strips():
    # Models strip with str.strip(); the schema's pattern must call the same text blank.
    pattern = re.compile(NOT_BLANK_PATTERN)
    for code in range(1, 0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        character = chr(code)
        assert bool(pattern.match(character)) is not character.isspace(), hex(code)


def test_every_route_documents_its_errors_in_the_one_error_shape(client):
    document = client.get("/api/openapi.json").json()
    error_shape = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if path not in ("/api/health", "/api/ready"):  # the probes need no login
                assert responses["401"]["content"]["application/json"]["schema"] == error_shape, (method, path)
            if method in ("post", "patch", "delete"):
                assert "403" in responses, (method, path)  # a session write without the CSRF header
            if "{" in path:
                assert "404" in responses, (method, path)


def test_sending_documents_the_event_stream_and_how_to_resume_it(client):
    document = client.get("/api/openapi.json").json()
    send = document["paths"]["/api/chat/send"]["post"]
    assert set(send["responses"]["200"]["content"]) == {"application/json", "text/event-stream"}
    assert "exactly one final ``done`` event" in send["description"]
    assert "GET /api/chat/{id}/stream" in send["description"]
    stream = document["paths"]["/api/chat/{chat_id}/stream"]["get"]
    assert set(stream["responses"]["200"]["content"]) == {"text/event-stream"}


def test_every_operation_documents_the_shape_it_succeeds_with(client):
    # A route declared without ``response=`` is documented as a bare "OK", with no shape to rely on.
    document = client.get("/api/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            successes = {status: answer for status, answer in operation["responses"].items() if status[0] == "2"}
            assert successes, (method, path)
            for status, answer in successes.items():
                content = answer.get("content", {})
                assert "application/json" in content or set(content) == {"text/event-stream"}, (method, path, status)
                for media_type, body in content.items():
                    assert body.get("schema"), (method, path, status, media_type)
                if "application/json" in content:  # a Schema of ours, not a bare dict or list
                    reference = content["application/json"]["schema"].get("$ref", "")
                    shape = document["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {})
                    assert shape.get("properties"), (method, path, status)


def test_every_name_on_the_wire_is_camel_case(client):
    document = client.get("/api/openapi.json").json()
    names = [name for shape in document["components"]["schemas"].values() for name in shape.get("properties", ())]
    names += [
        parameter["name"]
        for operations in document["paths"].values()
        for operation in operations.values()
        for parameter in operation.get("parameters", ())
        if parameter["in"] == "query"
    ]
    assert [name for name in names if not re.fullmatch(r"_id|[a-z]+(?:[A-Z][a-z]*)*", name)] == []


def test_choices_are_documented_as_the_models_own(client):
    shapes = client.get("/api/openapi.json").json()["components"]["schemas"]
    documented = {
        ("ChatOut", "chatType"): ChatHistory.ChatType,
        ("ChatOut", "status"): ChatHistory.Status,
        ("ProjectOut", "status"): Project.Status,
        ("ProjectOut", "priority"): Priority,
        ("TaskOut", "status"): Task.Status,
        ("ProposalChangeOut", "status"): ProposalChange.Status,
    }
    for (shape, field), choices in documented.items():
        assert shapes[shape]["properties"][field]["enum"] == choices.values, (shape, field)
