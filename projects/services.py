"""Writes that span several models: project drafts, and a project created from one."""

import datetime
import logging

from django.conf import settings
from django.db.models import Max

from catalyst.db import all_or_nothing
from chat.generation import run_on_process_loop
from chat.models import ChatHistory
from chat.providers import DraftUnusable, ProviderError, get_provider
from chat.providers.prompts import draft_conversation_build
from projects.drafts import DraftInvalid, draft_clean, draft_tasks
from projects.models import Project, ProjectDraft, Task

logger = logging.getLogger(__name__)

#: How many of a broken draft's problems the repair request repeats to the model.
REPAIR_PROBLEMS = 8


def draft_save(*, draft: ProjectDraft, data: object) -> ProjectDraft:
    """Keep the user's edits: ``data`` must pass the draft's rules (a name may wait for now)."""
    draft.data = draft_clean(data, complete=False)
    draft.problem = ""
    draft.save(update_fields=["data", "problem", "updated_at"])
    return draft


def draft_refresh(*, draft: ProjectDraft) -> ProjectDraft:
    """Bring the draft up to date with its conversation: the model drafts, our rules decide.

    Nothing happens when the draft has read every finished exchange already.
    Output that cannot be used is sent back once with what was wrong with it;
    if the second answer fails too, the draft stays as it was and ``problem``
    says why in plain words. A half-valid draft is never applied.
    """
    newest = draft.chats.filter(status=ChatHistory.Status.COMPLETE).aggregate(newest=Max("created_at"))["newest"]
    if newest is None or (draft.drafted_through is not None and newest <= draft.drafted_through):
        return draft
    provider = get_provider()
    current = draft.data
    problem = ""
    for _attempt in range(2):
        conversation = draft_conversation_build(draft=draft, current=current, problem=problem)
        try:
            answer = run_on_process_loop(provider.draft_project(conversation, current=current, problem=problem)).result(
                timeout=settings.CHAT_PROVIDER_TIMEOUT * 2
            )
            data = draft_clean(answer)
        except DraftUnusable as unusable:
            problem = str(unusable)
        except DraftInvalid as invalid:
            problem = "It broke these rules: " + "; ".join(invalid.problems[:REPAIR_PROBLEMS]) + "."
        except ProviderError as error:
            return _draft_problem(draft, str(error), drafted_through=None)
        except TimeoutError:
            return _draft_problem(draft, "The assistant did not send a draft in time. Try again.", drafted_through=None)
        else:
            draft.data, draft.problem, draft.drafted_through = data, "", newest
            draft.save(update_fields=["data", "problem", "drafted_through", "updated_at"])
            return draft
    logger.info("Draft %s: the model's plan was unusable twice: %s", draft.pk, problem)
    return _draft_problem(
        draft,
        "The assistant's plan could not be used, so your draft is unchanged. "
        "Send another message, or edit the draft yourself.",
        drafted_through=newest,
    )


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
