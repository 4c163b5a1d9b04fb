"""The projects API's shapes: projects, tasks, drafts and proposals, named as in the prototype's documents."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from ninja import Field
from pydantic import AfterValidator, ConfigDict
from pydantic.alias_generators import to_camel

from catalyst.schemas import BodyIn, Choice, Id, IsoDate, Moment, OutSchema, Success, Text
from chat.models import ChatHistory
from projects.forms import ProjectFilterForm
from projects.models import Priority, Project, Proposal, ProposalChange, Task

Name = Text(200, blank=False)
Description = Text(5000)
PriorityName = Choice(Priority)
# The list's filter as the page's filter form reads it: a status, "" for every current project, or archived.
ProjectFilter = Literal[tuple(value for value, _label in ProjectFilterForm.base_fields["status"].choices)]


def _tenths(hours: float) -> float:
    # Rounded as written in decimal (1.25 to 1.3), not as the nearest binary float.
    return float(Decimal(str(hours)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


Hours = Annotated[
    float,
    Field(ge=0, le=10000, allow_inf_nan=False, description="Estimated hours, kept to one decimal place (rounded)."),
    AfterValidator(_tenths),
]


def _without_default(schema: dict) -> None:
    schema.pop("default", None)


def _optional():
    """A field a request may leave out (the stored or default value stays) but not set to null."""
    return Field(None, json_schema_extra=_without_default)


class ProjectFields(BodyIn):
    name: Name = _optional()
    description: Description | None = None
    status: Choice(Project.Status) = _optional()
    priority: PriorityName = _optional()
    start_date: IsoDate | None = None
    due_date: IsoDate | None = Field(None, description="Not before `startDate` (else 422).")


class ProjectIn(ProjectFields):
    """A new project."""

    name: Name


class ProjectChangeIn(ProjectFields):
    """The fields to change; ``archived`` archives or restores the project."""

    archived: bool | None = None


class TaskChangeIn(BodyIn):
    """The fields to change."""

    title: Name = _optional()
    description: Description | None = None
    status: Choice(Task.Status) = _optional()
    priority: PriorityName = _optional()
    due_date: IsoDate | None = None
    # A task's wire name (a draft's task says ``estimateHours``, as the generator would).
    estimate_hours: Hours | None = Field(None, alias="estimatedHours")


class TaskIn(TaskChangeIn):
    """A new task."""

    title: Name


class ProgressOut(OutSchema):
    done: int = Field(ge=0)
    total: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)


class TaskOut(OutSchema):
    id: Id = Field(serialization_alias="_id")
    project_id: Id
    title: str
    description: str
    status: Choice(Task.Status)
    priority: PriorityName
    due_date: datetime.date | None
    estimate_hours: float | None = Field(serialization_alias="estimatedHours", ge=0)
    position: int = Field(ge=0)
    is_overdue: bool = Field(serialization_alias="overdue")
    completed_at: Moment | None
    created_at: Moment
    updated_at: Moment


class ProjectOut(OutSchema):
    """A project, with how far its tasks have come."""

    id: Id = Field(serialization_alias="_id")
    user_id: Id = Field(validation_alias="owner_id")
    name: str
    description: str
    status: Choice(Project.Status)
    priority: PriorityName
    start_date: datetime.date | None
    due_date: datetime.date | None
    archived_at: Moment | None
    progress: ProgressOut
    created_at: Moment
    updated_at: Moment


class ProjectWithTasksOut(ProjectOut):
    tasks: list[TaskOut]


class ProjectListResponse(Success):
    data: list[ProjectOut]


class ProjectResponse(Success):
    data: ProjectWithTasksOut


class ProjectDeletedResponse(Success):
    deleted_tasks: int = Field(ge=0)


class TaskResponse(Success):
    data: TaskOut


# --- Project drafts: the plan's JSON shape (``projects.drafts``) and its record ---


class DraftTaskIn(BodyIn):
    title: Text(200)
    description: Description = ""
    priority: PriorityName = Priority.MEDIUM
    estimate_hours: Hours | None = None
    due_date: IsoDate | None = None


class DraftIn(BodyIn):
    """The whole draft as it should stand; the project and task rules apply (422 when one is broken)."""

    name: Text(200) = ""
    description: Description = ""
    priority: PriorityName = Priority.MEDIUM
    start_date: IsoDate | None = None
    due_date: IsoDate | None = None
    tasks: list[DraftTaskIn] = Field(default_factory=list, max_length=50)


class DraftStartIn(BodyIn):
    message: Text(ChatHistory.MESSAGE_MAX_LENGTH, blank=False) = Field(
        description="What the user wants to build: the conversation's first message."
    )


# A draft's plan is stored in the wire's own shape (``ProjectDraft.data``): read by the camelCase names too.
PLAN_READ = ConfigDict(alias_generator=to_camel, validate_by_name=True)


class DraftTaskOut(OutSchema):
    model_config = PLAN_READ

    title: str
    description: str
    priority: PriorityName
    estimate_hours: float | None
    due_date: datetime.date | None


class DraftOut(OutSchema):
    """A project being planned: the plan (stored in this very shape) and its conversation."""

    model_config = PLAN_READ

    id: Id = Field(serialization_alias="_id")
    user_id: Id = Field(validation_alias="owner_id")
    name: str
    description: str
    priority: PriorityName
    start_date: datetime.date | None
    due_date: datetime.date | None
    tasks: list[DraftTaskOut]
    problem: str = Field(description="Why the assistant's last draft was not used; empty when it was.")
    chat_ids: list[Id] = Field(description="The conversation, oldest first (`/api/chat/{id}/stream` follows one).")
    created_at: Moment
    updated_at: Moment


class DraftResponse(Success):
    data: DraftOut


class DraftListResponse(Success):
    data: list[DraftOut]


# --- Proposals: the assistant's changes to a project, applied only when accepted ---


class ProposalIn(BodyIn):
    kind: Choice(Proposal.Kind) = Proposal.Kind.CHANGES
    task_id: str | None = Field(None, description="The task to break down (kind `breakdown`).")


class DecisionIn(BodyIn):
    decision: Literal["accept", "reject"]


class ProposalChangeOut(OutSchema):
    id: Id = Field(serialization_alias="_id")
    action: Choice(ProposalChange.Action)
    task_id: Id | None = Field(description="The task changed or removed; for an accepted add, the task it created.")
    task_title: str
    fields: dict = Field(description="The proposed values, by the task's API field names.")
    before: dict = Field(description="The task's values for those fields when the change was proposed.")
    reason: str
    status: Choice(ProposalChange.Status)
    is_stale: bool = Field(
        serialization_alias="stale", description="The task changed after the proposal: accepting answers 409."
    )
    decided_at: Moment | None


class ProposalOut(OutSchema):
    id: Id = Field(serialization_alias="_id")
    project_id: Id
    chat_id: Id = Field(description="The planning-chat exchange that shows it.")
    kind: Choice(Proposal.Kind)
    summary: str
    model_name: str = Field(serialization_alias="model")
    changes: list[ProposalChangeOut]
    created_at: Moment


class ProposalResponse(Success):
    data: ProposalOut


class ProposalListResponse(Success):
    data: list[ProposalOut]
