"""Model replies are untrusted: Markdown to HTML, then sanitised.

`render_markdown` renders a whole reply; `StreamingMarkdown` renders one while it
arrives, a finished block at a time, with the same parser and the same sanitiser.
"""

import re
from collections.abc import Callable
from typing import Any, NamedTuple

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "div",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title", "target"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}

# A wide table scrolls sideways inside this wrapper, which keyboard users can focus to scroll
# it (WCAG 2.1.1). A group, not a region: a page of replies holds many tables, and landmarks
# must each have a name of their own. The sanitiser keeps exactly these attribute values on a
# ``div`` and no others, so a reply cannot forge a wrapper that says something else.
TABLE_SCROLL = {"class": "table-scroll", "role": "group", "tabindex": "0", "aria-label": "Table"}
ALLOWED_ATTRIBUTE_VALUES = {"div": {name: {value} for name, value in TABLE_SCROLL.items()}}
_TABLE_SCROLL_OPEN = "<div " + " ".join(f'{name}="{value}"' for name, value in TABLE_SCROLL.items()) + ">"


def _table_open(renderer, tokens: list[Token], idx: int, options, env: dict[str, Any]) -> str:
    return _TABLE_SCROLL_OPEN + renderer.renderToken(tokens, idx, options, env)


def _table_close(renderer, tokens: list[Token], idx: int, options, env: dict[str, Any]) -> str:
    return renderer.renderToken(tokens, idx, options, env) + "</div>\n"


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_markdown.enable("strikethrough")
_markdown.add_render_rule("table_open", _table_open)
_markdown.add_render_rule("table_close", _table_close)


#: Decides a reply's links: the ``href`` to show for a link, or None to show its text alone.
LinkPolicy = Callable[[str], str | None]


def render_markdown(text: str, links: LinkPolicy | None = None) -> SafeString:
    """Sanitised HTML for a model's Markdown reply.

    Raw HTML in the reply stays text. Without ``links``, only http(s) and
    mailto links survive, and they open in a new tab without access to this
    page; with ``links``, each link is what the policy makes of it, opening
    in place, or its text alone.
    """
    env: dict[str, Any] = {}
    return _render(_markdown.parse(text or "", env), env, links)


def links_in(text: str, links: LinkPolicy) -> list[tuple[str, str]]:
    """The links a reply shows under ``links``, as (href, text) pairs in order."""
    found = []
    for token in _markdown.parse(text or "", {}):
        children = token.children or []
        for index, child in enumerate(children):
            if child.type == "link_open" and (href := links(str(child.attrGet("href") or ""))):
                label = []
                for inner in children[index + 1 :]:
                    if inner.type == "link_close":
                        break
                    label.append(inner.content)
                found.append((href, "".join(label).strip()))
    return found


def _sanitise(html: str, *, own_site: bool = False) -> SafeString:
    if own_site:  # every link has passed a policy: pages of this site, opened in place
        cleaned = nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
            url_schemes=set(),
            link_rel=None,
            filter_style_properties={"text-align"},
        )
    else:
        cleaned = nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            tag_attribute_values=ALLOWED_ATTRIBUTE_VALUES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer nofollow",
            set_tag_attribute_values={"a": {"target": "_blank"}},
            filter_style_properties={"text-align"},
        )
    return mark_safe(cleaned)  # nh3 has just sanitised it


def _apply_links(tokens: list[Token], links: LinkPolicy) -> None:
    """Each link in ``tokens`` as the policy decides: its new ``href``, or its text with no link."""
    for token in tokens:
        if not token.children:
            continue
        kept, dropping = [], []
        for child in token.children:
            if child.type == "link_open":
                href = links(str(child.attrGet("href") or ""))
                dropping.append(href is None)
                if href is None:
                    continue
                child.attrs = {"href": href}
            elif child.type == "link_close" and dropping and dropping.pop():
                continue
            kept.append(child)
        token.children = kept


class MarkdownUpdate(NamedTuple):
    """What one delta changed: `blocks`, the sanitised HTML of the blocks it finished, in
    order (each block of a reply appears once), and `tail`, the text after them, plain:
    escape it before showing it."""

    blocks: list[SafeString]
    tail: str

    def shown(self) -> "MarkdownUpdate":
        """The update as a page shows it: the blank lines that ended the last block left off the tail."""
        return self._replace(tail=self.tail.lstrip("\n"))


# A blank line after one of these ends it for good; lists and code blocks go on across blank lines.
_ENDED_BY_A_BLANK_LINE = {"paragraph_open", "heading_open", "table_open", "blockquote_open", "hr"}
# A heading or fence opening in the first column ends every block above it, whatever they were.
_OPENS_A_TOP_LEVEL_BLOCK = re.compile(r"#{1,6}(?:[ \t]|$)|`{3,}[^`]*$|~{3,}")
# Otherwise a new line is parsed once the text held has grown by a _GROWTH-th since the last
# parse, so parses that finish nothing cost at most _GROWTH times the text received.
_GROWTH = 8


class StreamingMarkdown:
    """Renders a reply while it arrives: each finished block once, sanitised as `render_markdown` does.

    Feed the deltas in order, then call `finish()` when the reply ends; a viewer who joins
    mid-reply feeds what the record holds as its first delta. Joined, the blocks of every
    update and of `finish()` are `render_markdown(reply)`, links defined after their block and
    the wrapping of list items aside.

    A top-level block is finished once no later text can change how it renders: when the
    parse of the complete lines held shows another top-level block after it; when a blank
    line follows a paragraph, heading, table, block quote or rule; or when a fenced code
    block's closing line is complete. A top-level list is sent an item at a time, an item
    (with the lists nested in it) finished once the next item's first line is complete or
    the list has ended; each is wrapped in a list of its own, `<ol start="N">` carrying the
    number markdown-it gives it. An item renders tight or loose as the list is known to be
    when it is sent, so a list that turns loose later leaves earlier items tight: the page
    swaps in `render_markdown` of the whole reply when it ends. Only complete lines are
    parsed, and only the text after the last finished block or item. Reference links use the
    definitions received so far: a definition arriving after a block was sent does not reach it.

    When an update has no blocks, its tail is the previous tail followed by the delta (line
    ends as markdown-it reads them: "\\r\\n" and "\\r" as "\\n"), so sending the delta is enough;
    otherwise send the blocks and the whole tail, which starts where the last block ended.
    """

    def __init__(self, links: LinkPolicy | None = None) -> None:
        self._links = links
        self._tail = ""
        self._seen = 0  # length of the tail's complete lines already looked at
        self._parsed = 0  # length of the tail's complete lines at the last parse
        self._fence_closer: re.Pattern[str] | None = None  # set while the tail is an open fence
        self._blank_line_ends_last = False
        self._references: dict[str, Any] = {}
        self._after_cr = False
        self._list_so_far: _ListSoFar | None = None  # set while the tail starts inside a list

    def feed(self, delta: str) -> MarkdownUpdate:
        """Add the reply's next text; return the blocks it finished and the text still in progress."""
        delta = self._normalise(delta)
        self._tail += delta
        if "\n" not in delta:
            return MarkdownUpdate([], self._tail)
        complete = len(self._tail) - len(delta) + delta.rfind("\n") + 1
        new_lines = self._tail[self._seen : complete - 1].split("\n")
        self._seen = complete
        if not self._worth_parsing(new_lines, complete):
            return MarkdownUpdate([], self._tail)
        blocks = self._commit_finished_blocks(complete)
        return MarkdownUpdate(blocks, self._tail)

    def finish(self) -> list[SafeString]:
        """Sanitised HTML of the blocks still open when the reply ends; the stream is then empty."""
        env = {"references": dict(self._references)}
        tokens = _markdown.parse(self._tail, env)
        self._tail = ""
        self._seen = self._parsed = 0
        return self._render_blocks(tokens, _top_level_blocks(tokens), env)

    def _normalise(self, delta: str) -> str:
        # markdown-it reads "\r\n" and "\r" as one line end and NUL as U+FFFD: the tail must
        # count lines as it does, even when "\r\n" is split across two deltas.
        if not delta:
            return delta
        if self._after_cr and delta[0] == "\n":
            delta = delta[1:]
        self._after_cr = delta.endswith("\r")
        return re.sub(r"\r\n?", "\n", delta).replace("\0", "\ufffd")

    def _worth_parsing(self, new_lines: list[str], complete: int) -> bool:
        # Cheap checks on the new lines keep the parses few: inside a fence only its closing
        # line can finish anything; a heading or fence opening, or a blank line after a block
        # it ends, finishes the blocks above it.
        if self._fence_closer is not None:
            return any(self._fence_closer.fullmatch(line) for line in new_lines)
        return (
            (complete - self._parsed) * _GROWTH >= complete
            or any(_OPENS_A_TOP_LEVEL_BLOCK.match(line) for line in new_lines)
            or (self._blank_line_ends_last and any(_is_blank(line) for line in new_lines))
        )

    def _commit_finished_blocks(self, complete: int) -> list[SafeString]:
        text = self._tail[:complete]
        env = {"references": dict(self._references)}
        tokens = _markdown.parse(text, env)
        spans = _top_level_blocks(tokens)
        lines = text.split("\n")  # the last item is the empty text after the final line end
        finished = max(len(spans) - 1, 0)
        if spans and _finished_without_a_next_block(tokens[spans[-1][0]], lines):
            finished = len(spans)
        blocks = self._render_blocks(tokens, spans[:finished], env)
        cut_line = None
        if finished:
            cut_line = tokens[spans[finished][0]].map[0] if finished < len(spans) else tokens[spans[-1][0]].map[1]
        if finished < len(spans) and tokens[spans[-1][0]].type in _LIST_OPENS:
            start, end = spans[-1]
            items = _list_items(tokens, start, end)
            if len(items) > 1:
                blocks += self._render_items(tokens, start, end, items[:-1], env)
                cut_line = tokens[items[-1][0]].map[0]
        if cut_line is not None:
            cut = sum(len(line) + 1 for line in lines[:cut_line])
            self._keep_references(env["references"], cut_line)
            self._tail = self._tail[cut:]
            complete -= cut
        self._seen = self._parsed = complete
        last = tokens[spans[-1][0]] if finished < len(spans) else None
        self._fence_closer = _fence_closer(last) if last is not None and last.type == "fence" else None
        self._blank_line_ends_last = last is not None and last.type in _ENDED_BY_A_BLANK_LINE
        return blocks

    def _render_blocks(
        self, tokens: list[Token], spans: list[tuple[int, int]], env: dict[str, Any]
    ) -> list[SafeString]:
        blocks = []
        for start, end in spans:
            if tokens[start].type in _LIST_OPENS:
                blocks += self._render_items(tokens, start, end, _list_items(tokens, start, end), env)
            else:
                blocks.append(_render(tokens[start:end], env, self._links))
            self._list_so_far = None  # what was learnt of a list only holds for the tail's first block
        return blocks

    def _render_items(
        self, tokens: list[Token], start: int, end: int, items: list[tuple[int, int]], env: dict[str, Any]
    ) -> list[SafeString]:
        """Each item as a list of its own; what is learnt of the list is kept for the items still to come."""
        opener, closer = tokens[start], tokens[end - 1]
        # The tail starts at an item of a list already partly sent: its number and looseness
        # come from the items before it, not from the tail's own parse.
        so_far = self._list_so_far or _ListSoFar(int(opener.attrGet("start") or 1), loose=False)
        loose = so_far.loose or any(
            token.type == "paragraph_open" and token.level == 2 and not token.hidden for token in tokens[start:end]
        )
        blocks = []
        for index, (item_start, item_end) in enumerate(items):
            item = tokens[item_start:item_end]
            if loose:
                for token in item:
                    if token.type in {"paragraph_open", "paragraph_close"} and token.level == 2:
                        token.hidden = False
            attrs = {"start": so_far.number + index} if opener.type == "ordered_list_open" else {}
            blocks.append(_render([opener.copy(attrs=attrs), *item, closer], env, self._links))
        self._list_so_far = _ListSoFar(so_far.number + len(items), loose)
        return blocks

    def _keep_references(self, references: dict[str, Any], cut_line: int) -> None:
        # Definitions after the cut may still change (a title on the next line): they are
        # found again by the next parse, which starts at the cut.
        for label, definition in references.items():
            if label not in self._references and definition["map"][1] <= cut_line:
                self._references[label] = definition


class _ListSoFar(NamedTuple):
    number: int  # markdown-it's number for the list's next item
    loose: bool


_LIST_OPENS = {"bullet_list_open", "ordered_list_open"}


def _list_items(tokens: list[Token], start: int, end: int) -> list[tuple[int, int]]:
    """Token index ranges of the items of the top-level list at tokens[start:end]."""
    items = []
    for index in range(start + 1, end - 1):
        if tokens[index].level == 1 and tokens[index].type == "list_item_open":
            item_start = index
        elif tokens[index].level == 1 and tokens[index].type == "list_item_close":
            items.append((item_start, index + 1))
    return items


def _top_level_blocks(tokens: list[Token]) -> list[tuple[int, int]]:
    """Token index ranges of the top-level blocks."""
    spans = []
    start = 0
    for index, token in enumerate(tokens):
        if token.level == 0 and token.nesting <= 0:
            spans.append((start, index + 1))
            start = index + 1
    return spans


def _finished_without_a_next_block(block: Token, lines: list[str]) -> bool:
    first, end = block.map
    if block.type == "fence":
        return end - first >= 2 and _fence_closer(block).fullmatch(lines[end - 1]) is not None
    # A lone heading line can still become a table's header row: it needs the line after it.
    return block.type in _ENDED_BY_A_BLANK_LINE and end < len(lines) - 1 and _is_blank(lines[end])


def _fence_closer(fence: Token) -> re.Pattern[str]:
    """The line that closes this top-level fence, as markdown-it's fence rule reads it."""
    marker = re.escape(fence.markup[0])
    return re.compile(rf" {{0,3}}{marker}{{{len(fence.markup)},}}[ \t]*")


def _is_blank(line: str) -> bool:
    return not line.strip(" \t")


def _render(tokens: list[Token], env: dict[str, Any], links: LinkPolicy | None = None) -> SafeString:
    if links is not None:
        _apply_links(tokens, links)
    return _sanitise(_markdown.renderer.render(tokens, _markdown.options, env), own_site=links is not None)
