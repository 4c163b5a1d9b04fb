from chat.markdown import render_markdown


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
