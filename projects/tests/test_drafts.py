"""New project by conversation: drafts, the model's structured plan, and creating the project."""

import json

import pytest

from chat.models import ChatHistory
from chat.providers.prompts import DATA_NOT_INSTRUCTIONS
from chat.tests.helpers import wait_until_settled
from projects.drafts import SCHEMA, DraftInvalid, draft_clean
from projects.models import Project, ProjectDraft, Task
from tests.factories import HTMX, UserFactory, bearer_headers
from tests.fake_gemini import Failure, JsonReply, Reply

pytestmark = pytest.mark.django_db(transaction=True)

PLAN = {
    "name": "Bakery opening",
    "description": "Open a small bakery in Leeds.",
    "priority": "high",
    "startDate": "2027-01-04",
    "dueDate": "2027-03-31",
    "tasks": [
        {"title": "Find premises", "description": "", "priority": "high", "estimateHours": 20, "dueDate": "2027-01-31"},
        {
            "title": "Buy the ovens",
            "description": "Two deck ovens.",
            "priority": "medium",
            "estimateHours": 6.25,
            "dueDate": None,
        },
        {"title": "Hire two bakers", "description": "", "priority": "medium", "estimateHours": None, "dueDate": None},
    ],
}


def start(client, message="Open a bakery by March: premises, ovens, two bakers.") -> ProjectDraft:
    response = client.post("/projects/drafts/", {"message": message})
    assert response.status_code == 302
    draft = ProjectDraft.objects.get(pk=response["Location"].rstrip("/").rsplit("/", 1)[1])
    wait_until_settled(draft.chats.get())
    return draft


def refresh(client, draft: ProjectDraft):
    response = client.post(f"/projects/drafts/{draft.pk}/refresh/", headers=HTMX)
    draft.refresh_from_db()
    return response


# --- The draft's rules ---


def test_a_valid_plan_is_normalised():
    cleaned = draft_clean(PLAN)
    assert cleaned["name"] == "Bakery opening"
    assert [task["title"] for task in cleaned["tasks"]] == ["Find premises", "Buy the ovens", "Hire two bakers"]
    assert cleaned["tasks"][1]["estimateHours"] == 6.2  # one decimal place, as tasks keep it


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": ""}, "Give the project a name."),
        ({"name": "x" * 201}, "at most 200 characters"),
        ({"dueDate": "2026-12-01"}, "cannot be before the start date"),
        ({"priority": "whenever"}, "Select a valid choice"),
        ({"startDate": "next week"}, "YYYY-MM-DD"),
        ({"tasks": [{"title": "  "}]}, "Task 1, title: Give the task a title."),
        ({"tasks": [{"title": "Ok", "estimateHours": -2}]}, "Task 1, estimate (hours)"),
        ({"tasks": [{"title": "Ok", "estimateHours": "lots"}]}, "must be a number of hours"),
        ({"tasks": [{"title": f"T{n}"} for n in range(51)]}, "at most 50 tasks"),
        ({"tasks": "all of them"}, "must be a list"),
    ],
)
def test_a_plan_breaking_a_rule_is_refused_with_the_reason(change, problem):
    with pytest.raises(DraftInvalid) as refused:
        draft_clean({**PLAN, **change})
    assert any(problem in text for text in refused.value.problems), refused.value.problems


# --- The model drafts, our rules decide ---


def test_the_assistant_drafts_the_plan_from_the_conversation(client, user, fake_gemini):
    fake_gemini.script(Reply(["What is the deadline?"]))
    fake_gemini.script_structured(JsonReply(PLAN))
    draft = start(client)

    response = refresh(client, draft)

    assert response.status_code == 200 and "<html" not in response.content.decode()
    assert draft.data["name"] == "Bakery opening" and len(draft.data["tasks"]) == 3
    assert draft.problem == ""
    structured = [r for r in fake_gemini.requests if r.method == "generateContent"]
    assert len(structured) == 1
    assert structured[0].response_schema == SCHEMA
    assert structured[0].body["generationConfig"]["responseMimeType"] == "application/json"
    # The whole conversation goes along, and the instruction says what is data.
    assert ("user", "Open a bakery by March: premises, ovens, two bakers.") in structured[0].turns
    assert ("model", "What is the deadline?") in structured[0].turns
    assert DATA_NOT_INSTRUCTIONS in structured[0].system_instruction
    html = response.content.decode()
    assert 'value="Find premises"' in html and 'value="Bakery opening"' in html


def test_a_draft_that_has_read_every_exchange_is_not_drafted_again(client, user, fake_gemini):
    fake_gemini.script_structured(JsonReply(PLAN))
    draft = start(client)
    refresh(client, draft)
    refresh(client, draft)
    assert len([r for r in fake_gemini.requests if r.method == "generateContent"]) == 1


@pytest.mark.parametrize(
    "broken",
    [
        JsonReply(text='{"name": "Bakery", "tasks": [{"title": '),  # malformed JSON
        JsonReply({**PLAN, "dueDate": "2026-01-01"}),  # breaks a rule
        JsonReply({**PLAN, "tasks": [{"title": ""}]}),  # a task without a title
        JsonReply(text=""),  # empty
    ],
)
def test_unusable_output_is_sent_back_once_with_what_was_wrong(client, user, fake_gemini, broken):
    fake_gemini.script_structured(broken, JsonReply(PLAN))
    draft = start(client)

    refresh(client, draft)

    structured = [r for r in fake_gemini.requests if r.method == "generateContent"]
    assert len(structured) == 2
    assert "could not be used" in structured[1].system_instruction
    assert draft.data["name"] == "Bakery opening" and draft.problem == ""


def test_unusable_output_twice_leaves_the_draft_unchanged_and_says_so(client, user, fake_gemini):
    fake_gemini.script_structured(JsonReply(PLAN))
    draft = start(client)
    refresh(client, draft)
    before = draft.data
    client.post("/chat/send/", {"draft": draft.pk, "message": "Add a website"})
    wait_until_settled(draft.chats.order_by("-created_at").first())
    fake_gemini.script_structured(JsonReply({**PLAN, "tasks": [{"title": "Half"}, {"title": ""}]}))

    response = refresh(client, draft)

    assert draft.data == before  # a half-valid draft is never applied
    assert "could not be used, so your draft is unchanged" in draft.problem
    assert "could not be used, so your draft is unchanged" in response.content.decode()
    # It does not ask again on every visit; the next message tries again.
    refresh(client, draft)
    assert len([r for r in fake_gemini.requests if r.method == "generateContent"]) == 3


def test_a_model_failure_while_drafting_is_said_plainly(client, user, fake_gemini):
    fake_gemini.script_structured(Failure(429, retry_after=60))
    draft = start(client)

    response = refresh(client, draft)

    assert response.status_code == 200
    assert "too many requests" in draft.problem and draft.data["tasks"] == []


# --- Editing the draft, and creating the project ---


def panel_post(client, draft, data: dict, **fields):
    """POST the panel form as the page would, with the draft's fields and tasks plus ``fields``."""
    form = {
        "draft-name": data["name"],
        "draft-description": data["description"],
        "draft-priority": data["priority"],
        "draft-start_date": data["startDate"] or "",
        "draft-due_date": data["dueDate"] or "",
        "tasks-TOTAL_FORMS": len(data["tasks"]),
        "tasks-INITIAL_FORMS": len(data["tasks"]),
    }
    for index, task in enumerate(data["tasks"]):
        form |= {
            f"tasks-{index}-title": task["title"],
            f"tasks-{index}-description": task["description"],
            f"tasks-{index}-priority": task["priority"],
            f"tasks-{index}-estimate_hours": "" if task["estimateHours"] is None else task["estimateHours"],
            f"tasks-{index}-due_date": task["dueDate"] or "",
        }
    return client.post(f"/projects/drafts/{draft.pk}/", form | fields, headers=HTMX)


@pytest.fixture
def drafted(client, user, fake_gemini):
    fake_gemini.script_structured(JsonReply(PLAN))
    draft = start(client)
    refresh(client, draft)
    return draft


def test_edits_add_reorder_and_remove_tasks(client, drafted):
    data = draft_clean(PLAN)
    panel_post(client, drafted, {**data, "name": "Corner bakery"}, new_task="Plan the opening week", action="add")
    drafted.refresh_from_db()
    titles = [task["title"] for task in drafted.data["tasks"]]
    assert drafted.data["name"] == "Corner bakery"
    assert titles == ["Find premises", "Buy the ovens", "Hire two bakers", "Plan the opening week"]

    panel_post(client, drafted, drafted.data, action="up:3")
    panel_post(client, drafted, (drafted.refresh_from_db(), drafted.data)[1], action="remove:0")
    drafted.refresh_from_db()
    assert [task["title"] for task in drafted.data["tasks"]] == [
        "Buy the ovens",
        "Plan the opening week",
        "Hire two bakers",
    ]


def test_an_invalid_edit_keeps_what_was_typed_and_saves_nothing(client, drafted):
    before = drafted.data
    response = panel_post(client, drafted, {**before, "startDate": "2027-05-01"}, action="save")
    assert response.status_code == 422
    assert "cannot be before the start date" in response.content.decode()
    assert 'value="2027-05-01"' in response.content.decode()
    drafted.refresh_from_db()
    assert drafted.data == before


def test_create_makes_the_project_with_exactly_the_drafts_tasks(client, drafted):
    chat_ids = set(drafted.chats.values_list("pk", flat=True))
    response = panel_post(client, drafted, drafted.data, action="create")

    project = Project.objects.get()
    assert response.status_code == 200 and response["HX-Redirect"] == project.get_absolute_url()
    assert (project.name, project.priority, str(project.due_date)) == ("Bakery opening", "high", "2027-03-31")
    tasks = list(Task.objects.filter(project=project).order_by("position"))
    assert [(t.title, t.position) for t in tasks] == [
        ("Find premises", 0),
        ("Buy the ovens", 1),
        ("Hire two bakers", 2),
    ]
    assert tasks[0].estimate_hours == 20 and str(tasks[0].due_date) == "2027-01-31"
    assert not ProjectDraft.objects.exists()
    # The conversation is the project's first planning chat.
    moved = ChatHistory.objects.filter(pk__in=chat_ids)
    assert {(c.project_id, c.chat_type, c.draft_id) for c in moved} == {(project.pk, "project-planning", None)}
    assert "Bakery opening" in client.get(f"/projects/{project.pk}/chat/").content.decode()


def test_create_without_a_name_creates_nothing(client, drafted):
    response = panel_post(client, drafted, {**drafted.data, "name": ""}, action="create")
    assert response.status_code == 422
    assert not Project.objects.exists() and not Task.objects.exists()
    assert ProjectDraft.objects.filter(pk=drafted.pk).exists()


def test_drafts_survive_and_are_listed_and_can_be_discarded(client, drafted):
    page = client.get(f"/projects/drafts/{drafted.pk}/").content.decode()
    assert 'value="Find premises"' in page  # a reload finds it intact
    assert "Bakery opening" in client.get("/projects/new/").content.decode()

    response = client.post(f"/projects/drafts/{drafted.pk}/discard/")
    assert response.status_code == 302 and response["Location"] == "/projects/new/"
    assert not ProjectDraft.objects.exists() and not ChatHistory.objects.exists()


def test_a_refused_first_message_keeps_what_was_typed(client, user):
    response = client.post("/projects/drafts/", {"message": "x" * 8001})
    assert response.status_code == 422
    assert "x" * 8001 in response.content.decode()
    assert not ProjectDraft.objects.exists()


# --- Ownership ---


def test_another_users_draft_answers_404_everywhere(client, drafted):
    other = UserFactory()
    client.force_login(other)
    pk = drafted.pk
    assert client.get(f"/projects/drafts/{pk}/").status_code == 404
    for path in ("", "refresh/", "discard/"):
        assert client.post(f"/projects/drafts/{pk}/{path}", {"action": "create"}).status_code == 404
    assert client.post("/chat/send/", {"draft": pk, "message": "Hi"}).status_code == 404
    headers = bearer_headers(other)
    for method, path in [("get", ""), ("put", ""), ("delete", ""), ("post", "/refresh"), ("post", "/create")]:
        response = getattr(client, method)(
            f"/api/projects/drafts/{pk}{path}", {}, content_type="application/json", headers=headers
        )
        assert response.status_code == 404, (method, path)
    response = client.post(
        "/api/chat/send", {"message": "Hi", "draftId": str(pk)}, content_type="application/json", headers=headers
    )
    assert response.status_code == 404
    assert ProjectDraft.objects.filter(pk=pk).exists() and not Project.objects.exists()


# --- The JSON API ---


def test_the_api_starts_drafts_edits_and_creates(client, user, bearer, fake_gemini):
    def call(method, path, body=None):
        return getattr(client, method)(
            f"/api/projects/drafts{path}", body or {}, content_type="application/json", headers=bearer
        )

    fake_gemini.script_structured(JsonReply(PLAN))
    started = call("post", "", {"message": "Open a bakery by March."})
    assert started.status_code == 201
    draft = started.json()["data"]
    wait_until_settled(ChatHistory.objects.get(pk=draft["chatIds"][0]))

    refreshed = call("post", f"/{draft['_id']}/refresh").json()["data"]
    assert refreshed["name"] == "Bakery opening" and len(refreshed["tasks"]) == 3

    refused = call("put", f"/{draft['_id']}", {**PLAN, "dueDate": "2026-01-01"})
    assert refused.status_code == 422 and "before the start date" in refused.json()["error"]
    edited = call("put", f"/{draft['_id']}", {**PLAN, "tasks": PLAN["tasks"][:1]})
    assert [task["title"] for task in edited.json()["data"]["tasks"]] == ["Find premises"]
    assert [d["_id"] for d in call("get", "").json()["data"]] == [draft["_id"]]

    created = call("post", f"/{draft['_id']}/create")
    assert created.status_code == 201
    assert [task["title"] for task in created.json()["data"]["tasks"]] == ["Find premises"]
    assert call("get", f"/{draft['_id']}").status_code == 404


def test_the_api_sends_more_messages_into_a_draft(client, user, bearer, fake_gemini):
    draft = ProjectDraft.objects.create(owner=user)
    response = client.post(
        "/api/chat/send",
        {"message": "A website too", "draftId": str(draft.pk)},
        content_type="application/json",
        headers=bearer,
    )
    assert response.status_code == 200
    chat = ChatHistory.objects.get()
    assert (chat.draft_id, chat.chat_type) == (draft.pk, "new-project")


# --- With the offline assistant ---


def test_the_offline_assistant_drafts_from_the_users_own_words(client, user, settings):
    settings.AI_PROVIDER = "offline"
    draft = start(client, "Open a bakery called Crumb by the end of March.\n- Find premises\n- Buy ovens (6h)\n")
    refresh(client, draft)
    assert draft.data["name"] == "Crumb"
    assert [task["title"] for task in draft.data["tasks"]] == ["Find premises", "Buy ovens"]
    assert draft.data["dueDate"].endswith("-03-31")

    client.post("/chat/send/", {"draft": draft.pk, "message": "- Hire two bakers"})
    wait_until_settled(draft.chats.order_by("-created_at").first())
    refresh(client, draft)
    assert [task["title"] for task in draft.data["tasks"]] == ["Find premises", "Buy ovens", "Hire two bakers"]
    assert "Write the project plan" not in json.dumps(draft.data)

    response = panel_post(client, draft, draft.data, action="create")
    assert response["HX-Redirect"] == Project.objects.get().get_absolute_url()
    assert Project.objects.get().tasks.count() == 3


def test_a_refresh_with_nothing_new_leaves_the_panel_alone(client, drafted, fake_gemini):
    # The reply's own ask, after the page's first one caught up: no swap over edits on their way.
    assert refresh(client, drafted).status_code == 204
    # The page that showed "catching up" still gets its panel.
    response = client.post(f"/projects/drafts/{drafted.pk}/refresh/", {"catching_up": "1"}, headers=HTMX)
    assert response.status_code == 200 and 'value="Bakery opening"' in response.content.decode()
    assert len([r for r in fake_gemini.requests if r.method == "generateContent"]) == 1
