from django import template
from django.utils.safestring import SafeString

from chat.markdown import MarkdownUpdate, StreamingMarkdown, render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """A model reply as sanitised HTML."""
    return render_markdown(text)


@register.simple_tag
def reply_progress(text: str) -> MarkdownUpdate:
    """A reply still being written: its finished blocks rendered, the rest as plain text."""
    return StreamingMarkdown().feed(text).shown()
