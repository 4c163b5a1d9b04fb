"""The planning chat pages: one chat per user, and one per project."""

from asgiref.sync import sync_to_async
from django.contrib import messages
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
from django_htmx.http import reswap, retarget

from catalyst.htmx import HtmxHttpRequest, fragment_or_page, page_redirect, wants_fragment, with_toast
from catalyst.params import key_param, moment_param
from catalyst.shortcuts import aget_or_404, get_or_404
from chat import services
from chat.generation import lost_settle, reply_events
from chat.markdown import StreamingMarkdown
from chat.models import ChatHistory
from chat.navigation import SiteLinks, project_on_page
from chat.providers import get_provider
from chat.streaming import KEEPALIVE, event_stream_response, sse_event
from projects.models import Project, ProjectDraft

PAGE_SIZE = 20
SEARCH_LIMIT = 50
PLANNING = ChatHistory.ChatType.PROJECT_PLANNING
NAVIGATION = ChatHistory.ChatType.NAVIGATION
#: The assistant's panel on every page: its elements' ids start with this, and its requests target them.
PANEL = "assistant-"


def _project_param(request: HttpRequest, value: str | None) -> Project | None:
    if not value:
        return None
    return get_or_404(Project.objects.owned_by(request.user), value)


def _chat_url(project: Project | None, draft: ProjectDraft | None = None, chat_type: str = PLANNING) -> str:
    if draft is not None:
        return draft.get_absolute_url()
    if chat_type == NAVIGATION:
        return reverse("chat:assistant")
    if project is None:
        return reverse("chat:planning")
    return reverse("project-chat:page", args=[project.pk])


def _draft_param(request: HttpRequest, value: str | None) -> ProjectDraft | None:
    if not value:
        return None
    return get_or_404(ProjectDraft.objects.owned_by(request.user), value)


def _chat_type_param(value: str | None) -> str:
    return NAVIGATION if value == NAVIGATION else PLANNING


def _in_panel(request: HtmxHttpRequest) -> bool:
    """Whether an HTMX request comes from the assistant's panel (it targets the panel's elements)."""
    return bool(request.htmx) and (request.htmx.target or "").startswith(PANEL)


def _owned_chat(request: HttpRequest, pk: str) -> ChatHistory:
    return get_or_404(ChatHistory.objects.owned_by(request.user).select_related("project", "draft"), pk)


# --- The page ---------------------------------------------------------------------


@require_GET
@fragment_or_page
def planning(request: HtmxHttpRequest) -> HttpResponse:
    return chat_page(request)


@require_GET
@fragment_or_page
def project_chat(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    project = get_or_404(Project.objects.owned_by(request.user), pk)
    return chat_page(request, project=project)


@require_GET
@fragment_or_page
def assistant(request: HtmxHttpRequest) -> HttpResponse:
    """The navigation assistant: in the panel on every page, or as a page of its own."""
    return chat_page(request, chat_type=NAVIGATION)


def chat_page(
    request: HtmxHttpRequest,
    *,
    chat_type: str = PLANNING,
    project: Project | None = None,
    draft: ProjectDraft | None = None,
    **extra,
) -> TemplateResponse:
    """A conversation's page: the general or a project's planning chat, a project draft's, or the assistant's.

    ``extra`` goes into the template's context (a draft page's panel). In the
    assistant's panel, the page it is open on says which project is "here".
    """
    if draft is not None:
        chat_type = ChatHistory.ChatType.NEW_PROJECT
    in_panel = _in_panel(request)
    on_page = (request.htmx.current_url_abs_path or "") if in_panel else ""
    records = ChatHistory.objects.owned_by(request.user).in_chat(chat_type=chat_type, project=project, draft=draft)
    if project is not None:  # a project's chat shows the proposals made in it
        records = records.with_proposals()
    query = request.GET.get("q", "").strip()[:200]
    before = None if query else moment_param(request.GET.get("before", ""), name="before")
    if query:
        chats, _ = records.matching(query).page(SEARCH_LIMIT)
        has_earlier = False  # the newest matches, with no paging back through older ones
    else:
        before_id = key_param(ChatHistory, request.GET.get("before_id", ""), name="before_id")
        chats, has_earlier = records.page(PAGE_SIZE, before=before, before_pk=before_id)
    lost_settle(chats)
    provider = get_provider()
    context = {
        **extra,
        "project": project,
        "draft": draft,
        "navigation": chat_type == NAVIGATION,
        "in_panel": in_panel,
        "dom": PANEL if in_panel else "",
        "page": on_page,
        "here": project_on_page(request.user, on_page) if on_page else None,
        "chats": chats,
        "has_earlier": has_earlier,
        "earliest": chats[0].created_at.isoformat() if chats else "",
        "earliest_id": chats[0].pk if chats else "",
        "query": query,
        "total": records.count(),
        "chat_url": _chat_url(project, draft, chat_type),
        "assistant_label": provider.label,
        "offline": provider.name == "offline",
        "message_max_length": ChatHistory.MESSAGE_MAX_LENGTH,
    }
    template = "chat/chat.html"
    if wants_fragment(request):
        if before:
            template += "#earlier"
        elif in_panel:
            template = "chat/assistant.html"
        else:
            template += "#log"
    return TemplateResponse(request, template, context)


# --- Sending, and acting on one reply -----------------------------------------------


@require_POST
@fragment_or_page
def send(request: HtmxHttpRequest) -> HttpResponse:
    project = _project_param(request, request.POST.get("project"))
    draft = _draft_param(request, request.POST.get("draft"))
    chat_type = _chat_type_param(request.POST.get("chat_type"))
    message = request.POST.get("message", "")
    dom = PANEL if _in_panel(request) else ""
    try:
        chat = services.chat_send(
            user=request.user,
            message=message,
            chat_type=chat_type,
            project=project,
            draft=draft,
            page=request.POST.get("page", ""),
        )
    except services.ChatRejected as rejection:
        if request.htmx:
            response = TemplateResponse(
                request, "chat/chat.html#composer-error", {"error": str(rejection)}, status=rejection.status
            )
            if rejection.retry_after:
                response["Retry-After"] = str(rejection.retry_after)
            return reswap(retarget(response, f"#{dom}composer-error"), "innerHTML")
        messages.error(request, str(rejection))
        response = chat_page(request, chat_type=chat_type, project=project, draft=draft, typed=message)
        response.status_code = rejection.status
        return response
    if request.htmx:
        records = ChatHistory.objects.owned_by(request.user).in_chat(
            chat_type=chat.chat_type, project=chat.project, draft=draft
        )
        context = {
            "chat": chat,
            "project": chat.project,
            "draft": draft,
            "navigation": chat_type == NAVIGATION,
            "dom": dom,
            "total": records.count(),
        }
        return TemplateResponse(request, "chat/chat.html#sent", context)
    return redirect(_chat_url(project, draft, chat_type))


def _reply_response(request: HtmxHttpRequest, chat: ChatHistory, toast: str | None = None) -> HttpResponse:
    if not request.htmx:
        if toast:
            messages.warning(request, toast)
        return redirect(_chat_url(chat.project, chat.draft, chat.chat_type) + f"#chat-{chat.pk}")
    response = TemplateResponse(request, "chat/chat.html#reply", {"chat": chat})
    return with_toast(response, toast, "warning") if toast else response


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
    newer = records.next_after(chat)
    url = _chat_url(chat.project, chat.draft, chat.chat_type)
    if newer is not None:
        url += "?" + urlencode({"before": newer.created_at.isoformat(), "before_id": newer.pk})
    return redirect(f"{url}#chat-{chat.pk}")


@require_GET
@fragment_or_page
def reply(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    """One reply as the record holds it (the page asks again after losing its stream)."""
    chat = _owned_chat(request, pk)
    lost_settle([chat])
    if not request.htmx:
        return redirect(_chat_url(chat.project, chat.draft, chat.chat_type) + f"#chat-{chat.pk}")
    return TemplateResponse(request, "chat/chat.html#reply", {"chat": chat, "finished": True})


@require_POST
@fragment_or_page
def stop(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    chat = services.chat_stop(chat=_owned_chat(request, pk))
    return _reply_response(request, chat)


@require_POST
@fragment_or_page
def retry(request: HtmxHttpRequest, pk: str) -> HttpResponse:
    return _restart(request, pk, services.chat_retry)


@require_POST
@fragment_or_page
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
@fragment_or_page
def clear(request: HtmxHttpRequest) -> HttpResponse:
    chat_type = _chat_type_param(request.POST.get("chat_type"))
    project = None if chat_type == NAVIGATION else _project_param(request, request.POST.get("project"))
    removed = services.chat_clear(user=request.user, chat_type=chat_type, project=project)
    note = (
        f"Removed {removed} message{'s' if removed != 1 else ''} from this chat."
        if removed
        else "This chat was already empty."
    )
    if _in_panel(request):  # the panel starts again in place; the page under it stays
        return with_toast(chat_page(request, chat_type=chat_type), note)
    # A fresh page (the history, counts and paging all change); the note shows as a toast.
    messages.success(request, note)
    return page_redirect(request, _chat_url(project, chat_type=chat_type))


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    chat_type = _chat_type_param(request.GET.get("chat_type"))
    project = None if chat_type == NAVIGATION else _project_param(request, request.GET.get("project"))
    chats = ChatHistory.objects.owned_by(request.user).in_chat(chat_type=chat_type, project=project)
    if chat_type == NAVIGATION:
        title = "Assistant chat"
    else:
        title = f"{project.name} — planning chat" if project else "Planning chat"
    # Times as the pages show them: the site's time zone, named on each.
    now = timezone.localtime()
    lines = [f"# {title}", "", f"Exported {now:%Y-%m-%d %H:%M %Z} from Project Catalyst.", ""]
    for chat in chats.iterator():
        lines += [f"## You · {timezone.localtime(chat.created_at):%Y-%m-%d %H:%M %Z}", "", chat.message, ""]
        lines += [f"## Assistant · {timezone.localtime(chat.updated_at):%Y-%m-%d %H:%M %Z}", ""]
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
    links = None
    if chat.chat_type == NAVIGATION:  # its links are checked against the user's own objects, read now
        links = request._site_links = await sync_to_async(SiteLinks(user, host=request.get_host()).load)()
    return event_stream_response(request, _page_chunks(request, chat.pk, links))


async def _page_chunks(request: HttpRequest, pk, links: SiteLinks | None = None):
    """The page's encoding of a reply: finished blocks rendered once each, the rest as it arrives."""
    yield "retry: 2000\n\n"
    markdown = StreamingMarkdown(links)
    async for kind, data in reply_events(pk):
        if kind == "done":
            chat = await ChatHistory.objects.filter(pk=pk).afirst()
            yield sse_event("done", await sync_to_async(_final_reply_html)(request, chat))
            return
        if kind == "ping":
            yield KEEPALIVE
        elif kind == "snapshot":
            markdown = StreamingMarkdown(links)
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
