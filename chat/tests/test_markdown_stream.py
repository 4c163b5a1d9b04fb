import random
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chat import markdown
from chat.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, StreamingMarkdown, render_markdown

REPLIES = [
    """# Plan for the launch

Here is a **short** plan, with _three_ phases and a ~~fourth~~ note.

1. Research
   - read the [brief](https://example.com/brief "Brief")
   - list the risks
2. Build
3. Ship

---

> Keep the scope small.
> Ship early.

Done.
""",
    """Sure! Here's the function:

```python
def add(a, b):
    # ``` inside a comment does not close the fence
    return a + b
```

And the same in shell:

~~~bash
echo "$((1 + 2))"
~~~
Call it with `add(1, 2)`.""",
    """| Task | Owner | Due |
|:-----|:-----:|----:|
| Draft | Ana | Mon |
| Review | Bo | *Tue* |

Setext title
============

Second level
------------

* tight
* list

* now
* loose

10. ten
11. eleven
""",
    """Steps:
- one
- two

    an indented code block

Text right after.
> quote with a lazy
continuation line

#### Small heading ####
***
Last paragraph with a <script>alert(1)</script> and [bad](javascript:alert(1)).""",
    """1. First

   ```js
   console.log("in a list")
   ```

2. Second
   > quoted in a list

- [ ] a task box stays text
- [x] done

[docs]: https://example.com/docs

See [docs] and <https://example.com/auto>.
""",
    "No newline at all, just one line streamed to the end.",
    "",
    "Windows line ends\r\nstill split\r\n\r\nparagraphs.\r\n",
]


def chunked(text: str, sizes: str, seed: int = 0) -> list[str]:
    if sizes == "characters":
        return list(text)
    if sizes == "lines":
        return text.splitlines(keepends=True)
    if sizes == "whole":
        return [text]
    rng = random.Random(seed)
    chunks, start = [], 0
    while start < len(text):
        end = start + rng.randint(1, 12)
        chunks.append(text[start:end])
        start = end
    return chunks


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def text_content(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def item_numbers(text: str) -> list[int | None]:
    """markdown-it's number for each top-level list item of the reply (None in a bullet list)."""
    numbers = []
    for token in markdown._markdown.parse(text, {}):
        if token.level == 0 and token.type == "ordered_list_open":
            number = int(token.attrGet("start") or 1)
        elif token.level == 0 and token.type == "bullet_list_open":
            number = None
        elif token.level == 1 and token.type == "list_item_open":
            numbers.append(number)
            number = number if number is None else number + 1
    return numbers


def assert_joins_to_the_finished_reply(blocks: list[str], text: str) -> None:
    """Joined blocks are the finished reply, but for list items: each sent once, wrapped in a
    list of its own with its number, and tight or loose as its list was known when it was sent."""
    finished = render_markdown(text)
    joined = "".join(blocks)
    if "<li>" not in finished:
        assert joined == finished
        return
    assert text_content(joined) == text_content(finished)
    assert joined.count("<li>") == finished.count("<li>")
    starts = [re.match(r'<ol start="(\d+)">|<ul>\n<li>', block) for block in blocks]
    assert [int(start[1]) if start[1] else None for start in starts if start] == item_numbers(text)


def stream(chunks: list[str]) -> tuple[list[str], list[markdown.MarkdownUpdate]]:
    streaming = StreamingMarkdown()
    updates = [streaming.feed(chunk) for chunk in chunks]
    blocks = [block for update in updates for block in update.blocks] + streaming.finish()
    return blocks, updates


@pytest.mark.parametrize("sizes", ["characters", "few characters", "lines", "whole"])
@pytest.mark.parametrize("reply", REPLIES, ids=range(len(REPLIES)))
def test_streamed_blocks_join_to_the_finished_reply(reply, sizes):
    blocks, _ = stream(chunked(reply, sizes))

    assert_joins_to_the_finished_reply(blocks, reply)


@pytest.mark.parametrize("reply", REPLIES[:5], ids=range(5))
def test_finished_blocks_appear_while_the_reply_is_still_arriving(reply):
    _, updates = stream(chunked(reply, "characters"))

    assert sum(len(update.blocks) for update in updates) >= 2


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("reply", REPLIES, ids=range(len(REPLIES)))
def test_each_block_is_sent_once_and_the_wire_stays_near_the_reply_size(reply, seed):
    chunks = chunked(reply, "few characters", seed)
    blocks, updates = stream(chunks)
    previous_tail = ""
    plain_sent = 0
    for chunk, update in zip(chunks, updates, strict=True):
        if update.blocks:
            plain_sent += len(update.tail)
        else:
            # Nothing finished: the tail only grew by the delta, so the delta is all a viewer needs.
            assert update.tail.startswith(previous_tail)
            assert len(update.tail) - len(previous_tail) <= len(chunk)
            if "\r" not in reply:
                assert update.tail == previous_tail + chunk
            plain_sent += len(chunk)
        previous_tail = update.tail

    # Each list item is wrapped in a list of its own; everything else is sent as it renders.
    assert sum(len(block) for block in blocks) <= 1.5 * len(render_markdown(reply))
    assert_joins_to_the_finished_reply(blocks, reply)
    assert plain_sent <= 2 * len(reply)


def test_a_paragraph_is_rendered_once_a_blank_line_follows_it():
    streaming = StreamingMarkdown()

    assert streaming.feed("Hello **wor") == ([], "Hello **wor")
    assert streaming.feed("ld**\n") == ([], "Hello **world**\n")
    assert streaming.feed("\nNext") == (["<p>Hello <strong>world</strong></p>\n"], "\nNext")
    assert streaming.finish() == ["<p>Next</p>\n"]


def test_a_code_block_is_rendered_once_its_closing_fence_line_is_complete():
    streaming = StreamingMarkdown()

    assert streaming.feed("```py\nx = 1\n```").blocks == []
    assert streaming.feed("\n") == (["<pre><code>x = 1\n</code></pre>\n"], "")


def test_a_numbered_list_is_rendered_an_item_at_a_time():
    streaming = StreamingMarkdown()
    updates = [streaming.feed(delta) for delta in ["1. **Goal** — one\n2. **Milestones** — two\n3. **Tasks", "\n"]]

    assert [block for update in updates for block in update.blocks] == [
        '<ol start="1">\n<li><strong>Goal</strong> — one</li>\n</ol>\n',
        '<ol start="2">\n<li><strong>Milestones</strong> — two</li>\n</ol>\n',
    ]
    assert updates[-1].tail == "3. **Tasks\n"


def test_an_item_is_finished_once_the_next_items_first_line_is_complete():
    streaming = StreamingMarkdown()

    assert streaming.feed("- a\n  - nested\n") == ([], "- a\n  - nested\n")
    assert streaming.feed("- b").blocks == []
    assert streaming.feed("\n") == (["<ul>\n<li>a\n<ul>\n<li>nested</li>\n</ul>\n</li>\n</ul>\n"], "- b\n")
    # The last item is finished when the list ends.
    assert streaming.feed("\nDone.\n\n") == (["<ul>\n<li>b</li>\n</ul>\n", "<p>Done.</p>\n"], "\n")


def test_items_carry_the_numbers_markdown_it_gives_them():
    blocks, _ = stream(chunked("7. seven\n7. eight\n1. nine\n\nText.\n", "characters"))

    assert [block.split(">")[0] for block in blocks] == ['<ol start="7"', '<ol start="8"', '<ol start="9"', "<p"]


def test_a_list_once_loose_stays_loose_for_the_items_still_to_come():
    streaming = StreamingMarkdown()

    assert streaming.feed("- a\n- b\n").blocks == ["<ul>\n<li>a</li>\n</ul>\n"]
    # A blank line between items makes the list loose; an item already sent stays as sent.
    assert streaming.feed("\n- c\n").blocks == ["<ul>\n<li>\n<p>b</p>\n</li>\n</ul>\n"]
    assert streaming.feed("- d\n").blocks == ["<ul>\n<li>\n<p>c</p>\n</li>\n</ul>\n"]
    assert streaming.finish() == ["<ul>\n<li>\n<p>d</p>\n</li>\n</ul>\n"]


def test_a_line_under_a_paragraph_can_still_turn_it_into_a_heading():
    streaming = StreamingMarkdown()

    assert streaming.feed("Title\n").blocks == []
    assert streaming.feed("===\n").blocks == []
    assert streaming.feed("\n").blocks == ["<h1>Title</h1>\n"]


def test_a_heading_waits_for_its_next_line_which_may_make_it_a_table_header():
    streaming = StreamingMarkdown()

    assert streaming.feed("# a | b\n").blocks == []
    assert streaming.feed("|---|---|\n| 1 | 2 |\n").blocks == []
    blocks = streaming.feed("\n").blocks

    assert blocks == [render_markdown("# a | b\n|---|---|\n| 1 | 2 |\n")]
    assert "<table>" in blocks[0]


def test_a_viewer_joining_mid_reply_gets_the_finished_blocks_at_once():
    reply = REPLIES[0]
    half = len(reply) // 2
    streaming = StreamingMarkdown()

    joined = streaming.feed(reply[:half])
    blocks = joined.blocks + streaming.feed(reply[half:]).blocks + streaming.finish()

    assert len(joined.blocks) >= 2
    assert reply[:half].endswith(joined.tail)
    assert_joins_to_the_finished_reply(blocks, reply)


def test_a_reference_link_uses_a_definition_received_before_its_block_finishes():
    blocks, _ = stream(chunked("[docs]: https://example.com\n\nSee [docs].\n\nMore.\n", "characters"))

    assert 'href="https://example.com"' in blocks[0]


def test_a_definition_arriving_after_a_block_was_sent_does_not_reach_it():
    reply = "See [docs].\n\nMore.\n\n[docs]: https://example.com\n"
    blocks, _ = stream(chunked(reply, "lines"))

    assert blocks[0] == "<p>See [docs].</p>\n"
    assert "href" in render_markdown(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "# Mixed\n\n" + REPLIES[0] + REPLIES[1] + "\n\n" + REPLIES[2] + REPLIES[3] + "\n\n",
        "```python\n" + "x = compute(x)  # one line of a long listing\n" * 500 + "```\n",
        "- a short item\n" * 1400,
        "- a loose item\n\n" * 1300,
        "a short line of a long poem\n" * 800,
        "> a quoted line\n" * 1400,
        "| a | b |\n|---|---|\n" + "| 1 | 2 |\n" * 2300,
        "one endless line " * 1200,
    ],
    ids=["mixed", "code", "tight list", "loose list", "paragraph", "quote", "table", "one line"],
)
def test_feeding_a_long_reply_a_character_at_a_time_parses_each_character_a_few_times(reply, monkeypatch):
    reply = (reply * (20_000 // len(reply) + 1))[:20_000]
    parsed = []
    parse = markdown._markdown.parse

    def counting_parse(text, env=None):
        # Counts what the real parser is given; it still does the parsing.
        parsed.append(len(text))
        return parse(text, env)

    monkeypatch.setattr(markdown._markdown, "parse", counting_parse)
    blocks, _ = stream(list(reply))
    monkeypatch.undo()

    # Re-parsing the held text on every delta would be about 20_000**2 / 2 = 200_000_000.
    assert sum(parsed) <= 12 * len(reply)
    assert_joins_to_the_finished_reply(blocks, reply)


_FRAGMENTS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">a</a>',
    "<iframe src=//evil>", "<svg onload=alert(1)>", "<style>*{}</style>", '<b onclick="x()">b</b>',
    "[x](javascript:alert(1))", "[y](data:text/html,<script>alert(1)</script>)", "[z](vbscript:msgbox(1))",
    "[w](JaVaScRiPt:alert(1))", "[v](&#x6a;avascript:alert(1))", "[u](java\tscript:x)",
    "[t](https://example.com 'title')",
    "![i](x.png)", "![j](javascript:alert(1))", "<javascript:alert(1)>", "<https://example.com>",
    "[r]", "[r]: javascript:alert(1)", "[s]: https://example.com",
    "`", "```", "```html", "~~~", "|", "| a | b |", "|---|---|", ">", "> ", "- ", "1. ", "  ", "    ", "# ", "===",
    "*", "**", "_", "~~", "[", "]", "(", ")", "<", ">", '"', "'", "=", "&", "\\", "\n", "\n", "\n\n", "\r\n", "text",
]  # fmt: skip


@st.composite
def split_replies(draw):
    parts = draw(st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=3)), max_size=40))
    text = "".join(parts)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return text, [text[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_not_executable(html: str) -> None:
    assert "<script" not in html.lower()
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS
        assert tag not in {"script", "iframe", "img", "style", "svg"}
        for name, value in attrs:
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()) | {"rel"}
            assert not name.startswith("on")
            if name in {"href", "src"}:
                url = "".join(char for char in value if char.isprintable() and not char.isspace()).lower()
                assert not url.startswith(("javascript:", "data:", "vbscript:"))
                assert urlsplit(url).scheme in {"", "http", "https", "mailto"}


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_replies())
def test_partial_markdown_never_yields_executable_html(reply):
    text, chunks = reply
    streaming = StreamingMarkdown()
    for chunk in chunks:
        for block in streaming.feed(chunk).blocks:
            assert_not_executable(block)
    for block in streaming.finish():
        assert_not_executable(block)
    assert_not_executable(render_markdown(text))


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(split_replies())
def test_any_split_of_any_text_joins_to_the_finished_reply(reply):
    text, chunks = reply
    # A reference definition may come after the block that uses it, which then stays text.
    assume("]:" not in text)
    blocks, _ = stream(chunks)

    assert_joins_to_the_finished_reply(blocks, text)
