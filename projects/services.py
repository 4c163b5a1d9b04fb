"""Writes that span several models: project drafts, a project created from one, and proposals."""

import datetime
import logging
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from catalyst.db import all_or_nothing
from chat.generation import run_on_process_loop
from chat.models import ChatHistory
from chat.providers import ProviderError, UnusableAnswer, get_provider
from chat.providers.prompts import draft_conversation_build, proposal_conversation_build
from chat.services import ChatRejected, send_allowance_take
from projects.drafts import DraftInvalid, draft_clean, draft_tasks
from projects.models import Project, ProjectDraft, Proposal, ProposalChange, Task
from projects.proposals import FIELDS, ProposalInvalid, proposal_clean, task_values

logger = logging.getLogger(__name__)

#: How many of a broken draft's problems the repair request repeats to the model.
REPAIR_PROBLEMS = 8


def draft_save(*, draft: ProjectDraft, data: object) -> ProjectDraft:
    """Keep the user's edits: ``data`` must pass the draft's rules (a name may wait for now)."""
    draft.data = draft_clean(data, complete=False)
    draft.problem = ""
    draft.save(update_fields=["data", "problem", "updated_at"])
    return draft


class _StillUnusable(Exception):
    """The model's answer could not be used, even when asked again; ``str()`` says what was wrong."""


def _checked_answer(ask, check):
    """The model's structured answer, as ``check`` reads it.

    ``ask(problem)`` makes the request (``problem`` empty the first time);
    ``check`` raises ``DraftInvalid`` or ``ProposalInvalid`` for an answer
    that breaks a rule. An unusable answer is asked for once more, saying what
    was wrong; provider errors and a timeout go to the caller.
    """
    problem = ""
    for _attempt in range(2):
        try:
            answer = run_on_process_loop(ask(problem)).result(timeout=settings.CHAT_PROVIDER_TIMEOUT * 2)
            return check(answer)
        except UnusableAnswer as unusable:
            problem = str(unusable)
        except (DraftInvalid, ProposalInvalid) as invalid:
            problem = "It broke these rules: " + "; ".join(invalid.problems[:REPAIR_PROBLEMS]) + "."
    raise _StillUnusable(problem)


def draft_refresh(*, draft: ProjectDraft) -> ProjectDraft:
    """Bring the draft up to date with its conversation: the model drafts, our rules decide.

    Nothing happens when the draft has read every finished exchange already.
    Output that cannot be used is sent back once with what was wrong with it;
    if the second answer fails too, the draft stays as it was and ``problem``
    says why in plain words. A half-valid draft is never applied.
    """
    newest = draft.finished_through()
    if newest is None or not draft.is_behind(newest):
        return draft
    provider = get_provider()
    current = draft.data

    def ask(problem: str):
        conversation = draft_conversation_build(draft=draft, current=current, problem=problem)
        return provider.draft_project(conversation, current=current, problem=problem)

    try:
        data = _checked_answer(ask, draft_clean)
    except ProviderError as error:
        return _draft_problem(draft, str(error), drafted_through=None)
    except TimeoutError:
        return _draft_problem(draft, "The assistant did not send a draft in time. Try again.", drafted_through=None)
    except _StillUnusable as unusable:
        logger.info("Draft %s: the model's plan was unusable twice: %s", draft.pk, unusable)
        return _draft_problem(
            draft,
            "The assistant's plan could not be used, so your draft is unchanged. "
            "Send another message, or edit the draft yourself.",
            drafted_through=newest,
        )
    draft.data, draft.problem, draft.drafted_through = data, "", newest
    draft.save(update_fields=["data", "problem", "drafted_through", "updated_at"])
    return draft


def _draft_problem(draft: ProjectDraft, problem: str, *, drafted_through: datetime.datetime | None) -> ProjectDraft:
    draft.problem = problem
    fields = ["problem", "updated_at"]
    if drafted_through is not None:
        draft.drafted_through = drafted_through
        fields.append("drafted_through")
    draft.save(update_fields=fields)
    return draft


def project_create_from_draft(*, draft: ProjectDraft) -> Project:
    """Create the draft's project and every task in one step; the conversation becomes its planning chat.

    Raises ``DraftInvalid`` when the draft breaks a rule; then nothing is created.
    """
    data = draft_clean(draft.data)
    with all_or_nothing():
        project = Project(
            owner=draft.owner,
            name=data["name"],
            description=data["description"],
            priority=data["priority"],
            start_date=_date(data["startDate"]),
            due_date=_date(data["dueDate"]),
        )
        project.full_clean()
        project.save()
        Task.objects.bulk_create(draft_tasks(data, project))
    ChatHistory.objects.filter(draft=draft).update(
        chat_type=ChatHistory.ChatType.PROJECT_PLANNING, project=project, draft=None
    )
    draft.delete()
    return project


def _date(value: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


# --- Proposals: the assistant's changes to a project, applied only when accepted ---

PROPOSAL_REQUESTS = {
    Proposal.Kind.CHANGES: "Suggest changes to this project's plan.",
    Proposal.Kind.BREAKDOWN: "Break down “{title}” into smaller tasks.",
}


class ProposalRefused(Exception):
    """A proposal that cannot be made or a decision that cannot be taken; ``str()`` is the user's message."""

    def __init__(self, message: str, *, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def proposal_create(*, project: Project, kind: str, task: Task | None = None) -> Proposal:
    """Ask the model for changes to ``project`` (or a breakdown of ``task``), saved as a pending proposal.

    The request and a short summary are saved as an exchange of the
    project's planning chat, which shows the proposal's cards and is what an
    accepted change links back to. Unusable output is sent back once.
    """
    user = project.owner
    try:
        send_allowance_take(user=user)
    except ChatRejected as rejection:
        raise ProposalRefused(str(rejection), status=rejection.status, retry_after=rejection.retry_after) from None
    message = PROPOSAL_REQUESTS[kind].format(title=task.title if task else "")
    task_id = str(task.pk) if task else ""
    provider = get_provider()

    def ask(problem: str):
        conversation = proposal_conversation_build(
            project=project, message=message, kind=kind, task_id=task_id, problem=problem
        )
        return provider.propose_changes(conversation, kind=kind, task_id=task_id, problem=problem)

    def check(answer) -> tuple[list[Task], str, list[dict]]:
        tasks = list(project.tasks.all())  # the project as it is now
        return tasks, *proposal_clean(answer, tasks=tasks, kind=kind, task_id=task_id)

    try:
        tasks, summary, changes = _checked_answer(ask, check)
    except ProviderError as error:
        raise ProposalRefused(str(error), status=502) from None
    except TimeoutError:
        raise ProposalRefused("The assistant did not answer in time. Try again.", status=504) from None
    except _StillUnusable as unusable:
        logger.info("Proposal for project %s: unusable twice: %s", project.pk, unusable)
        raise ProposalRefused(
            "The assistant's changes could not be used, so nothing was proposed. Try again in a moment.", status=502
        ) from None
    by_id = {str(t.pk): t for t in tasks}
    with all_or_nothing():
        chat = ChatHistory.objects.create(
            user=user,
            project=project,
            chat_type=ChatHistory.ChatType.PROJECT_PLANNING,
            message=message,
            response=_proposal_reply(summary, changes),
            status=ChatHistory.Status.COMPLETE,
            model_name=provider.model_name,
        )
        proposal = Proposal.objects.create(
            project=project, chat=chat, kind=kind, summary=summary, model_name=provider.model_name
        )
        ProposalChange.objects.bulk_create(
            _proposal_change(proposal, position, change, by_id.get(change["taskId"]))
            for position, change in enumerate(changes)
        )
    return proposal


def _proposal_reply(summary: str, changes: list[dict]) -> str:
    if not changes:
        return summary or "The plan looks in order: I have no changes to propose."
    count = f"{len(changes)} change{'s' if len(changes) != 1 else ''}"
    return f"{summary}\n\nI propose {count} below. Nothing changes until you accept a change.".strip()


def _proposal_change(proposal: Proposal, position: int, change: dict, task: Task | None) -> ProposalChange:
    before = task_values(task) if task is not None else {}
    if change["action"] == ProposalChange.Action.CHANGE:
        before = {name: before[name] for name in change["fields"]}
    return ProposalChange(
        proposal=proposal,
        position=position,
        action=change["action"],
        task=task,
        task_title=task.title if task is not None else "",
        fields=change["fields"],
        before=before,
        task_updated_at=task.updated_at if task is not None else None,
        reason=change["reason"],
    )


def proposal_decide(*, change: ProposalChange, user, accept: bool) -> ProposalChange:
    """Accept (apply) or reject one pending change; a stale one is refused, never applied."""
    if not change.is_pending:
        raise ProposalRefused(f"This change was {change.get_status_display().lower()} already.", status=409)
    if accept and change.is_stale:
        raise ProposalRefused(
            "This task changed after the proposal was made, so the change was not applied. Propose again.", status=409
        )
    with all_or_nothing():
        if accept:
            _apply(change)
        change.status = ProposalChange.Status.ACCEPTED if accept else ProposalChange.Status.REJECTED
        change.decided_at = timezone.now()
        change.decided_by = user
        change.save(update_fields=["status", "decided_at", "decided_by", "task"])
    return change


def proposal_decide_all(*, proposal: Proposal, user, accept: bool) -> tuple[int, int]:
    """Decide every pending change; stale ones stay pending. Returns (decided, stale)."""
    decided = stale = 0
    for change in proposal.changes.select_related("task"):
        if not change.is_pending:
            continue
        if accept and change.is_stale:
            stale += 1
            continue
        proposal_decide(change=change, user=user, accept=accept)
        decided += 1
    return decided, stale


def _apply(change: ProposalChange) -> None:
    proposal = change.proposal
    if change.action == ProposalChange.Action.REMOVE:
        change.task.delete()
        change.task = None
        return
    adding = change.action == ProposalChange.Action.ADD
    task = Task(project_id=proposal.project_id) if adding else change.task
    for name, value in change.fields.items():
        setattr(task, FIELDS[name], _field_value(name, value))
    task.source_chat_id = proposal.chat_id
    task.source_model = proposal.model_name
    task.full_clean(exclude=["project", "position"])
    if adding:
        task.save_at_end()
        change.task = task
    else:
        task.save()
    proposal.project.touch()


def _field_value(name: str, value):
    if name == "dueDate":
        return datetime.date.fromisoformat(value) if value else None
    if name == "estimateHours":
        return None if value is None else Decimal(str(value))
    return value
