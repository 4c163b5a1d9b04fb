"""The chat API's shapes: the prototype's chat document, and what sending answers."""

import datetime
from typing import Literal

from ninja import Field

from catalyst.schemas import BodyIn, CamelSchema, Choice, Id, MomentAs, OutSchema, Success, Text
from chat.models import ChatHistory

ChatType = Choice(ChatHistory.ChatType)
# What the user writes, and what a reply (the model's, or a stored one) may hold.
MessageText = Text(ChatHistory.MESSAGE_MAX_LENGTH, blank=False)
ReplyText = Text(ChatHistory.RESPONSE_MAX_LENGTH)


def _js_moment(moment: datetime.datetime) -> str:
    # The format JavaScript's Date#toJSON writes, as the prototype's documents did.
    moment = moment.astimezone(datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


JsMoment = MomentAs(_js_moment)


class ChatQuery(CamelSchema):
    """Which conversation: a chat type, in one project or in none."""

    chat_type: ChatType = ChatHistory.ChatType.PROJECT_PLANNING
    project_id: str | None = None


class SaveIn(BodyIn):
    user_id: str
    message: MessageText
    response: ReplyText = ""
    chat_type: ChatType = ChatHistory.ChatType.PROJECT_PLANNING
    project_id: str | None = None


class SendIn(BodyIn):
    message: MessageText
    chat_type: ChatType = ChatHistory.ChatType.PROJECT_PLANNING
    project_id: str | None = None
    draft_id: str | None = Field(
        None, description="A project draft's conversation (`/api/projects/drafts`): the chat type is `new-project`."
    )
    page: str = Field(
        "",
        max_length=ChatHistory.PAGE_MAX_LENGTH,
        description="For `navigation`: the path of the page the user is on (`/projects/<id>/`), so the "
        "assistant knows which project is open. Ignored for other chat types.",
    )


class ChatOut(OutSchema):
    """One exchange, in the prototype's shape plus ``status`` and ``projectId``."""

    id: Id = Field(serialization_alias="_id")
    user_id: Id
    message: str
    response: str
    chat_type: ChatType
    created_at: JsMoment
    updated_at: JsMoment
    status: Choice(ChatHistory.Status)
    project_id: Id | None


class ChatResponse(Success):
    data: ChatOut


class ChatListResponse(Success):
    """One page of a chat, oldest first; ``nextBefore`` asks for the page before it."""

    data: list[ChatOut]
    has_more: bool = Field(description="Whether older records exist before this page.")
    next_before: Id | None = Field(description="Pass as ``before`` for the previous page; null when none.")


class ClearedResponse(Success):
    message: str
    deleted_count: int = Field(ge=0)


# Why a reply is not complete: the record's kind (empty while it has none), or ``deleted`` when the chat went.
ReplyErrorKind = Choice(ChatHistory.ErrorKind) | Literal["", "deleted"]


class ReplyResponse(OutSchema):
    """A reply once it is done: ``error`` and ``errorKind`` say why when it is not complete."""

    success: bool = Field(description="False when the reply failed, or the chat was deleted meanwhile.")
    data: ChatOut | None
    error: str = Field("", description="Present when the reply is not complete.")
    error_kind: ReplyErrorKind = Field("", description="Present when the reply is not complete: why, as a word.")


class ReplyFailedResponse(OutSchema):
    """A refused send, or a reply that failed (then with its ``errorKind`` and the saved chat)."""

    success: Literal[False] = False
    data: ChatOut | None = None
    error: str
    error_kind: ReplyErrorKind = ""


class TextOut(OutSchema):
    """New text of a reply: a ``delta``, or in a ``snapshot`` all of it so far."""

    text: str
