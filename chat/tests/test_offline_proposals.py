"""The offline assistant's proposed changes to a project, its task breakdowns and its status report."""

import asyncio
import datetime
from decimal import Decimal

import pytest

from chat.providers.base import Conversation, ProjectFacts, TaskFacts
from chat.providers.offline import OfflineProvider, offline_answer, offline_proposal
from projects.models import Task
from projects.proposals import ProposalInvalid, proposal_clean

TODAY = datetime.date(2026, 2, 10)
KEYS = {"action", "taskId", "title", "description", "priority", "status", "estimateHours", "dueDate", "reason"}
LABELS = {"todo": "To do", "in-progress": "In progress", "done": "Done"}


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def task(pk: int, title: str, **fields) -> Task:
    """An unsaved task with its key set: ``proposal_clean`` only needs its values."""
    values = {"status": "todo", "priority": "medium", "due_date": None, "estimate_hours": None, "description": ""}
    values.update(fields)
    if values["estimate_hours"] is not None:
        values["estimate_hours"] = Decimal(str(values["estimate_hours"]))
    return Task(pk=pk, title=title, **values)


def facts(tasks: list[Task], **project) -> ProjectFacts:
    """The project as the assistant sees it, built from the same tasks the validator checks against."""
    return ProjectFacts(
        name=project.pop("name", "Website relaunch"),
        status=project.pop("status", "active"),
        tasks=tuple(
            TaskFacts(
                id=str(item.pk),
                title=item.title,
                description=item.description,
                status=item.status,
                status_label=LABELS[item.status],
                priority=item.priority,
                due_date=item.due_date,
                estimate_hours=float(item.estimate_hours) if item.estimate_hours is not None else None,
                is_overdue=item.status != "done" and item.due_date is not None and item.due_date < TODAY,
            )
            for item in tasks
        ),
        **project,
    )


def propose(tasks: list[Task], kind: str = "changes", task_id: str = "", **project) -> dict:
    """The proposal, checked to pass the app's own validator for the same tasks."""
    proposal = offline_proposal(facts(tasks, **project), kind=kind, task_id=task_id, today=TODAY)
    assert set(proposal) == {"summary", "changes"} and proposal["summary"]
    for change in proposal["changes"]:
        assert set(change) == KEYS
    if proposal["changes"] or kind == "changes":
        summary, cleaned = proposal_clean(proposal, tasks=tasks, kind=kind, task_id=task_id)
        assert summary
        # Nothing was dropped as empty: every change proposes something new.
        assert len(cleaned) == len(proposal["changes"])
    return proposal


def changes_by_task(proposal: dict) -> dict[str, dict]:
    return {change["taskId"]: change for change in proposal["changes"]}


# --- A planner's review of the whole project ---


def test_overdue_task_gets_a_date_a_week_out_and_high_priority():
    tasks = [task(1, "Write the copy", due_date=days(-3), priority="medium", estimate_hours=3)]

    change = changes_by_task(propose(tasks))["1"]

    assert change["action"] == "change"
    assert change["dueDate"] == days(7).isoformat()
    assert change["priority"] == "high"
    assert "3 days overdue" in change["reason"]
    assert change["title"] is None and change["estimateHours"] is None and change["status"] is None


def test_overdue_task_already_urgent_keeps_its_priority():
    tasks = [task(1, "Fix the login", due_date=days(-1), priority="urgent", estimate_hours=2)]

    change = changes_by_task(propose(tasks))["1"]

    assert change["priority"] is None
    assert "1 day overdue" in change["reason"]


def test_overdue_task_moves_to_the_project_due_date_when_that_is_sooner():
    tasks = [task(1, "Write the copy", due_date=days(-2), priority="high", estimate_hours=3)]

    change = changes_by_task(propose(tasks, due_date=days(4)))["1"]

    assert change["dueDate"] == days(4).isoformat()
    assert "project's due date" in change["reason"]


def test_estimates_are_proposed_for_at_most_three_tasks_by_kind_of_work():
    tasks = [
        task(1, "Call the printer", priority="urgent"),
        task(2, "Build the booking form", priority="high"),
        task(3, "Pick a colour scheme", priority="high"),
        task(4, "Design the logo", priority="low"),
        task(5, "Email the venue", priority="low"),
    ]

    proposal = propose(tasks)

    estimates = {change["taskId"]: change["estimateHours"] for change in proposal["changes"]}
    assert estimates == {"1": 2.0, "2": 8.0, "3": 4.0}
    assert "3 tasks" in proposal["summary"]


def test_overdue_task_without_estimate_gets_both_in_one_change():
    tasks = [task(1, "Implement the search", due_date=days(-5), priority="low")]

    proposal = propose(tasks)

    assert len(proposal["changes"]) == 1
    change = proposal["changes"][0]
    assert (change["dueDate"], change["priority"], change["estimateHours"]) == (days(7).isoformat(), "high", 8.0)


def test_review_proposes_at_most_eight_changes():
    tasks = [task(pk, f"Chapter {pk}", due_date=days(-pk), estimate_hours=1) for pk in range(1, 13)]

    assert len(propose(tasks)["changes"]) == 8


def test_done_tasks_need_nothing_even_when_late_or_urgent():
    tasks = [
        task(1, "Launch", status="done", priority="urgent", due_date=days(-10)),
        task(2, "Write the copy", priority="medium", due_date=days(5), estimate_hours=3),
    ]

    proposal = propose(tasks)

    assert proposal["changes"] == []
    assert "in order" in proposal["summary"]


def test_project_with_every_task_done_gets_a_review_task():
    tasks = [task(1, "Launch", status="done"), task(2, "Announce", status="done")]

    proposal = propose(tasks)

    [change] = proposal["changes"]
    assert change["action"] == "add" and change["taskId"] is None
    assert change["title"] == "Review the outcome and plan next steps"
    assert change["estimateHours"] == 2.0


def test_project_whose_review_is_done_needs_nothing():
    tasks = [task(1, "Launch", status="done"), task(2, "Review the outcome and plan next steps", status="done")]

    assert propose(tasks)["changes"] == []


def test_project_without_tasks_gets_a_first_task():
    [change] = propose([])["changes"]

    assert change["action"] == "add" and change["title"]


# --- Breaking one task down ---


def test_breakdown_from_description_list_keeps_parent_values():
    parent = task(
        7,
        "Organise the launch party",
        priority="high",
        due_date=days(20),
        estimate_hours=12,
        description="Things to do:\n- book the venue\n- send invitations\n- order food\n- hire a DJ",
    )

    proposal = propose([parent], kind="breakdown", task_id="7")

    steps = proposal["changes"]
    assert [step["title"] for step in steps] == ["Book the venue", "Send invitations", "Order food", "Hire a DJ"]
    assert all(step["action"] == "add" and step["taskId"] is None for step in steps)
    assert {step["priority"] for step in steps} == {"high"}
    assert {step["estimateHours"] for step in steps} == {3.0}
    assert {step["dueDate"] for step in steps} == {days(20).isoformat()}
    assert all("Organise the launch party" in step["reason"] for step in steps)


def test_breakdown_from_description_sentences():
    parent = task(3, "Move offices", description="Find movers. Pack the archive. Set up the network.")

    steps = propose([parent], kind="breakdown", task_id="3")["changes"]

    assert [step["title"] for step in steps] == ["Find movers", "Pack the archive", "Set up the network"]
    assert {step["estimateHours"] for step in steps} == {None}
    assert {step["dueDate"] for step in steps} == {None}


def test_breakdown_without_enough_detail_uses_generic_phases():
    parent = task(2, "Quarterly report", description="Due to the board.", estimate_hours=10, due_date=days(-2))

    steps = propose([parent], kind="breakdown", task_id="2")["changes"]

    assert [step["title"] for step in steps] == [
        "Research: Quarterly report",
        "Draft: Quarterly report",
        "Review: Quarterly report",
        "Finish: Quarterly report",
    ]
    assert {step["estimateHours"] for step in steps} == {2.5}
    assert all(datetime.date.fromisoformat(step["dueDate"]) <= days(-2) for step in steps)


def test_breakdown_keeps_at_most_eight_steps_and_titles_within_limit():
    items = "\n".join(f"{number}. {'Step ' + str(number) + ' ' + 'x' * 250}" for number in range(1, 12))
    parent = task(4, "T" * 200, description=items, due_date=days(3))

    steps = propose([parent], kind="breakdown", task_id="4")["changes"]

    assert len(steps) == 8
    assert all(len(step["title"]) <= 200 for step in steps)
    # The cut title's full text is kept as the step's description.
    assert steps[0]["description"].endswith("x" * 250)


def test_breakdown_of_long_title_phases_stays_within_limit():
    parent = task(5, "word " * 40)

    steps = propose([parent], kind="breakdown", task_id="5")["changes"]

    assert 3 <= len(steps) <= 8
    assert all(len(step["title"]) <= 200 for step in steps)


def test_breakdown_of_unknown_task_proposes_nothing():
    tasks = [task(1, "Write the copy")]

    proposal = offline_proposal(facts(tasks), kind="breakdown", task_id="99", today=TODAY)

    assert proposal["changes"] == []
    assert "no task" in proposal["summary"]
    # The app's validator refuses an empty breakdown, so the user is told rather than shown nothing.
    with pytest.raises(ProposalInvalid):
        proposal_clean(proposal, tasks=tasks, kind="breakdown", task_id="99")


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        offline_proposal(facts([]), kind="rewrite", today=TODAY)


# --- Through the provider ---


def test_provider_proposes_changes_through_asyncio():
    tasks = [task(1, "Write the copy", due_date=days(-3), estimate_hours=2), task(2, "Call the printer")]
    conversation = Conversation(system_instruction="", message="Improve the plan", project=facts(tasks), today=TODAY)

    proposal = asyncio.run(OfflineProvider(chunk_delay=0).propose_changes(conversation, kind="changes"))
    steps = asyncio.run(
        OfflineProvider(chunk_delay=0).propose_changes(conversation, kind="breakdown", task_id="2", problem="x")
    )

    assert set(changes_by_task(proposal)) == {"1", "2"}
    proposal_clean(proposal, tasks=tasks, kind="changes")
    assert len(proposal_clean(steps, tasks=tasks, kind="breakdown", task_id="2")[1]) == 4


def test_same_project_same_day_gets_the_same_proposal():
    tasks = [task(1, "Write the copy", due_date=days(-3)), task(2, "Design the logo")]

    assert propose(tasks) == propose(tasks)


# --- The status report ---

REPORT_TASKS = [
    task(1, "Pick the domain", status="done"),
    task(2, "Write the copy", status="in-progress", due_date=days(4)),
    task(3, "Design the logo", priority="low", due_date=days(-3)),
    task(4, "Set up hosting", priority="urgent", due_date=days(10)),
    task(5, "Test on phones", priority="high"),
    task(6, "Announce", priority="low"),
]


def report(message: str, tasks: list[Task] = REPORT_TASKS) -> str:
    return offline_answer(Conversation(system_instruction="", message=message, project=facts(tasks), today=TODAY))


def test_status_report_lists_done_in_progress_overdue_and_next_steps():
    answer = report("Can you summarise the status?")

    assert "**Done:** 1 of 6 tasks" in answer and "- Pick the domain" in answer
    assert "**In progress:** 1 task" in answer and "- Write the copy (due Feb 14)" in answer
    assert "**Overdue:** 1 task" in answer and "Design the logo — 3 days late (due Feb 7)" in answer
    next_steps = answer.split("**Next steps:**")[1]
    assert [line.split(" — ")[0] for line in next_steps.strip().splitlines()] == [
        "1. Design the logo",
        "2. Set up hosting",
        "3. Test on phones",
    ]


@pytest.mark.parametrize("message", ["Write a status report", "Give me a summary", "Summarize where we are"])
def test_status_report_answers_its_words(message):
    assert "**Next steps:**" in report(message)


def test_status_report_lists_at_most_five_titles_per_section():
    tasks = [task(pk, f"Chapter {pk}", status="done") for pk in range(1, 9)]

    answer = report("Status report please", tasks)

    assert "Chapter 5" in answer and "Chapter 6" not in answer
    assert "…and 3 more" in answer
    assert "Every task is done" in answer


def test_other_questions_keep_their_answers():
    assert "overdue in" in report("What is overdue?")
    assert report("List the tasks").startswith("**Website relaunch**: 1 of 6 tasks done.")
    assert "**Suggested next step:**" in report("What should I do next?")
