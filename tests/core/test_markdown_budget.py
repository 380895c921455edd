"""What one document may expand to: Markdown made a 20 KB post an 8.6 MB page (a line that
starts a new, wider table inside another's lines) or an 8.8 MB one (a link reference with a
long address used thousands of times). Past the budgets the rest renders as plain text, and
the validator refuses what it can see coming."""

from __future__ import annotations

from forum.core.text import (
    LINK_CHARS_MAX,
    TABLE_CELLS_MAX,
    render_markdown,
    too_many_cells,
    without_definitions,
)

WIDE = "|" + "a|" * 20 + "\n|" + "-|" * 20 + "\n"


def test_tables_past_the_budget_render_as_text() -> None:
    # A narrow table, then a heading line that starts a wide one inside the same block.
    split = "|a|\n|-|\n" + "|x|\n" * 10 + "#\n" + WIDE + "|\n" * 4_500
    html = render_markdown(split)
    assert len(html) < 200_000 and html.count("<td") <= TABLE_CELLS_MAX
    assert too_many_cells(split)  # and refused up front, counted as the renderer counts
    assert "94,555 cells" in str(too_many_cells(split))
    huge = render_markdown(WIDE + "|\n" * 9_950)
    assert len(huge) < 100_000 and "<table>" not in huge
    # An ordinary table is a table.
    table = "| Pair | Met |\n|---|---|\n| Ann and Bo | 4 times |"
    assert "<td>Ann and Bo</td>" in render_markdown(table) and not too_many_cells(table)


def test_links_past_the_budget_render_as_their_words() -> None:
    address = "https://example.org/" + "a" * 2_000
    expanded = render_markdown(f"[r]: {address}\n\n" + "[word][r] " * 4_500)
    assert len(expanded) < 3 * LINK_CHARS_MAX
    assert expanded.count("<a ") <= LINK_CHARS_MAX // len(address) + 1
    assert expanded.count("word") == 4_500  # every link's words are still there
    images = render_markdown(f"![pic]({address}) " * 200)
    assert len(images) < 3 * LINK_CHARS_MAX and images.count("pic") == 200
    assert render_markdown("[guide](https://example.org/g)").count("<a ") == 1


def test_reference_definitions_are_found_as_the_renderer_finds_them() -> None:
    assert without_definitions("[r]: x\n" * 3 + "Hello.") == "Hello."
    shown = "Some text\n[too junior]: /x"  # after a paragraph: shown as text
    assert without_definitions(shown) == shown
    assert without_definitions("See [1].\n\n[1]: https://e.org\n") == "See [1].\n\n"
