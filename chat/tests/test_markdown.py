import pytest

from chat.markdown import StreamingMarkdown, _sanitise, render_markdown

TABLE = "| Week | Work |\n|---|---|\n| 1 | Book the venue |\n"
TABLE_SCROLL = '<div class="table-scroll" role="group" tabindex="0" aria-label="Table">'


def test_markdown_renders_lists_tables_and_code():
    html = render_markdown("# Plan\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code`")
    assert "<h1>Plan</h1>" in html
    assert "<li>one</li>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<code>code</code>" in html


def test_raw_html_from_the_model_stays_text():
    html = render_markdown('<script>alert(1)</script><img src=x onerror="alert(2)"><b onclick="x()">b</b>')
    assert "<script" not in html and "<img" not in html and "<b" not in html
    assert "&lt;script&gt;" in html


def test_only_safe_link_schemes_survive_and_links_open_safely():
    html = render_markdown(
        "[a](javascript:alert(1)) [b](data:text/html,x) [c](vbscript:x) [d](https://example.com) [e](mailto:a@b.c)"
    )
    assert 'href="javascript' not in html
    assert 'href="data:' not in html and 'href="vbscript:' not in html
    assert '<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">d</a>' in html
    assert 'href="mailto:a@b.c"' in html


def test_autolinks_with_a_bad_scheme_are_dropped():
    html = render_markdown("<javascript:alert(1)>")
    assert 'href="javascript' not in html


@pytest.mark.parametrize("links", [None, lambda href: href], ids=["any-site", "own-site"])
def test_a_table_scrolls_in_a_wrapper_keyboard_users_can_focus(links):
    html = render_markdown(f"Plan:\n\n{TABLE}\nDone.", links)
    assert f"{TABLE_SCROLL}<table>" in html
    assert html.count("<div") == 1 and "</table>\n</div>" in html


def test_a_table_streams_in_the_same_wrapper():
    streaming = StreamingMarkdown()
    update = streaming.feed(f"Plan:\n\n{TABLE}\n")
    blocks = update.blocks + streaming.finish()
    assert "".join(blocks) == render_markdown(f"Plan:\n\n{TABLE}")
    assert blocks[-1].startswith(f"{TABLE_SCROLL}<table>")


def test_a_reply_cannot_write_a_wrapper_of_its_own():
    html = render_markdown(f'{TABLE_SCROLL}\n\n<div role="region" aria-label="Pay here">x</div>')
    assert "<div" not in html and "&lt;div" in html


@pytest.mark.parametrize("own_site", [False, True])
def test_the_sanitiser_keeps_only_the_wrappers_own_attribute_values(own_site):
    forged = (
        '<div class="table-scroll evil" role="region" tabindex="-1" aria-label="Pay here" '
        'onfocus="alert(1)" id="x" style="position:fixed">a</div>'
        f"{TABLE_SCROLL}b</div>"
    )
    assert _sanitise(forged, own_site=own_site) == f"<div>a</div>{TABLE_SCROLL}b</div>"
