from typing import NamedTuple

from django import template
from django.utils.safestring import SafeString

from chat.markdown import LinkPolicy, MarkdownUpdate, StreamingMarkdown, links_in, render_markdown
from chat.models import ChatHistory
from chat.navigation import site_links_for

register = template.Library()
GO_LABEL_LENGTH = 60
#: How a reply names the provider that wrote it (a provider not listed shows its key).
PROVIDER_TITLES = {"gemini": "Gemini", "openai": "OpenAI-compatible"}


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """A model reply as sanitised HTML."""
    return render_markdown(text)


class Reply(NamedTuple):
    html: SafeString
    #: Where a navigation answer that names one place goes, and what it calls it: ("", "") for others.
    go: tuple[str, str]


def _links(context, chat: ChatHistory) -> LinkPolicy | None:
    """Navigation answers link only to this site's pages and the user's own objects."""
    if chat.chat_type != ChatHistory.ChatType.NAVIGATION:
        return None
    return site_links_for(context["request"])


@register.simple_tag(takes_context=True)
def reply_html(context, chat: ChatHistory) -> Reply:
    """A finished reply as sanitised HTML, with the one place a navigation answer points to."""
    links = _links(context, chat)
    html = render_markdown(chat.response, links)
    go = ("", "")
    if links is not None:
        shown = links_in(chat.response, links)
        if len({href for href, _ in shown}) == 1:
            href, label = shown[0]
            go = (href, label[:GO_LABEL_LENGTH] or "it")
    return Reply(html, go)


@register.simple_tag
def written_by(chat: ChatHistory) -> str:
    """Which provider and model wrote a reply: "Gemini · gemini-2.5-flash", "Offline assistant"."""
    if chat.provider == "offline" or chat.model_name == "offline":
        return "Offline assistant"
    title = PROVIDER_TITLES.get(chat.provider, chat.provider)
    return f"{title} · {chat.model_name}" if title else chat.model_name


@register.simple_tag(takes_context=True)
def reply_progress(context, chat: ChatHistory) -> MarkdownUpdate:
    """A reply still being written: its finished blocks rendered, the rest as plain text."""
    return StreamingMarkdown(_links(context, chat)).feed(chat.response).shown()
