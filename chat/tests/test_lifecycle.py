"""A chat's record from the moment the message is sent to its final status."""

import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chat import generation, services
from chat.models import ChatHistory
from chat.tests.helpers import wait_for, wait_until_settled
from tests.factories import ChatHistoryFactory, ProjectFactory, TaskFactory, UserFactory
from tests.fake_gemini import Failure, Reply, cut_reply, empty_reply, max_tokens_reply, safety_block

pytestmark = pytest.mark.django_db(transaction=True)


def follow_sync(pk):
    """Watch a reply from synchronous code, as a WSGI response does."""
    return generation.iterate_on_process_loop(generation.reply_events(pk))


Status = ChatHistory.Status


def test_message_is_saved_pending_before_the_reply_arrives(fake_model):
    release = threading.Event()
    fake_model.script(Reply(["First", " second"], hold=release, hold_after=0))
    user = UserFactory()

    chat = services.chat_send(user=user, message="  Plan my week  ")

    saved = ChatHistory.objects.get(pk=chat.pk)
    assert saved.status == Status.PENDING
    assert saved.message == "Plan my week"
    release.set()
    assert wait_until_settled(chat).status == Status.COMPLETE


def test_complete_reply_is_saved_with_model_and_usage(fake_model):
    fake_model.script(Reply(["All", " done."], prompt_tokens=40, response_tokens=2))

    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))

    assert chat.response == "All done."
    assert chat.status == Status.COMPLETE
    assert (chat.provider, chat.model_name) == (fake_model.provider, fake_model.model)
    assert not chat.tokens_estimated
    assert (chat.prompt_tokens, chat.response_tokens) == (40, 2)
    assert chat.error == ""


def test_the_growing_reply_is_written_to_the_record_while_it_streams(fake_model):
    release = threading.Event()
    fake_model.script(Reply(["Partial text", " and the rest"], hold=release, hold_after=1))

    chat = services.chat_send(user=UserFactory(), message="Hi")

    wait_for(lambda: ChatHistory.objects.get(pk=chat.pk).response == "Partial text")
    assert ChatHistory.objects.get(pk=chat.pk).status == Status.PENDING
    release.set()
    assert wait_until_settled(chat).response == "Partial text and the rest"


@pytest.mark.parametrize(
    ("script", "status", "kind", "words"),
    [
        (Failure(429, retry_after=120), Status.FAILED, "rate_limited", "Try again in 2 minutes"),
        (Failure(500), Status.FAILED, "unavailable", "server error 500"),
        (
            Failure(401, "API key not valid"),
            Status.FAILED,
            "misconfigured",
            {"gemini": "GEMINI_API_KEY", "openai": "OPENAI_API_KEY"},
        ),
        (
            safety_block("HARM_CATEGORY_HATE_SPEECH"),
            Status.FAILED,
            "safety",
            {"gemini": "hate speech", "openai": "content filter"},
        ),
        (empty_reply(), Status.FAILED, "empty", "empty reply"),
        (cut_reply(["Half"]), Status.INTERRUPTED, "cut", "dropped"),
        (max_tokens_reply(["Long"]), Status.INTERRUPTED, "output_limit", "output limit"),
    ],
)
def test_each_failure_keeps_the_message_and_records_what_happened(fake_model, script, status, kind, words):
    fake_model.script(script)

    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Keep me"))

    assert chat.message == "Keep me"
    assert chat.status == status
    assert chat.error_kind == kind
    assert (words[fake_model.provider] if isinstance(words, dict) else words) in chat.error
    assert chat.can_retry


def test_stop_cancels_the_request_to_the_model_and_keeps_the_partial_reply(fake_model):
    release = threading.Event()
    fake_model.script(Reply(["Kept part", " never sent"], hold=release, hold_after=1))
    chat = services.chat_send(user=UserFactory(), message="Hi")
    wait_for(lambda: generation._live[str(chat.pk)].text == "Kept part")

    stopped = services.chat_stop(chat=chat)
    release.set()

    assert stopped.status == Status.INTERRUPTED
    assert stopped.error_kind == "stopped"
    assert stopped.response == "Kept part"
    assert stopped.can_continue
    # The upstream request was cancelled: the server's next write found no reader.
    assert fake_model.client_disconnected.wait(5)


def test_continue_appends_what_the_model_writes_next(fake_model):
    fake_model.script(cut_reply(["The first half"]), Reply([" and the second half."]))
    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))
    assert chat.status == Status.INTERRUPTED

    services.chat_continue(chat=chat)

    chat = wait_until_settled(chat)
    assert chat.status == Status.COMPLETE
    assert chat.response == "The first half and the second half."
    assert fake_model.requests[-1].turns[-2] == ("model", "The first half")


def test_retry_starts_the_reply_again(fake_model):
    fake_model.script(Failure(500), Failure(500), Failure(500), Reply(["Second time lucky."]))
    chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))
    assert chat.status == Status.FAILED

    services.chat_retry(chat=chat)

    chat = wait_until_settled(chat)
    assert (chat.status, chat.response, chat.error) == (Status.COMPLETE, "Second time lucky.", "")


def test_a_pending_reply_cannot_be_retried_twice(fake_model):
    release = threading.Event()
    fake_model.script(Reply(["x"], hold=release, hold_after=0))
    chat = services.chat_send(user=UserFactory(), message="Hi")
    try:
        with pytest.raises(services.ChatRejected):
            services.chat_retry(chat=ChatHistory.objects.get(pk=chat.pk))
    finally:
        release.set()


def test_a_second_viewer_gets_the_reply_so_far_then_the_rest(fake_model):
    release = threading.Event()
    fake_model.script(Reply(["Before", " after"], hold=release, hold_after=1))
    chat = services.chat_send(user=UserFactory(), message="Hi")
    wait_for(lambda: generation._live[str(chat.pk)].text == "Before")

    events = follow_sync(chat.pk)
    first = next(events)
    release.set()
    rest = list(events)

    assert first == ("snapshot", "Before")
    assert ("delta", " after") in rest
    assert rest[-1] == ("done", Status.COMPLETE)


def test_a_pending_reply_whose_generation_is_gone_becomes_interrupted_when_viewed():
    # As after a restart: the record says pending, but no process holds its lease.
    chat = ChatHistoryFactory(status=Status.PENDING, response="Half written")

    events = list(follow_sync(chat.pk))

    chat.refresh_from_db()
    assert events[-1] == ("done", Status.INTERRUPTED)
    assert (chat.status, chat.error_kind, chat.response) == (Status.INTERRUPTED, "lost", "Half written")
    assert chat.can_continue


def test_a_pending_reply_generated_by_another_worker_is_followed_by_polling():
    chat = ChatHistoryFactory(status=Status.PENDING, response="So far")
    cache.set(f"chat:generating:{chat.pk}", "another-worker", timeout=30)  # that worker's lease
    events = follow_sync(chat.pk)

    assert next(events) == ("snapshot", "So far")
    ChatHistory.objects.filter(pk=chat.pk).update(response="So far, and more", status=Status.COMPLETE)
    assert list(events) == [("delta", ", and more"), ("done", Status.COMPLETE)]


def test_stop_from_another_worker_marks_the_record_interrupted():
    chat = ChatHistoryFactory(status=Status.PENDING, response="Partial")

    stopped = services.chat_stop(chat=chat)

    assert (stopped.status, stopped.error_kind, stopped.response) == (Status.INTERRUPTED, "stopped", "Partial")


def test_the_model_gets_the_project_and_the_recent_turns(fake_model, settings):
    settings.CHAT_HISTORY_TURNS = 2
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Website relaunch", description="New site by May", status="active")
    TaskFactory(project=project, title="Write copy", due_date=timezone.localdate() - datetime.timedelta(days=1))
    TaskFactory(project=project, title="Pick hosting", status="done")
    for n in range(3):
        ChatHistoryFactory(user=user, project=project, message=f"Q{n}", response=f"A{n}")
    ChatHistoryFactory(user=user, message="Not this project", response="Other chat")
    ChatHistoryFactory(user=user, project=project, message="Failed one", response="", status=Status.FAILED)

    wait_until_settled(services.chat_send(user=user, message="What next?", project=project))

    received = fake_model.requests[-1]
    assert "Website relaunch" in received.system_instruction
    assert "New site by May" in received.system_instruction
    assert "Status: active" in received.system_instruction
    assert "- Write copy (To do, medium priority, due" in received.system_instruction
    assert "OVERDUE" in received.system_instruction
    assert "Pick hosting (Done" in received.system_instruction
    assert received.turns == [("user", "Q1"), ("model", "A1"), ("user", "Q2"), ("model", "A2"), ("user", "What next?")]


def test_general_chat_tells_the_model_about_active_projects(fake_model):
    user = UserFactory()
    ProjectFactory(owner=user, name="Garden")
    ProjectFactory(owner=UserFactory(), name="Someone else's")

    wait_until_settled(services.chat_send(user=user, message="Hello"))

    assert "Garden" in fake_model.requests[-1].system_instruction
    assert "Someone else's" not in fake_model.requests[-1].system_instruction


def test_offline_provider_answers_from_the_project_data():
    user = UserFactory()
    project = ProjectFactory(owner=user, name="Move house")
    TaskFactory(
        project=project,
        title="Book movers",
        priority="urgent",
        due_date=timezone.localdate() - datetime.timedelta(days=3),
    )

    chat = wait_until_settled(services.chat_send(user=user, message="What is overdue?", project=project))

    assert chat.status == Status.COMPLETE
    assert chat.model_name == "offline"
    assert "Book movers" in chat.response and "overdue by 3 days" in chat.response


def test_message_over_the_length_limit_is_refused_and_not_saved():
    with pytest.raises(services.ChatRejected, match="8,001 characters long; the limit is 8,000"):
        services.chat_send(user=UserFactory(), message="x" * 8001)
    assert not ChatHistory.objects.exists()


def test_empty_message_is_refused():
    with pytest.raises(services.ChatRejected, match="Write a message"):
        services.chat_send(user=UserFactory(), message="   ")


def test_sending_too_fast_is_refused_with_when_to_try_again(settings):
    settings.CHAT_SEND_LIMIT = 2
    user = UserFactory()
    for _ in range(2):
        wait_until_settled(services.chat_send(user=user, message="Hi"))

    with pytest.raises(services.ChatRejected) as raised:
        services.chat_send(user=user, message="One more")

    assert raised.value.status == 429
    assert "faster than 2 per hour" in str(raised.value)
    assert 1 <= raised.value.retry_after <= 3601
    assert ChatHistory.objects.count() == 2
    # Another user has their own allowance.
    wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))


def test_clear_deletes_only_that_chat_and_says_how_many():
    user = UserFactory()
    project = ProjectFactory(owner=user)
    ChatHistoryFactory.create_batch(3, user=user)
    ChatHistoryFactory(user=user, project=project)
    ChatHistoryFactory(user=user, chat_type="navigation")
    ChatHistoryFactory()

    removed = services.chat_clear(user=user, chat_type="project-planning")

    assert removed == 3
    assert ChatHistory.objects.count() == 3


def test_what_the_model_is_told_costs_the_same_queries_for_one_project_or_many():
    counts = []
    for size in (1, 10):
        user = UserFactory()
        for project in ProjectFactory.create_batch(size, owner=user):
            TaskFactory.create_batch(3, project=project)
        chat = ChatHistoryFactory(user=user)
        with CaptureQueriesContext(connection) as captured:
            conversation = services.conversation_build(chat=chat)
        assert len(conversation.projects) == size
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_reply_says_when_it_starts_and_how_it_ended(fake_model):
    from chat import signals

    heard = []

    def hear(signal, sender, **kwargs):
        heard.append((signal, kwargs))

    signals.reply_started.connect(hear, weak=False)
    signals.reply_finished.connect(hear, weak=False)
    try:
        fake_model.script(Reply(["All", " done."], prompt_tokens=40, response_tokens=2))
        chat = wait_until_settled(services.chat_send(user=UserFactory(), message="Hi"))
        wait_for(lambda: len(heard) == 2)
    finally:
        signals.reply_started.disconnect(hear)
        signals.reply_finished.disconnect(hear)

    (started_signal, started), (finished_signal, finished) = heard
    assert started_signal is signals.reply_started and finished_signal is signals.reply_finished
    about = {"chat_id": chat.pk, "user_id": chat.user_id, "chat_type": "project-planning"}
    assert started == {**about, "provider": fake_model.provider, "model": fake_model.model}
    assert finished["status"] == "complete" and finished["error_kind"] == ""
    assert (finished["prompt_tokens"], finished["response_tokens"], finished["tokens_estimated"]) == (40, 2, False)
    assert 0 <= finished["first_token_seconds"] <= finished["seconds"]
