"""Which members a post mentions or quotes (notifications and mention links build on it)."""

from __future__ import annotations

from forum.core.text import mentioned_names, quote_markdown, quoted_names


def test_mentions_are_found_once_in_order_and_lowercased() -> None:
    text = "Thanks @Grace_W and @margaret_hr. Also @grace_w again, cc @dev.ops."
    assert mentioned_names(text) == ["grace_w", "margaret_hr", "dev.ops"]


def test_addresses_paths_and_short_names_are_not_mentions() -> None:
    text = "Mail ada@example.org, see /u/@admin or x@y, @ab is too short, email+@bob."
    assert mentioned_names(text) == []


def test_code_and_quotes_do_not_mention() -> None:
    text = (
        "Real: @lena_editor\n\n"
        "`@in_code` and ``@in_double``\n\n"
        "```\n@fenced_name\n```\n\n"
        "    @indented_name\n\n" + quote_markdown("morgan_mod", "ask @quoted_name about it")
    )
    assert mentioned_names(text) == ["lena_editor"]
    assert quoted_names(text) == ["morgan_mod"]


def test_quote_headers_name_each_author_once() -> None:
    text = (
        quote_markdown("Ada", "one") + quote_markdown("grace_w", "two") + quote_markdown("ada", "x")
    )
    assert quoted_names(text) == ["ada", "grace_w"]
    assert quoted_names("**ada** wrote: not a quote") == []
