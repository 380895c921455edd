"""Bare URLs, www. addresses and e-mail addresses in posts become links, sanitised like every
other link (http, https and mailto only; rel="nofollow noopener ugc")."""

from __future__ import annotations

import pytest

from forum.core.text import LINKIFY_MAX_WORD, excerpt, render_markdown
from tests.helpers import parse_tags

REL = "nofollow noopener ugc"


def links(html: str) -> list[dict[str, str | None]]:
    return [dict(attrs) for tag, attrs in parse_tags(html) if tag == "a"]


def test_bare_urls_become_links_with_rel() -> None:
    html = render_markdown(
        "See https://example.org/guide?x=1. Or (www.example.net), or mail hr@example.com."
    )
    found = links(html)
    assert [a["href"] for a in found] == [
        "https://example.org/guide?x=1",
        "http://www.example.net",
        "mailto:hr@example.com",
    ]
    assert all(set((a["rel"] or "").split()) == set(REL.split()) for a in found)
    assert ">https://example.org/guide?x=1</a>." in html  # the full stop stays outside


@pytest.mark.parametrize(
    "source",
    [
        "`https://example.org/in-code`",
        "    https://example.org/indented-code",
        "javascript:alert(1)",
        "JaVaScRiPt://example.org/%0aalert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "http\\://example.org/escaped",
        "ftp://example.org/file",
    ],
)
def test_no_link_where_none_belongs(source: str) -> None:
    assert links(render_markdown(source)) == []


def test_urls_inside_links_are_not_linked_twice() -> None:
    html = render_markdown("[https://shown.example.org](https://target.example.org)")
    assert [a["href"] for a in links(html)] == ["https://target.example.org"]


def test_linkified_text_is_still_escaped_and_sanitised() -> None:
    html = render_markdown('https://example.org/"><script>alert(1)</script> <img src=x>')
    assert "<script" not in html and "<img" not in html
    for a in links(html):
        assert (a["href"] or "").startswith("https://example.org/")


def test_runs_longer_than_the_bound_are_left_as_text() -> None:
    long_url = "https://example.org/" + "a" * LINKIFY_MAX_WORD
    assert links(render_markdown(long_url)) == []
    assert len(links(render_markdown(f"{long_url} https://example.org/short"))) == 1


def test_an_image_is_shown_as_a_link_named_by_its_alt_text() -> None:
    html = render_markdown("![chart of pairs](https://example.org/c.png) and a link")
    assert "<img" not in html
    assert (
        '<a href="https://example.org/c.png" rel="nofollow noopener ugc">chart of pairs (image)</a>'
        in html
    )
    assert html.startswith("<p><a ") and "</a> and a link" in html
    assert ">image</a>" in render_markdown("![](https://example.org/c.png)")
    # Only the link schemes posts allow: no data: or javascript: address becomes a link.
    for source in ("![x](data:image/png;base64,AAAA)", "![x](javascript:alert(1))"):
        html = render_markdown(source)
        assert 'href="data' not in html and 'href="javascript' not in html and "<img" not in html


def test_an_excerpt_reads_as_the_post_does() -> None:
    """Lists (the review queue, a profile's recent posts) show a post's start as members read
    it: character references decoded, Markdown's marks and link addresses gone, any markup
    left as text for the page to escape."""
    assert excerpt("t&#111;&#111; junior") == "too junior"
    assert excerpt("**Bold** and [the guide](https://example.org/g)") == "Bold and the guide"
    assert excerpt("> **bob** wrote:\n> hi\n\nMine <b>x</b>") == "bob wrote: hi Mine <b>x</b>"
    assert excerpt("word " * 100, 20) == "word word word word…"


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        # A Latin-looking host in other letters shows as what it is (as browsers do).
        ("http://xn--pple-43d.com/account", "http://xn--pple-43d.com/account"),
        ("http://\u0430pple.com/account", "http://xn--pple-43d.com/account"),
        ("www.xn--80ak6aa92e.com", "www.xn--80ak6aa92e.com"),
        # A host in one script that is not mistaken for Latin stays readable.
        ("https://bücher.de/a", "https://bücher.de/a"),
        ("https://日本語.jp", "https://日本語.jp"),
        ("https://example.org/x", "https://example.org/x"),
    ],
)
def test_a_link_cannot_pose_as_another_host(written: str, shown: str) -> None:
    html = render_markdown(f"see {written} now")
    assert f">{shown}</a>" in html
