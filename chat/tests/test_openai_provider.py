"""The OpenAI-compatible provider against a fake server: what it sends, and how each server reads.

The chat's behaviour (streaming, Stop, Retry, every failure) runs once per
provider in the lifecycle, view, API and journey tests (``fake_model``);
these are what only an OpenAI-compatible server does.
"""

import pytest

from chat import services
from chat.models import ChatHistory
from chat.providers import Conversation, ProviderMisconfigured, SafetyBlocked, Turn, get_provider
from chat.providers.openai_compatible import OpenAICompatibleProvider, client_pool
from chat.tests.helpers import wait_until_settled
from projects.drafts import SCHEMA as DRAFT_SCHEMA
from tests.factories import ChatHistoryFactory, UserFactory
from tests.fake_gemini import Failure, JsonReply, Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def closing_clients():
    yield
    await client_pool.aclose()


def test_it_sends_the_conversation_as_chat_messages_and_asks_for_usage(fake_openai):
    user = UserFactory()
    ChatHistoryFactory(user=user, message="Earlier question", response="Earlier answer")

    chat = wait_until_settled(services.chat_send(user=user, message="What next?"))

    received = fake_openai.requests[-1]
    assert received.path == "/v1/chat/completions"
    assert received.model == "test-model"
    assert received.body["stream"] is True
    assert received.body["stream_options"] == {"include_usage": True}
    roles = [message["role"] for message in received.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert received.system_instruction.startswith("You are Catalyst")
    assert received.turns == [("user", "Earlier question"), ("model", "Earlier answer"), ("user", "What next?")]
    assert received.headers["authorization"] == "Bearer no-key"  # a local server needs none; the SDK wants one
    assert (chat.prompt_tokens, chat.response_tokens, chat.tokens_estimated) == (12, 7, False)


def test_a_server_that_reports_no_usage_gets_an_estimate_marked_as_one(client, fake_openai):
    fake_openai.sends_usage = False
    fake_openai.script(Reply(["A reply of forty characters, more or less"]))
    user = UserFactory()
    client.force_login(user)

    chat = wait_until_settled(services.chat_send(user=user, message="Hi"))

    assert chat.status == ChatHistory.Status.COMPLETE
    assert chat.tokens_estimated
    assert chat.response_tokens == 11  # 41 characters at about four a token, rounded up
    assert chat.prompt_tokens > 0
    page = client.get("/chat/").content.decode()
    assert "(estimated: the server reported none)" in page
    assert "OpenAI-compatible · test-model" in page


def test_a_short_rate_limit_is_waited_out_before_the_first_token(fake_openai):
    fake_openai.script(Failure(429, retry_after=0.05), Reply(["Made it."]))

    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))

    assert (chat.status, chat.response) == (ChatHistory.Status.COMPLETE, "Made it.")
    assert len(fake_openai.requests) == 2


@pytest.mark.parametrize(
    ("failure", "kind", "words"),
    [
        (Failure(404, "The model `test-model` does not exist"), "misconfigured", "OPENAI_MODEL"),
        (Failure(400, "content_filter"), "safety", "content filter"),
        (Failure(400, "Unsupported parameter"), "unavailable", "400 Unsupported parameter"),
    ],
)
def test_what_the_server_refuses_is_said_plainly(fake_openai, failure, kind, words):
    fake_openai.script(failure)

    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Keep me"))

    assert (chat.status, chat.error_kind, chat.message) == (ChatHistory.Status.FAILED, kind, "Keep me")
    assert words in chat.error
    assert len(fake_openai.requests) == 1  # nothing worth retrying


def conversation() -> Conversation:
    return Conversation(system_instruction="Draft the plan.", message="Plan it.", history=(Turn("user", "A bakery"),))


async def test_a_draft_is_asked_for_with_the_json_schema(fake_openai, closing_clients):
    fake_openai.script_structured(JsonReply({"name": "Bakery", "tasks": []}))

    answer = await get_provider().draft_project(conversation(), current={})

    assert answer == {"name": "Bakery", "tasks": []}
    received = fake_openai.requests[-1]
    assert received.response_format["type"] == "json_schema"
    assert received.response_schema == DRAFT_SCHEMA
    assert "stream" not in received.body


async def test_a_server_without_json_schema_is_asked_in_json_mode_with_the_schema_in_words(
    fake_openai, closing_clients
):
    fake_openai.json_schema = False
    fake_openai.script_structured(JsonReply({"name": "Bakery", "tasks": []}))

    answer = await get_provider().draft_project(conversation(), current={})

    assert answer == {"name": "Bakery", "tasks": []}
    first, second = fake_openai.requests
    assert first.response_format["type"] == "json_schema"
    assert second.response_format == {"type": "json_object"}
    assert '"tasks"' in second.system_instruction and "JSON schema" in second.system_instruction


async def test_a_refused_answer_is_blocked_for_safety(fake_openai, closing_clients):
    fake_openai.script(Reply(["I can't"], finish="SAFETY"))
    provider = get_provider()

    with pytest.raises(SafetyBlocked):
        async for _event in provider.stream_reply(conversation()):
            pass


async def test_no_model_configured_says_so_before_calling_anything(fake_openai, closing_clients):
    provider = OpenAICompatibleProvider(model="", base_url=fake_openai.url)
    with pytest.raises(ProviderMisconfigured, match="OPENAI_MODEL"):
        async for _event in provider.stream_reply(conversation()):
            pass
    assert fake_openai.requests == []


@pytest.mark.parametrize(
    ("base_url", "label"),
    [("", "OpenAI · gpt-4o-mini"), ("http://localhost:11434/v1", "OpenAI-compatible · gpt-4o-mini")],
)
def test_the_label_names_the_server(base_url, label):
    assert OpenAICompatibleProvider(model="gpt-4o-mini", base_url=base_url).label == label


def test_auto_picks_gemini_then_an_openai_compatible_server_then_offline(settings):
    settings.AI_PROVIDER = "auto"
    settings.GEMINI_API_KEY = ""
    settings.OPENAI_API_KEY = ""
    settings.OPENAI_BASE_URL = ""
    assert get_provider().name == "offline"
    settings.OPENAI_BASE_URL = "http://localhost:11434/v1"
    assert get_provider().name == "openai"
    settings.GEMINI_API_KEY = "key"
    assert get_provider().name == "gemini"
