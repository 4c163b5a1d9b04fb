"""The planning chat pages: one chat per user, and one per project."""

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from catalyst.params import key_param, moment_param
from catalyst.shortcuts import aget_or_404, get_or_404
from chat import services
from chat.generation import lost_settle, reply_events
from chat.markdown import StreamingMarkdown
from chat.models import ChatHistory
from chat.providers import get_provider
from chat.streaming import KEEPALIVE, event_stream_response, sse_event
from projects.models import Project, ProjectDraft, Proposal, ProposalChange


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


PAGE_SIZE = 20
SEARCH_LIMIT = 50
PLANNING = ChatHistory.ChatType.PROJECT_PLANNING


def _project_param(request: HttpRequest, value: str | None) -> Project | None:
    if not value:
        return None
    return get_or_404(Project.objects.owned_by(request.user), value)


def _chat_url(project: Project | None, draft: ProjectDraft | None = None) -> str:
    if draft is not None:
        return draft.get_absolute_url()
    if project is None:
        return reverse("chat:planning")
    return reverse("project-chat:page", args=[project.pk])


def _draft_param(request: HttpRequest, value: str | None) -> ProjectDraft | None:
    if not value:
        return None
    return get_or_404(ProjectDraft.objects.owned_by(request.user), value)


def _owned_chat(request: HttpRequest, pk: str) -> ChatHistory:
    return get_or_404(ChatHistory.objects.owned_by(request.user).select_related("project", "draft"), pk)


# --- The page ---------------------------------------------------------------------


@require_GET
def planning(request: HtmxHttpRequest) -> HttpResponse:
    return chat_page(request)


@require_GET
def project_chat(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    project = get_or_404(Project.objects.owned_by(request.user), pk)
    return chat_page(request, project=project)


def chat_page(
    request: HtmxHttpRequest, *, project: Project | None = None, draft: ProjectDraft | None = None, **extra
) -> TemplateResponse:
    """A conversation's page: the general or a project's planning chat, or a project draft's.

    ``extra`` goes into the template's context (a draft page's panel).
    """
    chat_type = PLANNING if draft is None else ChatHistory.ChatType.NEW_PROJECT
    records = ChatHistory.objects.owned_by(request.user).in_chat(chat_type=chat_type, project=project, draft=draft)
    if project is not None:  # a project's chat shows the proposals made in it
        records = records.prefetch_related(
            Prefetch(
                "proposals",
                Proposal.objects.prefetch_related(Prefetch("changes", ProposalChange.objects.select_related("task"))),
            )
        )
    query = request.GET.get("q", "").strip()[:200]
    before = None if query else moment_param(request.GET.get("before", ""), name="before")
    if query:
        chats = list(records.matching(query).order_by("-created_at")[:SEARCH_LIMIT])[::-1]
        has_earlier = False
    else:
        before_id = key_param(ChatHistory, request.GET.get("before_id", ""), name="before_id")
        older = records.before(before, pk=before_id) if before else records
        # Ties on created_at (imported records share them) are broken by key, so no page skips any.
        page = list(older.order_by("-created_at", "-pk")[: PAGE_SIZE + 1])
        has_earlier = len(page) > PAGE_SIZE
        chats = page[:PAGE_SIZE][::-1]
    lost_settle(chats)
    provider = get_provider()
    context = {
        **extra,
        "project": project,
        "draft": draft,
        "chats": chats,
        "has_earlier": has_earlier,
        "earliest": chats[0].created_at.isoformat() if chats else "",
        "earliest_id": chats[0].pk if chats else "",
        "query": query,
        "total": records.count(),
        "chat_url": _chat_url(project, draft),
        "assistant_label": provider.label,
        "offline": provider.name == "offline",
        "message_max_length": ChatHistory.MESSAGE_MAX_LENGTH,
    }
    template = "chat/chat.html"
    if request.htmx and not request.htmx.boosted:
        template += "#earlier" if before else "#log"
    return TemplateResponse(request, template, context)


# --- Sending, and acting on one reply -----------------------------------------------


@require_POST
def send(request: HtmxHttpRequest) -> HttpResponse:
    project = _project_param(request, request.POST.get("project"))
    draft = _draft_param(request, request.POST.get("draft"))
    message = request.POST.get("message", "")
    try:
        chat = services.chat_send(user=request.user, message=message, chat_type=PLANNING, project=project, draft=draft)
    except services.ChatRejected as rejection:
        if request.htmx:
            response = TemplateResponse(
                request, "chat/chat.html#composer-error", {"error": str(rejection)}, status=rejection.status
            )
            if rejection.retry_after:
                response["Retry-After"] = str(rejection.retry_after)
            return reswap(retarget(response, "#composer-error"), "innerHTML")
        messages.error(request, str(rejection))
        response = chat_page(request, project=project, draft=draft, typed=message)
        response.status_code = rejection.status
        return response
    if request.htmx:
        records = ChatHistory.objects.owned_by(request.user).in_chat(
            chat_type=chat.chat_type, project=project, draft=draft
        )
        context = {"chat": chat, "project": project, "draft": draft, "total": records.count()}
        return TemplateResponse(request, "chat/chat.html#sent", context)
    return redirect(_chat_url(project, draft))


def _reply_response(request: HtmxHttpRequest, chat: ChatHistory, toast: str | None = None) -> HttpResponse:
    if not request.htmx:
        if toast:
            messages.warning(request, toast)
        return redirect(_chat_url(chat.project, chat.draft) + f"#chat-{chat.pk}")
    response = TemplateResponse(request, "chat/chat.html#reply", {"chat": chat})
    if toast:
        trigger_client_event(response, "toast", {"message": toast, "level": "warning"})
    return response


@require_GET
def show(request: HttpRequest, pk: str) -> HttpResponse:
    """One exchange in its conversation: the page of the chat that ends with it.

    What a task made by an accepted proposal links to, however far back the
    exchange is; "Load earlier messages" goes on from there.
    """
    chat = _owned_chat(request, pk)
    records = ChatHistory.objects.owned_by(request.user).in_chat(
        chat_type=chat.chat_type, project=chat.project_id, draft=chat.draft_id
    )
    newer = (
        records.filter(Q(created_at__gt=chat.created_at) | Q(created_at=chat.created_at, pk__gt=chat.pk))
        .order_by("created_at", "pk")
        .first()
    )
    url = _chat_url(chat.project, chat.draft)
    if newer is not None:
        url += "?" + urlencode({"before": newer.created_at.isoformat(), "before_id": newer.pk})
    return redirect(f"{url}#chat-{chat.pk}")


@require_GET
def reply(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """One reply as the record holds it (the page asks again after losing its stream)."""
    chat = _owned_chat(request, pk)
    lost_settle([chat])
    if not request.htmx:
        return redirect(_chat_url(chat.project, chat.draft) + f"#chat-{chat.pk}")
    return TemplateResponse(request, "chat/chat.html#reply", {"chat": chat, "finished": True})


@require_POST
def stop(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    chat = services.chat_stop(chat=_owned_chat(request, pk))
    return _reply_response(request, chat)


@require_POST
def retry(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    return _restart(request, pk, services.chat_retry)


@require_POST
def continue_reply(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    return _restart(request, pk, services.chat_continue)


def _restart(request: HtmxHttpRequest, pk: str, restart) -> HttpResponse:
    """Start a reply again (retry or continue), or say why it cannot."""
    chat = _owned_chat(request, pk)
    try:
        restart(chat=chat)
    except services.ChatRejected as rejection:
        chat.refresh_from_db()
        return _reply_response(request, chat, toast=str(rejection))
    return _reply_response(request, chat)


@require_POST
def clear(request: HtmxHttpRequest) -> HttpResponse:
    project = _project_param(request, request.POST.get("project"))
    removed = services.chat_clear(user=request.user, chat_type=PLANNING, project=project)
    note = (
        f"Removed {removed} message{'s' if removed != 1 else ''} from this chat."
        if removed
        else "This chat was already empty."
    )
    # A fresh page (the history, counts and paging all change); the note shows as a toast.
    messages.success(request, note)
    if request.htmx:
        return HttpResponseClientRedirect(_chat_url(project))
    return redirect(_chat_url(project))


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    project = _project_param(request, request.GET.get("project"))
    chats = ChatHistory.objects.owned_by(request.user).in_chat(chat_type=PLANNING, project=project)
    title = f"{project.name} — planning chat" if project else "Planning chat"
    now = timezone.now()
    lines = [f"# {title}", "", f"Exported {now:%Y-%m-%d %H:%M} UTC from Project Catalyst.", ""]
    for chat in chats.iterator():
        lines += [f"## You · {chat.created_at:%Y-%m-%d %H:%M}", "", chat.message, ""]
        lines += [f"## Assistant · {chat.updated_at:%Y-%m-%d %H:%M}", ""]
        if chat.response:
            lines += [chat.response.rstrip(), ""]
        if chat.status != ChatHistory.Status.COMPLETE:
            lines += [f"> *{chat.get_status_display()}: {chat.error or 'no reply yet'}*", ""]
    response = HttpResponse("\n".join(lines), content_type="text/markdown; charset=utf-8")
    filename = f"{slugify(title) or 'chat'}-{now:%Y-%m-%d}.md"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- The reply as an event stream ---------------------------------------------------


@require_GET
async def stream(request: HttpRequest, pk: str) -> HttpResponse:
    """The reply so far, its new text as it arrives, then the finished reply."""
    user = await request.auser()
    chat = await aget_or_404(ChatHistory.objects.owned_by(user), pk)
    return event_stream_response(request, _page_chunks(request, chat.pk))


async def _page_chunks(request: HttpRequest, pk):
    """The page's encoding of a reply: finished blocks rendered once each, the rest as it arrives."""
    yield "retry: 2000\n\n"
    markdown = StreamingMarkdown()
    async for kind, data in reply_events(pk):
        if kind == "done":
            chat = await ChatHistory.objects.filter(pk=pk).afirst()
            yield sse_event("done", await sync_to_async(_final_reply_html)(request, chat))
            return
        if kind == "ping":
            yield KEEPALIVE
        elif kind == "snapshot":
            markdown = StreamingMarkdown()
            context = {"chat": {"pk": pk}, "progress": markdown.feed(data).shown()}
            yield sse_event("snapshot", render_to_string("chat/chat.html#reply-progress", context))
        else:
            progress = markdown.feed(data)
            if progress.blocks:
                tail = escape(progress.shown().tail)
                yield sse_event("blocks", "".join(progress.blocks)) + sse_event("tail", tail)
            else:
                yield sse_event("delta", escape(data))


def _final_reply_html(request: HttpRequest, chat: ChatHistory | None) -> str:
    if chat is None:
        return ""
    # "finished": a draft's panel catches up with the conversation now.
    return render_to_string("chat/chat.html#reply", {"chat": chat, "finished": True}, request=request)
