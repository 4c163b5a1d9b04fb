"""Writes of the planning chat, shared by the pages and the JSON API."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from catalyst.ratelimit import RateLimited, allowance_take
from chat import generation
from chat.models import ChatHistory
from chat.providers import Conversation, ProjectFacts, TaskFacts, Turn, get_provider
from projects.models import Project, Task

Status = ChatHistory.Status

SYSTEM_INSTRUCTION = (
    "You are Catalyst, the planning assistant inside Project Catalyst, an app where people keep "
    "projects and their tasks. Help the user plan: break work into concrete tasks, suggest an order "
    "and rough estimates, point out risks and overdue work, and keep answers short and practical. "
    "Use Markdown (short headings, lists, tables) when it helps. Today is {today}."
)
PROJECT_CONTEXT_TASK_LIMIT = 100
GENERAL_CONTEXT_PROJECT_LIMIT = 20


class ChatRejected(Exception):
    """A request the chat will not act on; ``str()`` is the user's message."""

    def __init__(self, message: str, *, status: int = 422, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


# --- Limits -------------------------------------------------------------------


def send_allowance_take(*, user) -> None:
    """Count one send (or retry, or continue) against the user's rate limit."""
    _allowance_take(
        user=user, kind="sends", doing="sending", limit=settings.CHAT_SEND_LIMIT, window=settings.CHAT_SEND_WINDOW
    )


def save_allowance_take(*, user) -> None:
    """Count one stored exchange (the prototype's ``/save``) against the user's rate limit."""
    _allowance_take(
        user=user, kind="saves", doing="saving", limit=settings.CHAT_SAVE_LIMIT, window=settings.CHAT_SAVE_WINDOW
    )


def _allowance_take(*, user, kind: str, doing: str, limit: int, window: int) -> None:
    try:
        allowance_take(f"chat-{kind}:{user.pk}", limit=limit, window=window)
    except RateLimited as limited:
        raise ChatRejected(
            f"You're {doing} messages faster than {limit} per {limited.window_phrase()}. "
            f"Try again in {limited.wait_phrase()}.",
            status=429,
            retry_after=limited.retry_after,
        ) from None


# --- The conversation the model sees ----------------------------------------------


def _task_facts(task: Task) -> TaskFacts:
    return TaskFacts(
        title=task.title,
        status=task.status,
        status_label=task.get_status_display(),
        priority=task.priority,
        due_date=task.due_date,
        estimate_hours=float(task.estimate_hours) if task.estimate_hours is not None else None,
        is_overdue=task.is_overdue,
    )


def project_facts(project: Project, tasks: list[Task]) -> ProjectFacts:
    return ProjectFacts(
        name=project.name,
        status=project.status,
        priority=project.priority,
        description=project.description,
        start_date=project.start_date,
        due_date=project.due_date,
        tasks=tuple(_task_facts(task) for task in tasks[:PROJECT_CONTEXT_TASK_LIMIT]),
    )


def _describe_project(facts: ProjectFacts, *, with_tasks: bool) -> str:
    lines = [f"Project: {facts.name}", f"Status: {facts.status}", f"Priority: {facts.priority}"]
    if facts.start_date:
        lines.append(f"Start date: {facts.start_date.isoformat()}")
    if facts.due_date:
        lines.append(f"Due date: {facts.due_date.isoformat()}")
    if facts.description:
        lines.append(f"Description: {facts.description}")
    if with_tasks:
        done = len(facts.tasks) - len(facts.open_tasks)
        lines.append(f"Tasks ({len(facts.tasks)}, {done} done):" if facts.tasks else "Tasks: none yet")
        for task in facts.tasks:
            bits = [task.status_label, f"{task.priority} priority"]
            if task.due_date:
                bits.append(f"due {task.due_date.isoformat()}")
            if task.is_overdue:
                bits.append("OVERDUE")
            if task.estimate_hours:
                bits.append(f"estimate {task.estimate_hours:g} h")
            lines.append(f"- {task.title} ({', '.join(bits)})")
    else:
        lines.append(f"Open tasks: {len(facts.open_tasks)}, overdue: {len(facts.overdue_tasks)}")
    return "\n".join(lines)


def conversation_build(*, chat: ChatHistory, continuing: bool = False) -> Conversation:
    """What the model is told for ``chat``: context, recent turns, the message."""
    today = timezone.localdate()
    instruction = SYSTEM_INSTRUCTION.format(today=today.isoformat())
    project = None
    projects: tuple[ProjectFacts, ...] = ()
    if chat.project_id is not None:
        project = project_facts(chat.project, list(chat.project.tasks.all()[:PROJECT_CONTEXT_TASK_LIMIT]))
        instruction += "\n\nThe user is planning the project below; base your answers on it.\n\n" + _describe_project(
            project, with_tasks=True
        )
    else:
        active = list(Project.objects.owned_by(chat.user).active()[:GENERAL_CONTEXT_PROJECT_LIMIT])
        tasks_by_project: dict = {}
        for task in Task.objects.in_projects(active):  # one query for all of them
            tasks_by_project.setdefault(task.project_id, []).append(task)
        projects = tuple(project_facts(p, tasks_by_project.get(p.pk, [])) for p in active)
        if projects:
            instruction += "\n\nThe user's active projects:\n\n" + "\n\n".join(
                _describe_project(facts, with_tasks=False) for facts in projects
            )
    turns_limit = settings.CHAT_HISTORY_TURNS
    earlier = (
        ChatHistory.objects.owned_by(chat.user)
        .in_chat(chat_type=chat.chat_type, project=chat.project_id)
        .before(chat.created_at)
        .exclude(status__in=[Status.PENDING, Status.FAILED])
        .exclude(response="")
        .order_by("-created_at")
        .only("message", "response")[:turns_limit]
    )
    history: list[Turn] = []
    for previous in reversed(list(earlier)):
        history += [Turn("user", previous.message), Turn("model", previous.response)]
    return Conversation(
        system_instruction=instruction,
        message=chat.message,
        history=tuple(history),
        partial_reply=chat.response if continuing else "",
        project=project,
        projects=projects,
        today=today,
    )


# --- Writes ---------------------------------------------------------------------


def _start(chat: ChatHistory, *, continuing: bool = False) -> None:
    provider = get_provider()
    generation.generation_start(
        chat=chat, conversation=conversation_build(chat=chat, continuing=continuing), provider=provider
    )


def chat_send(
    *, user, message: str, chat_type: str = ChatHistory.ChatType.PROJECT_PLANNING, project=None
) -> ChatHistory:
    """Save the user's message at once (``pending``) and start the reply."""
    chat = ChatHistory(
        user=user,
        project=project,
        message=message or "",
        chat_type=chat_type,
        status=Status.PENDING,
        model_name=get_provider().model_name,
    )
    try:
        chat.full_clean()
    except ValidationError as error:
        raise ChatRejected(" ".join(error.messages)) from None
    send_allowance_take(user=user)
    chat.save()
    _start(chat)
    return chat


def chat_retry(*, chat: ChatHistory) -> ChatHistory:
    """Generate a failed or interrupted reply again, from the start."""
    if not chat.can_retry:
        raise ChatRejected("Only a failed or interrupted reply can be retried.", status=409)
    send_allowance_take(user=chat.user)
    _restart(chat, response="", allowed=(Status.FAILED, Status.INTERRUPTED))
    _start(chat)
    return chat


def chat_continue(*, chat: ChatHistory) -> ChatHistory:
    """Let the model pick up an interrupted reply where it stopped."""
    if not chat.can_continue:
        raise ChatRejected("Only an interrupted reply can be continued.", status=409)
    send_allowance_take(user=chat.user)
    _restart(chat, response=chat.response, allowed=(Status.INTERRUPTED,))
    _start(chat, continuing=True)
    return chat


def _restart(chat: ChatHistory, *, response: str, allowed: tuple[str, ...]) -> None:
    fields = {
        "status": Status.PENDING,
        "response": response,
        "error": "",
        "error_kind": "",
        "model_name": get_provider().model_name,
        "updated_at": timezone.now(),
    }
    # Only one request may move a reply back to pending, and only from a state
    # that allows it now (it may have finished since it was loaded).
    claimed = ChatHistory.objects.filter(pk=chat.pk, status__in=allowed).update(**fields)
    if not claimed:
        raise ChatRejected("This reply is already being written or has finished.", status=409)
    for name, value in fields.items():
        setattr(chat, name, value)


def chat_stop(*, chat: ChatHistory) -> ChatHistory:
    """Stop a reply being written, keeping what arrived as interrupted."""
    if chat.status == Status.PENDING and not generation.generation_stop(chat.pk):
        # Written by another process: mark it here; that process notices and stops.
        ChatHistory.objects.filter(pk=chat.pk, status=Status.PENDING).update(
            status=Status.INTERRUPTED,
            error=generation.STOPPED_MESSAGE,
            error_kind=ChatHistory.ErrorKind.STOPPED,
            updated_at=timezone.now(),
        )
    chat.refresh_from_db()
    return chat


def chat_clear(*, user, chat_type: str, project=None) -> int:
    """Delete one chat's records (and stop its replies); returns how many."""
    records = ChatHistory.objects.owned_by(user).in_chat(chat_type=chat_type, project=project)
    for pk in records.pending().values_list("pk", flat=True):
        generation.generation_stop(pk)
    deleted, _ = records.delete()
    return deleted


def chat_save(*, user, message: str, response: str, chat_type: str, project=None) -> ChatHistory:
    """Store a finished exchange as it is (the prototype's ``/save``)."""
    chat = ChatHistory(user=user, project=project, message=message or "", response=response or "", chat_type=chat_type)
    try:
        chat.full_clean()
    except ValidationError as error:
        raise ChatRejected(" ".join(error.messages)) from None
    save_allowance_take(user=user)
    chat.save()
    return chat
