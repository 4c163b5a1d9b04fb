import asyncio
import datetime
import ssl
import threading
import time

import pytest

from chat.providers import (
    Conversation,
    EmptyReply,
    OutputLimitReached,
    ProjectFacts,
    ProviderMisconfigured,
    ProviderUnavailable,
    RateLimited,
    ReplyFinished,
    SafetyBlocked,
    StreamCut,
    TaskFacts,
    TextDelta,
    Turn,
    get_provider,
)
from chat.providers.gemini import GeminiProvider, client_pool
from chat.providers.offline import OfflineProvider, offline_answer
from chat.tests.helpers import wait_for
from tests.fake_gemini import Failure, FakeGemini, Reply, cut_reply, empty_reply, max_tokens_reply, safety_block

TODAY = datetime.date(2026, 3, 10)


@pytest.fixture(autouse=True)
async def _gemini_clients_closed():
    """Replies here run on the test's own event loop, which ends with the test: close its clients first."""
    yield
    await client_pool.aclose()


def conversation(message="What next?", **kwargs) -> Conversation:
    return Conversation(system_instruction="Be a planner.", message=message, today=TODAY, **kwargs)


def gemini(fake, **kwargs) -> GeminiProvider:
    options = {"timeout": 5, "retries": 2, "retry_backoff": 0.01, **kwargs}
    return GeminiProvider(api_key="test-key", model="gemini-test-model", base_url=fake.url, **options)


async def collect(provider, conv):
    return [event async for event in provider.stream_reply(conv)]


async def test_gemini_streams_deltas_and_usage(fake_gemini):
    fake_gemini.script(Reply(["Plan", " the", " work."], prompt_tokens=30, response_tokens=3))

    events = await collect(gemini(fake_gemini), conversation())

    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Plan", " the", " work."]
    assert events[-1] == ReplyFinished(prompt_tokens=30, response_tokens=3)


async def test_gemini_receives_model_system_instruction_and_turns(fake_gemini):
    history = (Turn("user", "Earlier question"), Turn("model", "Earlier answer"))

    await collect(gemini(fake_gemini), conversation("Newest question", history=history))

    request = fake_gemini.requests[-1]
    assert request.path.startswith("/v1beta/models/gemini-test-model:streamGenerateContent")
    assert request.model == "gemini-test-model"
    assert request.headers["x-goog-api-key"] == "test-key"
    assert request.system_instruction == "Be a planner."
    assert request.turns == [("user", "Earlier question"), ("model", "Earlier answer"), ("user", "Newest question")]


async def test_continuing_sends_the_partial_reply_and_asks_to_go_on(fake_gemini):
    await collect(gemini(fake_gemini), conversation("Question", partial_reply="Half an ans"))

    roles = [role for role, _ in fake_gemini.requests[-1].turns]
    assert roles == ["user", "model", "user"]
    assert fake_gemini.requests[-1].turns[1][1] == "Half an ans"
    assert "Continue" in fake_gemini.requests[-1].turns[2][1]


async def test_rate_limit_with_short_retry_after_is_retried_before_the_first_token(fake_gemini):
    fake_gemini.script(Failure(429, retry_after=0.01), Reply(["Fine now."]))

    events = await collect(gemini(fake_gemini), conversation())

    assert events[0] == TextDelta("Fine now.")
    assert len(fake_gemini.requests) == 2


async def test_rate_limit_with_long_wait_says_when_to_try_again(fake_gemini):
    fake_gemini.script(Failure(429, retry_delay="42s"))

    with pytest.raises(RateLimited) as raised:
        await collect(gemini(fake_gemini), conversation())

    assert raised.value.retry_after == 42
    assert "Try again in 42 seconds" in str(raised.value)
    assert len(fake_gemini.requests) == 1


async def test_server_errors_are_retried_a_bounded_number_of_times(fake_gemini):
    fake_gemini.script(Failure(500))

    with pytest.raises(ProviderUnavailable, match="server error 500"):
        await collect(gemini(fake_gemini, retries=2), conversation())

    assert len(fake_gemini.requests) == 3


async def test_stream_cut_mid_way_after_text_is_not_retried(fake_gemini):
    fake_gemini.script(cut_reply(["Half", " a reply"]))
    received = []

    with pytest.raises(StreamCut):
        async for event in gemini(fake_gemini).stream_reply(conversation()):
            received.append(event.text)

    assert received == ["Half", " a reply"]
    assert len(fake_gemini.requests) == 1


async def test_safety_block_names_its_category(fake_gemini):
    fake_gemini.script(safety_block("HARM_CATEGORY_DANGEROUS_CONTENT"))

    with pytest.raises(SafetyBlocked) as raised:
        await collect(gemini(fake_gemini), conversation())

    assert raised.value.category == "dangerous content"
    assert "dangerous content" in str(raised.value)


async def test_empty_reply_is_an_error(fake_gemini):
    fake_gemini.script(empty_reply())

    with pytest.raises(EmptyReply):
        await collect(gemini(fake_gemini), conversation())


async def test_output_token_limit_interrupts_after_the_text(fake_gemini):
    fake_gemini.script(max_tokens_reply(["Long", " answer"]))
    received = []

    with pytest.raises(OutputLimitReached):
        async for event in gemini(fake_gemini).stream_reply(conversation()):
            received.append(event.text)

    assert received == ["Long", " answer"]


async def test_rejected_key_reads_as_misconfiguration(fake_gemini):
    fake_gemini.script(Failure(403, "API key not valid"))

    with pytest.raises(ProviderMisconfigured, match="GEMINI_API_KEY"):
        await collect(gemini(fake_gemini), conversation())

    assert len(fake_gemini.requests) == 1


async def test_unreachable_server_reads_as_unavailable():
    provider = GeminiProvider(api_key="k", model="m", base_url="http://127.0.0.1:9", retries=1, retry_backoff=0.01)

    with pytest.raises(ProviderUnavailable, match="Could not reach"):
        await collect(provider, conversation())


async def test_a_slow_stream_is_fine_while_each_chunk_comes_in_time(fake_gemini):
    fake_gemini.script(Reply(["slow", " but", " steady"], delay=0.15))

    events = await collect(gemini(fake_gemini, timeout=0.4), conversation())

    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "slow but steady"


async def test_a_model_that_does_not_answer_in_time_times_out(fake_gemini):
    release = threading.Event()
    fake_gemini.script(Reply(["late"], hold=release, hold_after=0))
    try:
        with pytest.raises(ProviderUnavailable, match="in time"):
            await collect(gemini(fake_gemini, timeout=0.3, retries=0), conversation())
    finally:
        release.set()


def test_auto_provider_is_gemini_only_with_a_key(settings):
    settings.AI_PROVIDER = "auto"
    settings.GEMINI_API_KEY = ""
    assert get_provider().name == "offline"
    settings.GEMINI_API_KEY = "key"
    assert get_provider().name == "gemini"
    settings.AI_PROVIDER = "offline"
    assert get_provider().label == "Offline assistant"


def test_every_provider_the_settings_name_builds_from_them(settings):
    for name in settings.AI_PROVIDERS:
        settings.AI_PROVIDER = name
        assert get_provider().name == name


async def test_replies_on_one_loop_share_one_client_and_its_connection(fake_gemini):
    await collect(gemini(fake_gemini), conversation())
    await collect(gemini(fake_gemini), conversation())

    first, second = fake_gemini.requests
    assert first.peer == second.peer
    assert fake_gemini.connections_closed == 0


async def test_a_changed_base_url_closes_the_old_client_at_once_and_builds_a_new_one(fake_gemini, settings):
    await collect(get_provider(), conversation())
    other = FakeGemini().start()
    try:
        settings.GEMINI_BASE_URL = other.url
        await _eventually(lambda: fake_gemini.connections_closed == 1)
        await collect(get_provider(), conversation())

        assert len(fake_gemini.requests) == 1 and len(other.requests) == 1
    finally:
        other.stop()


def test_a_settings_change_closes_the_client_of_a_loop_in_another_thread(fake_gemini, settings):
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(collect(get_provider(), conversation()), loop).result(timeout=10)
        settings.GEMINI_BASE_URL = "http://127.0.0.1:9"
        wait_for(lambda: fake_gemini.connections_closed == 1)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


async def test_a_plain_http_endpoint_loads_no_certificates(fake_gemini, monkeypatch):
    loaded = []
    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", lambda *args, **kwargs: loaded.append(args))

    await collect(gemini(fake_gemini), conversation())

    assert loaded == []


async def _eventually(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


PROJECT = ProjectFacts(
    name="Launch",
    status="active",
    tasks=(
        TaskFacts("Write copy", "todo", "To do", "medium", due_date=TODAY + datetime.timedelta(days=3)),
        TaskFacts(
            "Fix signup bug", "todo", "To do", "high", due_date=TODAY - datetime.timedelta(days=2), is_overdue=True
        ),
        TaskFacts("Set up domain", "done", "Done", "low"),
        TaskFacts("Design logo", "in-progress", "In progress", "medium"),
    ),
)


def test_offline_lists_what_is_overdue():
    answer = offline_answer(conversation("What is overdue?", project=PROJECT))
    assert "1 task is overdue" in answer
    assert "Fix signup bug" in answer
    assert "overdue by 2 days" in answer
    assert "Write copy" not in answer


def test_offline_suggests_the_overdue_task_as_the_next_step():
    answer = offline_answer(conversation("What should I do next?", project=PROJECT))
    assert answer.startswith("**Suggested next step:** Fix signup bug")


def test_offline_lists_tasks_by_status():
    answer = offline_answer(conversation("List the tasks", project=PROJECT))
    assert "1 of 4 tasks done" in answer
    assert answer.index("### In progress") < answer.index("Design logo") < answer.index("### To do")


def test_offline_general_chat_summarises_projects():
    answer = offline_answer(conversation("Where do I stand?", projects=(PROJECT,)))
    assert "| Launch | Active | 3 | 1 |" in answer


async def test_offline_streams_in_chunks_and_continues_exactly_where_it_stopped():
    provider = OfflineProvider(chunk_delay=0)
    full = offline_answer(conversation("List the tasks", project=PROJECT))

    first = [
        e.text
        for e in await collect(provider, conversation("List the tasks", project=PROJECT))
        if isinstance(e, TextDelta)
    ]
    rest = await collect(provider, conversation("List the tasks", project=PROJECT, partial_reply=full[:25]))

    assert len(first) > 5 and "".join(first) == full
    assert full[:25] + "".join(e.text for e in rest if isinstance(e, TextDelta)) == full


def test_offline_assistant_answers_a_request_for_a_new_plan_with_a_planning_outline():
    answer = offline_answer(conversation("Help me plan a new product launch", projects=(PROJECT,)))

    assert "step by step" in answer
    assert "| Launch |" not in answer


def test_offline_overview_counts_overdue_tasks_in_words():
    answer = offline_answer(conversation("What should I focus on today?", projects=(PROJECT,)))

    assert "**Launch** needs attention first: 1 task is overdue." in answer
