"""What the model is told: the system instruction and how projects and tasks read to it."""

from django.conf import settings
from django.utils import timezone

from chat.models import ChatHistory
from chat.providers.base import Conversation, ProjectFacts, TaskFacts, Turn
from projects.models import Project, Task

SYSTEM_INSTRUCTION = (
    "You are Catalyst, the planning assistant inside Project Catalyst, an app where people keep "
    "projects and their tasks. Help the user plan: break work into concrete tasks, suggest an order "
    "and rough estimates, point out risks and overdue work, and keep answers short and practical. "
    "Use Markdown (short headings, lists, tables) when it helps. Today is {today}."
)
PROJECT_CONTEXT_TASK_LIMIT = 100
GENERAL_CONTEXT_PROJECT_LIMIT = 20


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
    """The project as the system instruction states it, with each task or just the counts."""
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
    earlier = (
        ChatHistory.objects.owned_by(chat.user)
        .in_chat(chat_type=chat.chat_type, project=chat.project_id)
        .before(chat.created_at)
        .exclude(status__in=[ChatHistory.Status.PENDING, ChatHistory.Status.FAILED])
        .exclude(response="")
        .order_by("-created_at")
        .only("message", "response")[: settings.CHAT_HISTORY_TURNS]
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
