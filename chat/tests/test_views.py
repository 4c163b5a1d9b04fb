"""The planning chat pages and their HTMX fragments."""

import datetime
import re
import threading

import pytest
from django.utils import timezone

from chat.models import ChatHistory
from chat.tests.helpers import progress_tail, read_stream, release_once_watched, stream_events, wait_until_settled
from tests.factories import HTMX, ChatHistoryFactory, ProjectFactory, TaskFactory
from tests.fake_gemini import Failure, Reply, cut_reply, empty_reply, max_tokens_reply, safety_block

pytestmark = pytest.mark.django_db(transaction=True)


def sent_chat(response) -> ChatHistory:
    pk = re.search(r'id="chat-(\w+)"', response.content.decode()).group(1)
    return ChatHistory.objects.get(pk=pk)


def test_chat_page_labels_the_offline_assistant(client, user):
    response = client.get("/chat/")
    assert response.status_code == 200
    assert "Offline assistant" in response.content.decode()
    assert "What are you planning?" in response.content.decode()


def test_chat_page_names_gemini_when_it_is_the_provider(client, user, fake_gemini):
    assert "Gemini · gemini-test-model" in client.get("/chat/").content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get("/chat/").status_code == 302


def test_send_saves_the_message_and_answers_with_a_streaming_bubble(client, user):
    response = client.post("/chat/send/", {"message": "Plan my week"}, headers=HTMX)

    chat = sent_chat(response)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert chat.message == "Plan my week" and chat.user == user
    assert f'sse-connect="/chat/{chat.pk}/stream/"' in html
    assert 'aria-live="polite"' in html
    assert 'id="chat-count" hx-swap-oob="true">1 message<' in html
    assert "Delete 1 message" in html
    read_stream(client, chat)


def test_stream_sends_only_new_text_then_the_rendered_reply(client, user, fake_model):
    release = threading.Event()
    fake_model.script(Reply(["**Bold**", " plan", " <script>x</script>"], hold=release, hold_after=1))
    chat = sent_chat(client.post("/chat/send/", {"message": "Hi"}, headers=HTMX))
    release_once_watched(chat, release)

    response = client.get(f"/chat/{chat.pk}/stream/")
    body = b"".join(response.streaming_content).decode()

    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    assert response["X-Accel-Buffering"] == "no"
    snapshot = re.search(r"event: snapshot\ndata: (.*)\n", body).group(1)
    deltas = re.findall(r"event: delta\ndata: (.*)\n", body)
    assert progress_tail(snapshot) + "".join(deltas) == "**Bold** plan &lt;script&gt;x&lt;/script&gt;"
    done = body.split("event: done\n", 1)[1]
    assert "<strong>Bold</strong>" in done
    assert "<script>" not in done


def test_finished_blocks_stream_rendered_once_each_and_the_rest_as_text(client, user, fake_model):
    chunks = ["# Pla", "n\n\nFirst **bold** ", "point.\n\n- one\n- t", "wo\n\n", "Then a", " line.\n\n"]
    chunks += ["Still being writ", "ten"]
    release = threading.Event()
    fake_model.script(Reply(chunks, hold=release, hold_after=1))
    chat = sent_chat(client.post("/chat/send/", {"message": "Hi"}, headers=HTMX))

    # The model goes on once this page is watching, so the rest reaches it as it streams.
    release_once_watched(chat, release)

    body = read_stream(client, chat)

    blocks = "".join(data for name, data in stream_events(body) if name == "blocks")
    assert blocks.count("<h1>Plan</h1>") == 1
    assert blocks.count("<strong>bold</strong>") == 1
    assert blocks.count("<li>one</li>") == 1
    assert "Still being" not in blocks
    # Never the whole reply again per token: the wire stays near the reply's own size.
    streamed = body.split("event: done\n", 1)[0]
    assert len(streamed) < 3 * len("".join(chunks)) + 400


def test_stream_of_a_finished_reply_sends_it_at_once(client, user):
    chat = ChatHistoryFactory(user=user, response="Already here")
    body = read_stream(client, chat)
    assert "event: done" in body and "Already here" in body


def test_htmx_send_error_keeps_the_draft_and_explains(client, user):
    response = client.post("/chat/send/", {"message": "x" * 8001}, headers=HTMX)

    assert response.status_code == 422
    assert response["HX-Retarget"] == "#composer-error"
    assert "the limit is 8,000" in response.content.decode()
    assert not ChatHistory.objects.exists()


def test_rate_limited_send_says_when_to_try_again(client, user, settings):
    settings.CHAT_SEND_LIMIT = 1
    wait_until_settled(sent_chat(client.post("/chat/send/", {"message": "One"}, headers=HTMX)))

    response = client.post("/chat/send/", {"message": "Two"}, headers=HTMX)

    assert response.status_code == 429
    assert "Try again in" in response.content.decode()
    assert int(response["Retry-After"]) >= 1


def test_send_without_javascript_redirects_back_to_the_chat(client, user):
    response = client.post("/chat/send/", {"message": "Plain form"})
    assert response.status_code == 302 and response["Location"] == "/chat/"
    wait_until_settled(ChatHistory.objects.get())


def test_failed_send_without_javascript_shows_the_page_with_the_draft(client, user):
    response = client.post("/chat/send/", {"message": "y" * 8001})
    assert response.status_code == 422
    assert "y" * 8001 in response.content.decode()


def test_project_chat_is_scoped_to_the_project(client, user):
    project = ProjectFactory(owner=user, name="Kitchen remodel")
    ChatHistoryFactory(user=user, project=project, message="About the kitchen")
    ChatHistoryFactory(user=user, message="General question")

    html = client.get(f"/projects/{project.pk}/chat/").content.decode()

    assert "Kitchen remodel" in html
    assert "About the kitchen" in html
    assert "General question" not in html
    assert "About the kitchen" not in client.get("/chat/").content.decode()


def test_project_chat_sends_into_the_project(client, user):
    project = ProjectFactory(owner=user)
    TaskFactory(project=project, title="Order tiles", due_date=timezone.localdate() - datetime.timedelta(days=1))

    chat = sent_chat(client.post("/chat/send/", {"message": "What is overdue?", "project": project.pk}, headers=HTMX))

    assert chat.project == project
    assert "Order tiles" in wait_until_settled(chat).response


@pytest.mark.parametrize("pk", ["999999", "not-an-id"])
def test_unknown_or_malformed_project_answers_404(client, user, pk):
    assert client.get(f"/projects/{pk}/chat/").status_code == 404
    assert client.post("/chat/send/", {"message": "Hi", "project": pk}).status_code == 404


def test_other_users_project_chat_answers_404(client, user):
    project = ProjectFactory()
    assert client.get(f"/projects/{project.pk}/chat/").status_code == 404
    assert client.post("/chat/send/", {"message": "Hi", "project": project.pk}).status_code == 404
    assert not ChatHistory.objects.exists()


@pytest.mark.parametrize("action", ["stream", "stop", "retry", "continue"])
def test_other_users_chats_answer_404(client, user, action):
    chat = ChatHistoryFactory(status=ChatHistory.Status.INTERRUPTED, response="Theirs")
    method = client.get if action == "stream" else client.post
    assert method(f"/chat/{chat.pk}/{action}/").status_code == 404
    assert method(f"/chat/not-an-id/{action}/").status_code == 404
    chat.refresh_from_db()
    assert chat.status == ChatHistory.Status.INTERRUPTED


def test_history_shows_the_newest_page_and_loads_earlier_on_request(client, user):
    start = timezone.now() - datetime.timedelta(hours=1)
    for n in range(25):
        ChatHistoryFactory(
            user=user, message=f"Message number {n:02d}", created_at=start + datetime.timedelta(minutes=n)
        )

    html = client.get("/chat/").content.decode()
    assert "Message number 24" in html and "Message number 05" in html
    assert "Message number 04" not in html
    assert html.index("Message number 05") < html.index("Message number 24")  # newest last
    earlier_url = re.search(r'hx-get="(/chat/\?before=[^"]+)"', html).group(1).replace("&amp;", "&")

    earlier = client.get(earlier_url, headers=HTMX).content.decode()

    assert "<html" not in earlier
    assert "Message number 00" in earlier and "Message number 04" in earlier
    assert "Message number 05" not in earlier
    assert "Load earlier messages" not in earlier


def test_chat_pages_and_replies_vary_on_hx_request(client, user):
    chat = ChatHistoryFactory(user=user, project=ProjectFactory(owner=user))
    urls = ["/chat/", f"/projects/{chat.project_id}/chat/", "/chat/assistant/", f"/chat/{chat.pk}/reply/"]
    for url in urls:
        for headers in ({}, HTMX):
            assert "HX-Request" in client.get(url, headers=headers)["Vary"], (url, headers)


def test_search_finds_messages_and_replies_of_this_chat_only(client, user):
    ChatHistoryFactory(user=user, message="Budget for the trip", response="About 900 euros")
    ChatHistoryFactory(user=user, message="Packing list", response="Bring a TRIPOD")
    ChatHistoryFactory(user=user, message="Nothing relevant")
    ChatHistoryFactory(message="Someone else's trip")

    html = client.get("/chat/", {"q": "trip"}, headers=HTMX).content.decode()

    assert "2 messages match" in html
    assert "Budget for the trip" in html and "Packing list" in html
    assert "Nothing relevant" not in html and "Someone else" not in html


def test_stop_keeps_the_partial_reply_and_offers_continue(client, user, fake_model):
    release = threading.Event()
    fake_model.script(Reply(["Partial answer", " the rest"], hold=release, hold_after=1))
    chat = sent_chat(client.post("/chat/send/", {"message": "Hi"}, headers=HTMX))
    from chat.tests.helpers import wait_for

    wait_for(lambda: ChatHistory.objects.get(pk=chat.pk).response == "Partial answer")

    response = client.post(f"/chat/{chat.pk}/stop/", headers=HTMX)
    release.set()

    html = response.content.decode()
    assert "Partial answer" in html
    assert "You stopped this reply." in html
    assert "Continue" in html and "Retry" in html
    assert ChatHistory.objects.get(pk=chat.pk).status == ChatHistory.Status.INTERRUPTED


def test_retry_answers_with_a_streaming_bubble(client, user, fake_model):
    chat = ChatHistoryFactory(user=user, status=ChatHistory.Status.FAILED, error="boom", error_kind="unavailable")
    fake_model.script(Reply(["Hello from", " Gemini."]))

    response = client.post(f"/chat/{chat.pk}/retry/", headers=HTMX)

    assert f'sse-connect="/chat/{chat.pk}/stream/"' in response.content.decode()
    assert wait_until_settled(chat).response == "Hello from Gemini."


def test_continue_of_a_complete_reply_is_refused_with_a_toast(client, user):
    chat = ChatHistoryFactory(user=user)
    response = client.post(f"/chat/{chat.pk}/continue/", headers=HTMX)
    assert response.status_code == 200
    assert "Only an interrupted reply can be continued" in response["HX-Trigger"]


@pytest.mark.parametrize(
    ("kind", "status", "title"),
    [
        ("rate_limited", "failed", "Rate limited"),
        ("safety", "failed", "Blocked for safety"),
        ("unavailable", "failed", "Assistant unreachable"),
        ("misconfigured", "failed", "Assistant misconfigured"),
        ("output_limit", "interrupted", "Output limit reached"),
    ],
)
def test_failure_states_read_differently(client, user, kind, status, title):
    ChatHistoryFactory(user=user, status=status, error_kind=kind, error="Details here.", response="Some text")
    html = client.get("/chat/").content.decode()
    assert title in html and "Details here." in html
    assert "Retry" in html


def test_reply_markdown_is_sanitised(client, user):
    ChatHistoryFactory(
        user=user,
        response="<script>alert(1)</script> <img src=x onerror=alert(2)> [click](javascript:alert(3)) [ok](https://example.com)",
    )

    html = client.get("/chat/").content.decode()
    reply = html.split('class="reply__text markdown">', 1)[1].split("</div>", 1)[0]

    assert "<script>" not in reply and "<img" not in reply
    assert "&lt;script&gt;" in reply
    assert 'href="javascript' not in reply
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">ok</a>' in reply


def test_clear_deletes_this_chat_and_says_how_many(client, user):
    project = ProjectFactory(owner=user)
    ChatHistoryFactory.create_batch(2, user=user)
    ChatHistoryFactory(user=user, project=project)

    response = client.post("/chat/clear/", headers=HTMX)

    assert response["HX-Redirect"] == "/chat/"
    assert ChatHistory.objects.filter(user=user).count() == 1
    assert "Removed 2 messages from this chat." in client.get("/chat/").content.decode()


def test_clear_of_a_project_chat_leaves_the_general_chat(client, user):
    project = ProjectFactory(owner=user)
    ChatHistoryFactory(user=user, project=project)
    ChatHistoryFactory(user=user)

    response = client.post("/chat/clear/", {"project": project.pk})

    assert response["Location"] == f"/projects/{project.pk}/chat/"
    assert list(ChatHistory.objects.values_list("project", flat=True)) == [None]


def test_clear_is_post_only(client, user):
    ChatHistoryFactory(user=user)
    assert client.get("/chat/clear/").status_code == 405
    assert ChatHistory.objects.count() == 1


def test_export_downloads_the_chat_as_markdown(client, user):
    ChatHistoryFactory(user=user, message="How long?", response="About **two weeks**.")
    ChatHistoryFactory(user=user, message="Cut off", response="Half", status="interrupted", error="Dropped.")
    ChatHistoryFactory(message="Not mine")

    response = client.get("/chat/export/")
    text = response.content.decode()

    assert response["Content-Type"].startswith("text/markdown")
    assert response["Content-Disposition"].startswith('attachment; filename="planning-chat-')
    assert text.startswith("# Planning chat")
    assert "How long?" in text and "About **two weeks**." in text
    assert "> *Interrupted: Dropped.*" in text
    assert "Not mine" not in text


@pytest.mark.parametrize(("zone", "shown"), [("UTC", "06:24 UTC"), ("Europe/Berlin", "07:24 CET")])
def test_message_times_name_their_time_zone(client, user, settings, zone, shown):
    settings.TIME_ZONE = zone
    ChatHistoryFactory(user=user, created_at=datetime.datetime(2030, 1, 15, 6, 24, tzinfo=datetime.UTC))

    page = client.get("/chat/").content.decode()

    assert f'title="2030-01-15 {shown}">Jan 15, {shown}</time>' in page
    assert f'aria-label="Exchange from Jan 15, {shown}"' in page


def test_the_export_names_the_time_zone_of_every_time(client, user, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    ChatHistoryFactory(user=user, created_at=datetime.datetime(2030, 1, 15, 6, 24, tzinfo=datetime.UTC))

    text = client.get("/chat/export/").content.decode()

    assert "## You · 2030-01-15 07:24 CET" in text
    assert re.search(r"^## Assistant · \d{4}-\d\d-\d\d \d\d:\d\d CES?T$", text, re.MULTILINE)
    assert re.search(r"^Exported \d{4}-\d\d-\d\d \d\d:\d\d CES?T from Project Catalyst\.$", text, re.MULTILINE)


def test_page_query_budget(client, user, django_assert_max_num_queries):
    ChatHistoryFactory.create_batch(30, user=user)
    with django_assert_max_num_queries(8):
        client.get("/chat/")


def test_a_reply_orphaned_by_a_restart_shows_as_interrupted_with_continue(client, user):
    chat = ChatHistoryFactory(user=user, status=ChatHistory.Status.PENDING, response="Cut short by a restart")
    # Last written well before the restart, and no process holds its lease.
    ChatHistory.objects.filter(pk=chat.pk).update(updated_at=timezone.now() - datetime.timedelta(minutes=5))

    html = client.get("/chat/").content.decode()

    assert "sse-connect" not in html
    assert "Server restarted" in html and "Continue" in html
    assert ChatHistory.objects.get().status == ChatHistory.Status.INTERRUPTED


@pytest.mark.parametrize(
    ("script", "title"),
    [
        (Failure(429, retry_after=90), "Rate limited"),
        (Failure(500), "Assistant unreachable"),
        (Failure(403, "API key not valid"), "Assistant misconfigured"),
        (safety_block("HARM_CATEGORY_HARASSMENT"), "Blocked for safety"),
        (empty_reply(), "Empty reply"),
        (cut_reply(), "Connection dropped"),
        (max_tokens_reply(), "Output limit reached"),
    ],
)
def test_each_scripted_failure_ends_the_page_stream_with_a_clear_message_and_retry(
    client, user, fake_model, script, title
):
    fake_model.script(script)
    response = client.post("/chat/send/", {"message": "Keep my words"}, headers=HTMX)
    assert response.status_code == 200
    chat = sent_chat(response)

    done = read_stream(client, chat).split("event: done\n", 1)[1]

    assert title in done
    assert f"/chat/{chat.pk}/retry/" in done
    assert "Keep my words" in client.get("/chat/").content.decode()
