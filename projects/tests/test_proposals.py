"""AI changes to a project as proposals: nothing changes until the user accepts a change."""

import datetime
import json

import pytest

from chat.models import ChatHistory
from projects.models import Proposal, ProposalChange, Task
from projects.proposals import SCHEMA, ProposalInvalid, proposal_clean
from tests.factories import HTMX, ProjectFactory, TaskFactory, UserFactory, bearer_headers
from tests.fake_gemini import JsonReply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def project(user):
    project = ProjectFactory(owner=user, name="Bakery")
    TaskFactory(project=project, title="Find premises", priority="medium", position=0)
    TaskFactory(project=project, title="Buy ovens", position=1)
    TaskFactory(project=project, title="Print flyers", position=2)
    return project


def tasks(project) -> dict[str, Task]:
    return {task.title: task for task in project.tasks.all()}


def answer(project, *changes, summary="Tighten the plan.") -> JsonReply:
    by_title = tasks(project)
    rows = []
    for action, title, fields in changes:
        task_id = str(by_title[title].pk) if action != "add" else None
        rows.append({"action": action, "taskId": task_id, "title": None, "reason": f"Because of {title}.", **fields})
    return JsonReply({"summary": summary, "changes": rows})


def suggest(client, project):
    return client.post(
        f"/projects/{project.pk}/proposals/", {"kind": "changes"}, headers={**HTMX, "HX-Target": "messages"}
    )


def decide(client, change: ProposalChange, decision: str):
    url = f"/projects/{change.proposal.project_id}/proposals/{change.proposal_id}/changes/{change.pk}/"
    return client.post(url, {"decision": decision}, headers=HTMX)


def test_suggested_changes_show_as_cards_and_change_nothing(client, project, fake_gemini):
    fake_gemini.script_structured(
        answer(
            project,
            ("change", "Find premises", {"priority": "high", "dueDate": "2027-02-01"}),
            ("remove", "Print flyers", {}),
            ("add", "Hire bakers", {"title": "Hire two bakers", "priority": "medium", "estimateHours": 6}),
        )
    )
    before = {t.title: (t.priority, t.due_date, t.updated_at) for t in project.tasks.all()}

    response = suggest(client, project)

    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Suggested changes" in html and "3 of 3 waiting for you" in html
    assert "Hire two bakers" in html and "<del>medium</del> to <ins>high</ins>" in html
    assert {t.title: (t.priority, t.due_date, t.updated_at) for t in project.tasks.all()} == before
    request = [r for r in fake_gemini.requests if r.method == "generateContent"][0]
    assert request.response_schema == SCHEMA
    assert f"[id {tasks(project)['Buy ovens'].pk}] Buy ovens" in request.system_instruction
    chat = ChatHistory.objects.get()
    assert (chat.project_id, chat.status, chat.message) == (
        project.pk,
        "complete",
        "Suggest changes to this project's plan.",
    )
    # The chat page shows it again, with a fixed number of queries.
    assert "3 of 3 waiting for you" in client.get(f"/projects/{project.pk}/chat/").content.decode()


def test_accepting_one_card_changes_exactly_that_task_and_records_where_from(client, project, fake_gemini):
    fake_gemini.script_structured(
        answer(project, ("change", "Find premises", {"priority": "high"}), ("remove", "Print flyers", {}))
    )
    suggest(client, project)
    change = ProposalChange.objects.get(action="change")
    untouched = tasks(project)["Buy ovens"].updated_at

    response = decide(client, change, "accept")

    assert response.status_code == 200 and "Accepted" in response.content.decode()
    found = tasks(project)
    assert found["Find premises"].priority == "high"
    assert found["Find premises"].source_chat_id == change.proposal.chat_id
    assert found["Find premises"].source_model == "gemini-test-model"
    assert "Print flyers" in found and found["Buy ovens"].updated_at == untouched
    board = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'href="/chat/{change.proposal.chat_id}/"' in board

    decide(client, ProposalChange.objects.get(action="remove"), "reject")
    assert "Print flyers" in tasks(project)
    assert set(ProposalChange.objects.values_list("status", flat=True)) == {"accepted", "rejected"}
    assert decide(client, change, "accept").status_code == 409  # decided already


def test_a_task_changed_since_the_proposal_is_flagged_and_never_overwritten(client, project, fake_gemini):
    fake_gemini.script_structured(answer(project, ("change", "Find premises", {"title": "Find a shop"})))
    suggest(client, project)
    task = tasks(project)["Find premises"]
    task.title = "Find premises near the station"
    task.save()
    change = ProposalChange.objects.get()

    page = client.get(f"/projects/{project.pk}/chat/").content.decode()
    assert "changed after the proposal" in page and "Propose again" in page
    response = decide(client, change, "accept")

    assert response.status_code == 409
    assert "changed after the proposal was made" in json.loads(response["HX-Trigger"])["toast"]["message"]
    task.refresh_from_db()
    assert task.title == "Find premises near the station"
    assert ProposalChange.objects.get().status == "pending"


def test_accept_all_adds_and_removes_and_leaves_stale_ones(client, project, fake_gemini):
    fake_gemini.script_structured(
        answer(
            project,
            ("add", "x", {"title": "Plan the opening week", "priority": "high"}),
            ("remove", "Print flyers", {}),
            ("change", "Buy ovens", {"estimateHours": 5}),
        )
    )
    suggest(client, project)
    stale = tasks(project)["Buy ovens"]
    stale.priority = "urgent"
    stale.save()
    proposal = Proposal.objects.get()

    response = client.post(f"/projects/{project.pk}/proposals/{proposal.pk}/", {"decision": "accept"}, headers=HTMX)

    toast = json.loads(response["HX-Trigger"])["toast"]["message"]
    assert toast == "Accepted 2 changes. 1 changed task left for you to look at."
    found = tasks(project)
    assert "Print flyers" not in found and found["Buy ovens"].estimate_hours is None
    added = found["Plan the opening week"]
    assert added.position == max(t.position for t in found.values()) and added.source_chat_id == proposal.chat_id
    assert ProposalChange.objects.get(action="add").task_id == added.pk


def test_break_down_a_task_from_its_card(client, project, fake_gemini):
    steps = [{"action": "add", "taskId": None, "title": f"Step {n}", "reason": "Smaller steps."} for n in range(1, 5)]
    fake_gemini.script_structured(JsonReply({"summary": "Four steps.", "changes": steps}))
    task = tasks(project)["Buy ovens"]

    response = client.post(f"/projects/{project.pk}/proposals/", {"kind": "breakdown", "task": task.pk}, headers=HTMX)

    proposal = Proposal.objects.get()
    assert response["HX-Redirect"] == f"/projects/{project.pk}/chat/#chat-{proposal.chat_id}"
    assert proposal.kind == "breakdown" and proposal.changes.count() == 4
    assert proposal.chat.message == "Break down “Buy ovens” into smaller tasks."
    request = [r for r in fake_gemini.requests if r.method == "generateContent"][0]
    assert f"task with id {task.pk}" in request.system_instruction
    assert project.tasks.count() == 3  # nothing yet


def test_unusable_proposals_are_repaired_once_then_reported(client, project, fake_gemini):
    unknown = JsonReply(
        {"summary": "", "changes": [{"action": "remove", "taskId": "999999", "title": None, "reason": ""}]}
    )
    fake_gemini.script_structured(unknown, answer(project, ("remove", "Print flyers", {})))
    suggest(client, project)
    requests = [r for r in fake_gemini.requests if r.method == "generateContent"]
    assert len(requests) == 2 and "no task with id '999999'" in requests[1].system_instruction
    assert ProposalChange.objects.count() == 1

    fake_gemini.script_structured(JsonReply(text="{oops"))
    response = suggest(client, project)
    assert response.status_code == 502
    assert "could not be used" in json.loads(response["HX-Trigger"])["toast"]["message"]
    assert Proposal.objects.count() == 1 and ChatHistory.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ([{"action": "change", "taskId": "1", "title": "x" * 201}], "at most 200 characters"),
        ([{"action": "add", "title": ""}], "Give the task a title."),
        ([{"action": "change", "taskId": "1", "dueDate": "soon"}], "YYYY-MM-DD"),
        ([{"action": "remove", "taskId": "1"}, {"action": "remove", "taskId": "1"}], "already changed"),
        ([{"action": "rename", "taskId": "1"}], "add, change or remove"),
    ],
)
def test_a_proposal_breaking_a_rule_is_refused_whole(changes, problem):
    task = Task(pk=1, title="Find premises", priority="medium", status="todo")
    task.updated_at = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    with pytest.raises(ProposalInvalid) as refused:
        proposal_clean({"summary": "", "changes": changes}, tasks=[task], kind="changes")
    assert any(problem in text for text in refused.value.problems), refused.value.problems


def test_a_breakdown_needs_three_to_eight_new_tasks():
    adds = [{"action": "add", "title": "One"}, {"action": "add", "title": "Two"}]
    with pytest.raises(ProposalInvalid, match="3 to 8"):
        proposal_clean({"summary": "", "changes": adds}, tasks=[], kind="breakdown", task_id="1")


def test_another_users_proposals_answer_404(client, project, fake_gemini):
    fake_gemini.script_structured(answer(project, ("remove", "Print flyers", {})))
    suggest(client, project)
    change = ProposalChange.objects.get()
    client.force_login(UserFactory())
    assert suggest(client, project).status_code == 404
    assert decide(client, change, "accept").status_code == 404
    url = f"/projects/{project.pk}/proposals/{change.proposal_id}/"
    assert client.post(url, {"decision": "accept"}).status_code == 404
    assert "Print flyers" in tasks(project)


def test_the_api_proposes_and_decides(client, user, project, bearer, fake_gemini):
    fake_gemini.script_structured(answer(project, ("change", "Find premises", {"priority": "urgent"})))

    def post(path, body):
        return client.post(
            f"/api/projects/{project.pk}/proposals{path}", body, content_type="application/json", headers=bearer
        )

    created = post("", {"kind": "changes"})
    assert created.status_code == 201
    proposal = created.json()["data"]
    change = proposal["changes"][0]
    assert (change["action"], change["fields"], change["before"]) == (
        "change",
        {"priority": "urgent"},
        {"priority": "medium"},
    )
    assert tasks(project)["Find premises"].priority == "medium"

    decided = post(f"/{proposal['_id']}/changes/{change['_id']}", {"decision": "accept"})
    assert decided.status_code == 200 and decided.json()["data"]["changes"][0]["status"] == "accepted"
    assert tasks(project)["Find premises"].priority == "urgent"
    assert post(f"/{proposal['_id']}/changes/{change['_id']}", {"decision": "accept"}).status_code == 409
    listed = client.get(f"/api/projects/{project.pk}/proposals", headers=bearer).json()["data"]
    assert [p["_id"] for p in listed] == [proposal["_id"]]

    response = client.get(f"/api/projects/{project.pk}/proposals", headers=bearer_headers(UserFactory()))
    assert response.status_code == 404


def test_a_tasks_link_finds_its_message_however_far_back(client, user, project):
    from tests.factories import ChatHistoryFactory

    base = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    chats = [
        ChatHistoryFactory(
            user=user, project=project, message=f"Message {n}", created_at=base + datetime.timedelta(minutes=n)
        )
        for n in range(30)
    ]
    target = chats[3]

    response = client.get(f"/chat/{target.pk}/")

    assert response.status_code == 302 and response["Location"].endswith(f"#chat-{target.pk}")
    page = client.get(response["Location"].split("#")[0]).content.decode()
    assert f'id="chat-{target.pk}"' in page and "Message 3" in page
    assert f'id="chat-{chats[4].pk}"' not in page
    latest = client.get(f"/chat/{chats[-1].pk}/")
    assert latest["Location"] == f"/projects/{project.pk}/chat/#chat-{chats[-1].pk}"
    client.force_login(UserFactory())
    assert client.get(f"/chat/{target.pk}/").status_code == 404
