"""Markdown to sanitised HTML. markdown-it renders (raw HTML off; bare URLs, www. addresses
and e-mail addresses become links through linkify-it-py); nh3 (ammonia) sanitises, keeps
http, https and mailto links only and marks every link rel="nofollow noopener ugc"."""

from __future__ import annotations

import asyncio
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import nh3
from linkify_it import LinkifyIt
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.rules_block import table as _table_rule
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markupsafe import Markup

# Longer runs of non-space are never made links: linkify-it's patterns can take quadratic
# time on crafted runs (20,000 characters of "https://x.y/(((" took a second), so each call
# sees one bounded word and rendering stays linear in the post's length.
LINKIFY_MAX_WORD = 500
_WORD = re.compile(r"\S+")


class BoundedLinkify:
    """linkify-it as the linkify rule below calls it, one whitespace-free word of at most
    LINKIFY_MAX_WORD characters at a time (a URL has no spaces, so no link is missed)."""

    def __init__(self, inner: LinkifyIt) -> None:
        self._inner = inner

    def _words(self, text: str) -> Iterator[re.Match[str]]:
        return (w for w in _WORD.finditer(text) if len(w.group()) <= LINKIFY_MAX_WORD)

    def pretest(self, text: str) -> bool:
        return bool(self._inner.pretest(text))

    def match(self, text: str) -> list[Any] | None:
        found: list[Any] = []
        for word in self._words(text):
            for link in self._inner.match(word.group()) or []:
                link.index += word.start()
                link.last_index += word.start()
                found.append(link)
        return found or None


_md = MarkdownIt("commonmark", {"html": False, "linkify": True, "typographer": False}).enable(
    ["table", "strikethrough", "linkify"]
)
# Excerpts (plain text for lists) need no links and no tables: a table pads every row to its
# header's width, so 4,000 characters of one-pipe rows under a wide header rendered for half a
# second, on every view of a list that showed the post (a member's profile). Without the table
# rule its pipes read as the text they are.
_excerpt_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_excerpt_md.enable(["strikethrough"])
_linkify = BoundedLinkify(LinkifyIt())
# What bare text may become a link to (fuzzy "www.example.org" has no schema): the schemes
# the sanitiser keeps, so no link is left without its address.
_LINKED_SCHEMAS = {"", "http:", "https:", "mailto:"}


def _link_tokens(state: StateCore, token: Token, after_escape: bool) -> list[Token]:
    """`token` (text) split into text and links around the URLs linkify finds in it."""
    links = _linkify.match(token.content) or []
    if links and after_escape and links[0].index == 0:
        links = links[1:]  # "http\://x" is not a link
    out: list[Token] = []
    text, done, level = token.content, 0, token.level
    md = state.md
    for link in links:
        href = md.normalizeLink(link.url)
        if link.schema not in _LINKED_SCHEMAS or not md.validateLink(href) or link.index < done:
            continue
        if link.schema == "":  # example.org: shown as written, linked as http://
            label = md.normalizeLinkText("http://" + link.text).removeprefix("http://")
        elif link.schema == "mailto:" and not link.text.lower().startswith("mailto:"):
            label = md.normalizeLinkText("mailto:" + link.text).removeprefix("mailto:")
        else:
            label = md.normalizeLinkText(link.text)
        label = _plain_host(label, href)
        if link.index > done:
            out.append(_text(text[done : link.index], level))
        opening = Token("link_open", "a", 1, attrs={"href": href}, markup="linkify", info="auto")
        opening.level = level
        out += [opening, _text(label, level + 1)]
        closing = Token("link_close", "a", -1, markup="linkify", info="auto")
        closing.level = level
        out.append(closing)
        done = link.last_index
    if not out:
        return [token]
    if done < len(text):
        out.append(_text(text[done:], level))
    return out


# Scripts with letters that pass for Latin ones ("аpple.com" with a Cyrillic "а"): a host
# written in them, or in more than one script, is shown as its ASCII (punycode) form, as
# browsers do, so a link cannot pose as another site's.
_CONFUSABLE_SCRIPTS = {"CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU"}


def _plain_host(label: str, href: str) -> str:
    """`label` (a bare link as shown) with its host in ASCII when the Unicode form could be
    mistaken for another host."""
    try:
        host = (urllib.parse.urlsplit(href).hostname or "").rstrip(".")
        shown = host.encode("ascii").decode("idna")
    except (UnicodeError, ValueError):
        return label
    if shown == host:
        return label
    for part in shown.split("."):  # each label in one script, and not a confusable one
        scripts = {unicodedata.name(ch, "?").split(" ")[0] for ch in part if ch.isalpha()}
        if len(scripts) > 1 or scripts & _CONFUSABLE_SCRIPTS:
            return re.sub(re.escape(shown), host, label, flags=re.I)
    return label


def _text(content: str, level: int) -> Token:
    token = Token("text", "", 0, content=content)
    token.level = level
    return token


def _map_text_outside_links(
    children: list[Token], replace: Callable[[Token, list[Token]], list[Token]]
) -> list[Token]:
    """An inline block's tokens with each text token outside a link replaced by
    `replace(token, tokens so far)`, in one pass."""
    out: list[Token] = []
    in_link = 0
    for token in children:
        if token.type == "link_open":
            in_link += 1
        elif token.type == "link_close":
            in_link -= 1
        if token.type == "text" and not in_link:
            out += replace(token, out)
        else:
            out.append(token)
    return out


def _linkify_rule(state: StateCore) -> None:
    """Bare URLs in text become links (not inside a link already). Each inline block's
    tokens are rebuilt in one pass: markdown-it's own rule splices a list per link found,
    quadratic in the number of links, and its inline rule scans all pending text per "://"."""
    for block in state.tokens:
        if block.type != "inline" or not block.children or not _linkify.pretest(block.content):
            continue
        out = _map_text_outside_links(
            block.children,
            lambda token, out: _link_tokens(
                state, token, bool(out) and out[-1].type == "text_special"
            ),
        )
        block.children = out


_md.core.ruler.at("linkify", _linkify_rule)
_md.inline.ruler.disable("linkify")

# What one document may expand to. Markdown can make a short post a huge page: a pipe table
# pads every row to its header's width (20 KB became 0.7 MB, and a line that starts a new,
# wider table inside the same block 8.6 MB, rendering for 12 s and holding every write), and
# one link reference with a long address, used thousands of times, repeats the address in
# every link (20 KB became 8.8 MB). Past these budgets the rest renders as plain text: tables
# (their lines as text), and links and images (their words, without the address).
TABLE_CELLS_MAX = 5_000
LINK_CHARS_MAX = 50_000


def _bounded_table(state: Any, start: int, end: int, silent: bool) -> bool:
    """markdown-it's table rule within the document's budget of cells: a table that could
    take it past TABLE_CELLS_MAX (its columns times its lines up to the next blank one, an
    upper bound) is left as text, and the most it would have taken the document to is noted
    in the environment (`too_many_cells` refuses such a text up front)."""
    if silent or start + 1 >= end:
        return bool(_table_rule(state, start, end, silent))
    spent = int(state.env.get("table_cells", 0))
    rule = state.src[state.bMarks[start + 1] + state.tShift[start + 1] : state.eMarks[start + 1]]
    if "-" not in rule or "|" not in rule + _line(state, start):
        return False
    columns = rule.strip().strip("|").count("|") + 1
    blank = state.env.get("next_blank")
    if blank is None:  # the first blank line at or after each line, found once per document
        lines = state.src.split("\n")
        blank = [len(lines)] * (len(lines) + 1)
        for i in range(len(lines) - 1, -1, -1):
            blank[i] = i if not lines[i].strip(" \t>") else blank[i + 1]
        state.env["next_blank"] = blank
    cells = (min(blank[start], end) - start) * columns + spent
    if cells > TABLE_CELLS_MAX:
        state.env["table_cells_refused"] = max(cells, int(state.env.get("table_cells_refused", 0)))
        return False
    found = bool(_table_rule(state, start, end, silent))
    if found:
        state.env["table_cells"] = cells
    return found


def _line(state: Any, n: int) -> str:
    return str(state.src[state.bMarks[n] + state.tShift[n] : state.eMarks[n]])


def _bounded_links(state: StateCore) -> None:
    """Links and images past LINK_CHARS_MAX of addresses and titles in one document become
    their words alone."""
    spent = 0
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        dropped = 0  # link_open tokens dropped, whose link_close must go too
        for token in block.children:
            if token.type in ("link_open", "image"):
                key = "href" if token.type == "link_open" else "src"
                spent += len(str(token.attrGet(key) or "")) + len(str(token.attrGet("title") or ""))
                if spent > LINK_CHARS_MAX:
                    if token.type == "link_open":
                        dropped += 1
                    else:  # an image's words: its alt text
                        out += [t for t in token.children or [] if t.type == "text"]
                    continue
            elif token.type == "link_close" and dropped:
                dropped -= 1
                continue
            out.append(token)
        block.children = out


_md.block.ruler.at("table", _bounded_table, {"alt": ["paragraph", "reference"]})
_md.core.ruler.push("bounded_links", _bounded_links)


def _image_as_link(self: Any, tokens: list[Token], idx: int, options: Any, env: Any) -> str:
    """Images are not shown on the board (no tracking pixels, no layout from strangers): an
    image becomes a link to it, named by its alt text, so nothing the writer meant vanishes."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    src = escapeHtml(str(token.attrGet("src") or ""))
    return f'<a href="{src}">{escapeHtml(f"{alt} (image)" if alt else "image")}</a>'


_md.add_render_rule("image", _image_as_link)

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h1", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _mention_tokens(token: Token, links: Mapping[str, str]) -> list[Token]:
    """`token` (text) split into text and links around the @mentions of known members."""
    out: list[Token] = []
    text, done, level = token.content, 0, token.level
    for match in _MENTION.finditer(text):
        name = match.group(1).rstrip(".")
        href = links.get(name.lower())
        if href is None:
            continue
        if match.start() > done:
            out.append(_text(text[done : match.start()], level))
        opening = Token("link_open", "a", 1, attrs={"href": href}, markup="mention")
        opening.level = level
        closing = Token("link_close", "a", -1, markup="mention")
        closing.level = level
        out += [opening, _text("@" + name, level + 1), closing]
        done = match.start() + 1 + len(name)
    if not out:
        return [token]
    if done < len(text):
        out.append(_text(text[done:], level))
    return out


def _link_mentions(tokens: list[Token], links: Mapping[str, str]) -> None:
    """@name in plain text becomes a link to the member's page when `links` knows the name:
    never in code (code spans and blocks are not text tokens), in a link, or in a quote (a
    quote repeats someone else's words, as `mentioned_names` reads them)."""
    quoted = 0
    for block in tokens:
        if block.type == "blockquote_open":
            quoted += 1
        elif block.type == "blockquote_close":
            quoted -= 1
        if block.type != "inline" or quoted or not block.children or "@" not in block.content:
            continue
        block.children = _map_text_outside_links(
            block.children,
            lambda token, _out: _mention_tokens(token, links) if "@" in token.content else [token],
        )


def render_markdown(source: str, mentions: Mapping[str, str] | None = None) -> str:
    """`source` as sanitised HTML; `mentions` maps lowercased usernames to the address of the
    member's page, for the @mentions to link (names it lacks stay text)."""
    if mentions:
        env: dict[str, Any] = {}
        tokens = _md.parse(source, env)
        _link_mentions(tokens, mentions)
        html = _md.renderer.render(tokens, _md.options, env)
    else:
        html = _md.render(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener ugc",
    )


# Characters that render as nothing or reorder text; they let "a\u200bdmin" pose as "admin".
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def counted(n: int, one: str, many: str | None = None) -> str:
    """`n` with its noun: singular for exactly one, else `many` (or `one` with an "s"):
    "1 pair", "3 pairs", "2 participants were". Templates have it as `counted`."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def clean_line(value: str) -> str:
    """One line of user text (titles, names, locations): normalised, no controls, trimmed."""
    value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value)
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C")
    return " ".join(value.split())


def clean_block(value: str) -> str:
    """Multi-line user text (post bodies, bios): normalised newlines, no other controls."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    # Line and paragraph separators are line breaks to readers and to every check.
    value = unicodedata.normalize("NFC", value.replace("\u2028", "\n").replace("\u2029", "\n"))
    value = _INVISIBLE.sub("", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return value.strip()


def quote_markdown(author: str, source: str) -> str:
    lines = source.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"> **{author}** wrote:\n>\n{quoted}\n\n"


# An excerpt reads at most this much of a post's source: it shows a line or two. Markdown's
# inline rules cost up to ~15 µs a character on crafted text ("![" over and over), and a
# profile lists eight excerpts on every view: 4,000 characters each took 0.85 s for ten posts.
EXCERPT_SOURCE_MAX = 800
_TAG = re.compile(r"<[^>]*>")
_INLINE_TAG = re.compile(r"</?(?:a|strong|em|b|i|s|del|code|span|mark|sub|sup)(?:\s[^>]*)?>")


def too_many_cells(source: str) -> str | None:
    """Why `source` is refused for its tables (they would pass TABLE_CELLS_MAX, as the
    renderer's own table rule counts them), or None. A post, message or bio is refused with
    this reason rather than shown with its tables as text (see _bounded_table)."""
    if "|" not in source:
        return None
    env: dict[str, Any] = {}
    _md.block.parse(source, _md, env, [])
    cells = int(env.get("table_cells_refused", 0))
    if not cells:
        return None
    return (
        f"Its tables would have {cells:,} cells; at most {TABLE_CELLS_MAX:,} are allowed "
        "(every row has as many cells as the header). Shorten or split them."
    )


def without_definitions(source: str) -> str:
    """`source` without its link reference definitions ("[r]: /x"), which the page shows as
    nothing, found as the renderer finds them: the lines no top-level block covers (a line
    that only looks like one, after a paragraph say, shows as text and is kept). A definition
    with a title leaves its title in its place: the page shows it, as the link's tooltip."""
    if "]:" not in source:
        return source
    covered = bytearray(source.count("\n") + 1)
    env: dict[str, Any] = {}
    for token in _md.parse(source, env):
        if token.level == 0 and token.map:
            covered[token.map[0] : token.map[1]] = b"\x01" * (token.map[1] - token.map[0])
    lines = source.split("\n")
    if all(covered[i] or not line.strip() for i, line in enumerate(lines)):
        return source
    titles = {
        ref["map"][0]: ref["title"]
        for ref in env.get("references", {}).values()
        if ref.get("title") and ref.get("map")
    }
    return "\n".join(
        line if covered[i] or not line.strip() else titles[i]
        for i, line in enumerate(lines)
        if covered[i] or not line.strip() or i in titles
    )


def excerpt(source: str, length: int = 160) -> str:
    """The start of a post as members read it, as plain text (for lists; the page escapes it):
    its Markdown rendered and the tags dropped, so "t&#111;&#111;" reads "too" and a link
    its words, not its address."""
    rendered = _excerpt_md.render(source[:EXCERPT_SOURCE_MAX])
    # Inline tags join what they mark to its neighbours ("<strong>Hmm</strong>, too" reads
    # "Hmm, too"); others part words.
    rendered = _INLINE_TAG.sub("", rendered)
    text = " ".join(html.unescape(_TAG.sub(" ", rendered)).split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def own_excerpt(source: str, length: int = 160) -> str:
    """The excerpt of what a member wrote themselves: quoted lines left out (a profile's
    recent posts showed another member's quoted words under the member's name), unless the
    post is nothing but a quote."""
    own = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(">"))
    return excerpt(own if own.strip() else source, length)


# `@name` where a username may start (not inside a word, an address or a path); usernames are
# 3-30 of letters, digits and `_.-` (forum.accounts.services.USERNAME_RE).
_MENTION = re.compile(r"(?<![\w@/.+-])@([A-Za-z0-9][A-Za-z0-9_.-]{2,29})")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1")
_QUOTE_HEADER = re.compile(r"^> \*\*([^*\n]{1,40})\*\* wrote:\s*$")


def _plain_lines(source: str) -> list[str]:
    """The lines a member wrote themselves: not in fenced or indented code, not quoted; inline
    code spans blanked."""
    lines: list[str] = []
    fence = ""
    for line in source.splitlines():
        opened = _FENCE.match(line)
        if fence:
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence = ""
            continue
        if opened:
            fence = opened.group(1)
            continue
        if line.startswith(("    ", "\t")) or line.lstrip().startswith(">"):
            continue
        lines.append(_CODE_SPAN.sub(" ", line))
    return lines


def mentioned_names(source: str) -> list[str]:
    """Usernames @mentioned in a post's Markdown, lowercased, each once, in order of first
    mention; mentions inside code or quoted text do not count (a quote repeats someone else's)."""
    seen: dict[str, None] = {}
    for line in _plain_lines(source):
        for match in _MENTION.finditer(line):
            seen.setdefault(match.group(1).rstrip(".").lower(), None)
    return [name for name in seen if len(name) >= 3]


def quoted_names(source: str) -> list[str]:
    """Authors of the quotes in a post (the quote button's "> **name** wrote:" header),
    lowercased, each once."""
    seen: dict[str, None] = {}
    for line in source.splitlines():
        header = _QUOTE_HEADER.match(line)
        if header:
            seen.setdefault(header.group(1).strip().lower(), None)
    return list(seen)


async def preview_html(body: str, mentions: Mapping[str, str] | None = None) -> Markup:
    """A post as it will look: rendered and sanitised as it will be stored, its @mentions of
    members (`mentions`, as `render_markdown` takes them) linked (pure Python work on up to a
    post's length, so in a thread)."""
    html_ = await asyncio.to_thread(render_markdown, clean_block(body), mentions)
    return Markup(html_)  # sanitised by nh3 in render_markdown
