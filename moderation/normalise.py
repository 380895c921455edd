"""Text as the classifiers read it, with the usual disguises undone.

A put-down written with look-alike letters from another script ("yоu're tоо juniоr", the o's
Cyrillic), digits between letters ("jun10r"), styled letters ("𝘵𝘰𝘰 𝘫𝘶𝘯𝘪𝘰𝘳", fullwidth),
letters spaced out ("t o o  j u n i o r", "j.u.n.i.o.r"), character references
("t&#111;&#111;") or Markdown emphasis inside words ("j*uni*or") reads to a member as the plain
words, but not to a tokenizer or a pattern. The text shown to members is never changed; only
what the stages score is.

`fold` maps character for character, so offsets into the folded text are offsets into the
post: the cue checker matches on it and its evidence still marks what the member wrote.
`for_model` also reads character references, drops emphasis marks, code fences and emoji,
splits hashtag-style words and joins spaced-out letters, which changes the length: the models,
which report no spans, read that. Both are linear in the text's length. Pure Python: the web
process uses `fold` through the composer's nudge.
"""

from __future__ import annotations

import base64
import binascii
import html
import math
import re
import unicodedata
import urllib.parse
from collections.abc import Iterator

from forum.core.text import without_definitions
from moderation import vocabulary

# Letters of other scripts that look like Latin ones, as they are used to disguise words.
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k",
    "ӏ": "l", "м": "m", "п": "n", "о": "o", "р": "p", "ԛ": "q", "г": "r", "ѕ": "s", "т": "t",
    "у": "y", "х": "x", "ԝ": "w", "ё": "e", "ї": "i",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ԝ": "W",
    # Greek
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
    "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian
    "Ս": "U", "Օ": "O", "Լ": "L", "ո": "n", "ս": "u", "օ": "o", "հ": "h", "ց": "g", "զ": "q",
}  # fmt: skip
_LOOKALIKE_TABLE = str.maketrans(_LOOKALIKES)
# Latin letters that stand for plain ones (small capitals have no compatibility mapping):
# folded wherever they are.
_LATIN_VARIANT_LETTERS = {
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s",
    "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    "ı": "i", "ȷ": "j", "ɡ": "g", "ɑ": "a",
}  # fmt: skip
# Cherokee letters that look like Latin capitals (Unicode's confusables), and their small
# forms: folded wherever they are, as a board in English sees Cherokee only as a disguise (a
# probe published "ᎩᏫՍ'ᎡᎬ ᏔᏫᏫ ᎫՍΝᏆᏫᎡ…" unflagged).
_CHEROKEE = {
    "Ꭰ": "D", "Ꭱ": "R", "Ꭲ": "T", "Ꭵ": "I", "Ꭹ": "Y", "Ꭺ": "A", "Ꭻ": "J", "Ꭼ": "E",
    "Ꮃ": "W", "Ꮇ": "M", "Ꮋ": "H", "Ꮐ": "G", "Ꮒ": "h", "Ꮓ": "Z", "Ꮖ": "I", "Ꮟ": "b",
    "Ꮢ": "R", "Ꮤ": "W", "Ꮥ": "S", "Ꮩ": "V", "Ꮪ": "S", "Ꮮ": "L", "Ꮯ": "C", "Ꮲ": "P",
    "Ꮶ": "K", "Ꮷ": "d", "Ꮻ": "O", "Ᏼ": "B",
}  # fmt: skip
_LATIN_VARIANT_LETTERS.update(_CHEROKEE)
# Lisu letters that look like Latin capitals (Unicode's confusables), folded the same way: an
# eighteenth-session probe wrote "ꓬꓳꓴ'ꓣꓰ ꓔꓳꓳ ꓙꓴꓠꓲꓳꓣ" in them.
_LATIN_VARIANT_LETTERS.update(
    dict(zip("ꓮꓐꓚꓓꓰꓝꓖꓧꓲꓙꓗꓡꓟꓠꓳꓑꓣꓢꓔꓴꓦꓪꓫꓬꓜ", "ABCDEFGHIJKLMNOPRSTUVWXYZ", strict=True))
)
_LATIN_VARIANT_LETTERS.update(
    {c.lower(): v.lower() for c, v in _CHEROKEE.items() if c.lower() != c and v.isupper()}
)
_LATIN_VARIANTS = str.maketrans(_LATIN_VARIANT_LETTERS)
_LATIN_VARIANT_KEYS = frozenset(_LATIN_VARIANT_LETTERS)
# Digits written for letters between letters ("y0u", "jun10r", "g3t"). A digit at a word's
# end or start is a code or a quantity ("PS4", "CS101", "3rd", "20yrs"), as is a word with
# another digit in it ("F2B705", "A380") or in capitals ("H1B"): those are kept.
_LEET_TABLE = str.maketrans("013457", "oieast")
_LEET_WORD = re.compile(r"(?<![\w'’])(?=[^\W\d_])[\w'’]*[a-zA-Z][013457]+[a-zA-Z][\w'’]*")
_LEET_RUN = re.compile(r"(?<=[a-zA-Z])[013457]+(?=[a-zA-Z])")
_LEET_TAIL = re.compile(r"(?<!\w)([a-z]{1,4})([013457]{1,3})(?!\w)")
_WORD = re.compile(r"\w+")
# Three or more single letters or digits, each followed by the same separator: "t o o",
# "j.u.n.i.o.r", "j-u-n-i-o-r". Spaced-out words are kept apart by two or more spaces.
_SPACED = re.compile(r"(?<![\w'’])([\w'’])([ .\-_*·•|/])(?:[\w'’]\2){1,}[\w'’](?![\w'’])")
# (Possessive, and starting only at a run's first letter: "a a a a b " said 4,000 times took
# 8 s of the worker's time when every letter could start a match and backtrack through the run.)
_SPACED_WORDS = re.compile(
    r"(?<![\w'’])(?<!(?<![\w'’])[\w'’] )[\w'’](?: [\w'’]){2,}+(?:  +[\w'’](?: [\w'’])*+)+"
)


# The Enclosed Alphanumeric Supplement's capitals, 26 from each of these (parenthesised,
# squared, black circled, black squared).
_BOXED_STARTS = (0x1F110, 0x1F130, 0x1F150, 0x1F170)


# Braille's letters (six-dot patterns, as Unicode writes them), its apostrophe, and its capital
# sign (which stands before a capital letter) as a blank.
_BRAILLE = dict(
    zip(
        "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵⠄⠠",
        "abcdefghijklmnopqrstuvwxyz' ",
        strict=True,
    )
)


def _styled(ch: str) -> str:
    """A styled letter (fullwidth, mathematical bold or italic, circled) as its plain letter,
    where Unicode's compatibility mapping gives exactly one character; a Latin letter with
    marks on it ("juńior", "tḣis") as the letter under them."""
    if ch.isascii():
        return ch
    for start in _BOXED_STARTS:
        if start <= ord(ch) < start + 26:
            # Letters in squares and circles, white or black ("🆈🅾🆄", "🅨🅞🅤"), which have
            # no compatibility mapping: a probe's put-down in them read as blanks.
            return chr(ord("A") + ord(ch) - start)
    if 0x249C <= ord(ch) <= 0x24B5:  # parenthesised small letters, "⒴⒪⒰"
        return chr(ord("a") + ord(ch) - 0x249C)
    if 0x1F1E6 <= ord(ch) <= 0x1F1FF:
        # Regional-indicator letters ("🇹🇴🇴 🇯🇺🇳🇮🇴🇷"), which pair into flags where a
        # pair names a country: a probe's put-down in them read as blanks.
        return chr(ord("A") + ord(ch) - 0x1F1E6)
    if ch in _BRAILLE:  # Braille's letters ("⠞⠕⠕ ⠚⠥⠝⠊⠕⠗")
        return _BRAILLE[ch]
    plain = unicodedata.normalize("NFKC", ch)
    if len(plain) != 1:
        return ch
    if not plain.isascii() and plain.isalpha():
        base = unicodedata.normalize("NFD", plain)
        if base[0].isascii() and all(unicodedata.combining(mark) for mark in base[1:]):
            return base[0]
    return plain


# Apostrophes and single quotation marks as the straight one: phones and word processors type
# "you’re", which the tokenizer and the cues read apart from "you're".
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‛": "'", "′": "'", "ʹ": "'"})
# What shows as nothing inside a word and is not stored away with the other invisible
# characters (forum.core.text): variation selectors, the combining grapheme joiner, Hangul
# fillers and the rest of Unicode's default-ignorable characters. "jun\ufe0fior" shows as
# "junior". (Emoji carry variation selectors too; the models read no emoji.)
_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# A blank that is not a space character ("too\u2800junior"): read as a space.
_BLANKS = str.maketrans({"\u2800": " "})


def _latin_base(ch: str) -> bool:
    """Whether `ch` reads as a Latin letter or a digit (with marks on it or not, or a look-alike
    of one): marks stacked on it show as decoration of that letter ("jun1\u0301or")."""
    if ch.isascii():
        return ch.isalnum()
    base = unicodedata.normalize("NFD", _styled(ch))[0]
    return (base.isascii() and base.isalnum()) or ch in _LOOKALIKES or ch in _LATIN_VARIANT_KEYS


# A character reference ("&#106;", "&#x6a;", "&rsquo;"), which the page shows as its character.
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def _characters(text: str) -> Iterator[tuple[str, int]]:
    """Each character `text` shows, with where it was written: a character reference as the
    character it stands for, at the reference's start."""
    at = 0
    if "&" in text:
        for m in _REFERENCE.finditer(text):
            for i in range(at, m.start()):
                yield text[i], i
            shown = html.unescape(m.group(0))
            if shown == m.group(0):  # not a reference the page reads
                for i in range(m.start(), m.end()):
                    yield text[i], i
            else:
                for ch in shown:
                    yield ch, m.start()
            at = m.end()
    for i in range(at, len(text)):
        yield text[i], i


# Upside-down ("turned") writing: "ʇǝƃ oʇ ɹoıunɾ ooʇ ǝɹ,noʎ" is read by turning the page. The
# turned letters that Latin text never holds mark a line as such; the line is then read back
# (each character turned back, right to left). ASCII letters that are other letters turned
# (n/u, p/d, b/q, M/W) are turned back only on such a line.
_TURNED = {
    "ɐ": "a",
    "ɔ": "c",
    "ǝ": "e",
    "ˌ": "'",
    "ə": "e",
    "ɟ": "f",
    "ƃ": "g",
    "ɓ": "g",
    "ɥ": "h",
    "ı": "i",
    "ᴉ": "i",
    "ɾ": "j",
    "ʞ": "k",
    "ן": "l",
    "ɯ": "m",
    "ɹ": "r",
    "ɹ̣": "r",
    "ʇ": "t",
    "ʌ": "v",
    "ʍ": "w",
    "ʎ": "y",
    "∀": "A",
    "Ɔ": "C",
    "Ǝ": "E",
    "Ⅎ": "F",
    "⅁": "G",
    "ſ": "J",
    "˥": "L",
    "⅂": "L",
    "Ԁ": "P",
    "ᴚ": "R",
    "⊥": "T",
    "┴": "T",
    "∩": "U",
    "Λ": "V",
    "⅄": "Y",
    "Ɩ": "1",
    "ᄅ": "2",
    "↊": "2",
    "Ɛ": "3",
    "↋": "3",
    "ㄣ": "4",
    "ϛ": "5",
    "ㄥ": "7",
    "˙": ".",
    "¿": "?",
    "¡": "!",
    "„": '"',
    "‾": "_",
    "⅋": "&",
}
_TURNED_ASCII = {"n": "u", "u": "n", "p": "d", "d": "p", "b": "q", "q": "b", "M": "W", "W": "M",
                 "6": "9", "9": "6", ",": "'", "'": ",", "(": ")", ")": "(", "[": "]", "]": "[",
                 "{": "}", "}": "{", "<": ">", ">": "<"}  # fmt: skip
_TURNED_ONLY = frozenset(_TURNED) - {"ə", "ı"}  # (letters of Azerbaijani and Turkish)
TURNED_MIN = 3  # distinct turned-only characters that mark a line as upside down


def _turned_back(chars: list[str], where: list[int]) -> None:
    """Each upside-down line of `chars` (with `where`, its offsets) read back, in place."""
    start = 0
    while start < len(chars):
        try:
            end = chars.index("\n", start)
        except ValueError:
            end = len(chars)
        line = chars[start:end]
        turned = {ch for ch in line if ch in _TURNED_ONLY}
        letters = sum(1 for ch in line if ch.isalpha())
        if len(turned) >= TURNED_MIN and 5 * sum(ch in _TURNED for ch in line) >= letters:
            read = [_TURNED.get(ch, _TURNED_ASCII.get(ch, ch)) for ch in line]
            # Written right to left as a turned page shows it, or (a probe's) in reading
            # order with each letter turned: whichever reads as more words.
            if _known_words("".join(read[::-1])) >= _known_words("".join(read)):
                read, where[start:end] = read[::-1], where[start:end][::-1]
            chars[start:end] = read
        start = end + 1


_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]{0,10})([ \t][^<>\n]{0,200})?/?>")
# The names of HTML's elements: a tag of one of these reads as no word (it joins "ju<b>ni</b>or").
# Any other "<word>" is read as its word: the page shows it as typed ("You're too <junior> to get
# this" passed every check, an attacker probe's).
_HTML_ELEMENTS = frozenset(
    "a abbr acronym address area article aside audio b base bdi bdo big blink blockquote body "
    "br button canvas caption center cite code col colgroup data datalist dd del details dfn "
    "dialog dir div dl dt em embed fieldset figcaption figure font footer form frame frameset h1 "
    "h2 h3 h4 h5 h6 head header hgroup hr html i iframe img input ins kbd label legend li link "
    "main map mark marquee menu meta meter nav nobr noscript object ol optgroup option output p "
    "param picture pre progress q rp rt ruby s samp script search section select slot small "
    "source span strike strong style sub summary sup table tbody td template textarea tfoot th "
    "thead time title tr track tt u ul var video wbr".split()
)
_ATTRIBUTE_SYNTAX = re.compile(r"[A-Za-z_:][-\w:.]{0,30}\s*=\s*[\"']?|\"")
# Tags a browser shows as a break between words (a block, a line break, a cell): read as a
# space. "<summary>My honest view</summary>You're too junior" had read "viewYou're".
_BREAKING_TAGS = frozenset(
    "address article aside blockquote br caption dd details dialog div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr legend li main nav ol p pre "
    "section summary table tbody td tfoot th thead tr ul".split()
)


def as_shown(text: str) -> tuple[str, list[int] | None]:
    """`text` as the page shows its characters: character references read ("too &#x6a;unior"),
    without the characters that show as nothing (_IGNORABLE, and marks stacked on a Latin
    letter beyond what `fold` takes off: "jun\u0301\u0301ior"), with where each character
    was written in `text` (None when it is `text` unchanged), so that a span found in the
    result maps back to what was written; upside-down lines read back (_TURNED), HTML tags
    left out (_TAG). Linear in the text's length."""
    if text.isascii() and "&" not in text and "<" not in text:
        return text, None
    kept: list[str] = []
    where: list[int] = []
    # An HTML tag, which the page shows as typed (Markdown's HTML is escaped), reads as no
    # word: "you're too <b>ju</b>nior" is read "you're too junior".
    # A tag that breaks the line reads as a space.
    found = list(_TAG.finditer(text)) if "<" in text else []
    matches = [m for m in found if m.group(1).lower() in _HTML_ELEMENTS]
    # Not an element's name: its marks read as spaces, its words in place.
    marks = {
        i
        for m in found
        if m.group(1).lower() not in _HTML_ELEMENTS
        for i in range(m.start(), m.end())
        if text[i] in "<>/"
    }
    tags = [(*m.span(), m.group(1).lower() in _BREAKING_TAGS) for m in matches]
    # But what is written inside a tag after its name shows too: "<note You are too junior
    # to get this.>" had read as nothing (an attacker probe). Each tag's attribute text is
    # read again after the text, a line of its own.
    inside = [m.span(2) for m in matches if m.group(2) and m.group(2).strip()]
    tag = 0
    spaced = False  # the last kept character is a space a tag's mark made
    latin = False  # the last kept character is ASCII or a Latin letter (with or without marks)
    for ch, i in _characters(text):
        while tag < len(tags) and tags[tag][1] <= i:
            tag += 1
        if tag < len(tags) and tags[tag][0] <= i:
            if i == tags[tag][0] and tags[tag][2]:
                kept.append(" ")
                where.append(i)
            continue
        if _IGNORABLE.match(ch) or (latin and unicodedata.combining(ch)):
            continue
        if i in marks or (ch == " " and spaced):
            # (One space for a mark and the spaces beside it: "<You> <are>" reads "You are".)
            spaced = True
            if kept and not kept[-1].isspace():
                kept.append(" ")
                where.append(i)
            continue
        spaced = False
        kept.append(ch)
        where.append(i)
        # (After a space or an ASCII mark too: "y̶o̶u̶'̶r̶e̶ ̶t̶o̶o̶" strikes each character.)
        latin = ch.isascii() or _latin_base(ch)
    if not text.isascii() and any(ch in _TURNED_ONLY for ch in kept):
        _turned_back(kept, where)
    for start, end in inside:
        # (Attribute syntax, `title="` and its closing quote, reads as space: the words in
        # quotes had read as reported speech.)
        words, at = as_shown(_ATTRIBUTE_SYNTAX.sub(lambda m: " " * len(m[0]), text[start:end]))
        kept.append("\n")
        where.append(start)
        kept.extend(words)
        where.extend(start + (n if at is None else at[n]) for n in range(len(words)))
        kept.append("\n")
        where.append(end)
    if len(kept) == len(text) and all(i == n for n, i in enumerate(where)):
        shown = "".join(kept)
        return (text, None) if shown == text else (shown, where)
    return "".join(kept), where


def fold(text: str) -> str:
    """`text` with look-alike, styled and digit-for-letter disguises undone, character for
    character (the result has the same length)."""
    if text.isascii():
        folded = text
    else:
        folded = "".join(_styled(ch) for ch in text).translate(_LATIN_VARIANTS)
        folded = folded.translate(_APOSTROPHES).translate(_BLANKS)
        letters = sum(1 for ch in folded if ch.isalpha())
        latin = sum(1 for ch in folded if ch.isascii() and ch.isalpha())
        if latin * 2 >= letters:
            # Mostly Latin text: a Cyrillic or Greek look-alike in it is a disguise.
            folded = folded.translate(_LOOKALIKE_TABLE)
        else:
            # Text in another script keeps its letters; only words mixing scripts are folded.
            folded = _WORD.sub(
                lambda m: (
                    m.group(0).translate(_LOOKALIKE_TABLE)
                    if any(c.isascii() and c.isalpha() for c in m.group(0))
                    else m.group(0)
                ),
                folded,
            )
    unleeted = _LEET_WORD.sub(_unleet, folded)
    if unleeted != folded:
        # In a post that writes digits for letters, a short word ending in them too ("t00",
        # "th15", "'r3"): "y0u'r3 t00 jun10r t0 g3t th15".
        unleeted = _LEET_TAIL.sub(
            lambda m: m.group(1) + m.group(2).translate(_LEET_TABLE), unleeted
        )
        # ... and a word in capitals with four letters or more ("JUNI0R": a code such as
        # "H1B" keeps its digit).
        unleeted = _LEET_WORD.sub(_unleet_capitals, unleeted)
    folded = unleeted
    # Four words or more joined by one mark (or a pair of it) in place of spaces read as
    # words: probes' "you're·too·junior·to·get·this", "you're/too/junior", "You're|too|junior"
    # and "You're!too!junior!to!get!this" passed ("and/or" and "he/she/they" stay; hyphens,
    # full stops and underscores have rules of their own).
    folded = _JOINED.sub(lambda m: m.group(0).replace(m.group(1), " " * len(m.group(1))), folded)
    # Table pipes and footnote references ("[^1]") between the words of a phrase, as blanks:
    # "| You're too | junior to | get this |" and "too junior[^1] to get this" read as words.
    if "!" in folded or "|" in folded:
        # "!" or "|" between small letters stands for an "i" ("jun!or", "th|s").
        folded = _BANG_I.sub(_bang_or_blank, folded)
    if "|" in folded:
        folded = folded.replace("|", " ")
    if "[^" in folded:
        folded = _FOOTNOTE_REF.sub(lambda m: " " * len(m.group(0)), folded)
    # A link's title (shown when the pointer rests on the link) is read as words, not as a
    # quotation: '[ok](https://x "you're too junior to get this")'.
    if "](" in folded:
        folded = _LINK_TITLE.sub(lambda m: f"{m.group(1)} {m.group(3)} )", folded)
    # A link's (or an image's) words read on with the sentence around them, its brackets and
    # address as blanks: "You're too [junior](https://x) to get this" shows as the phrase.
    if "]" in folded:
        folded = _LINKED.sub(_link_words, folded)
    # A heading's marks ("# you're too" / "## junior to get this": two headings that read as
    # one sentence) and a phrase joined by hyphens ("you're-too-junior-to-get-this", five
    # words or more: "state-of-the-art" stays) read as blanks between its words.
    if "#" in folded:
        folded = _HEADING_MARK.sub(_blank, folded)
    if "-" in folded:
        folded = _HYPHENED.sub(lambda m: m.group(0).replace("-", " "), folded)
    # A phrase split into short list items ("- you're / - too junior / - to get this") shows
    # as a column of words: the items' marks are blanks, so it reads on as the phrase.
    if "\n" in folded:
        folded = _SHORT_ITEMS.sub(lambda m: _ITEM_MARK.sub(_blank, m.group(0)), folded)
    return folded


_FOOTNOTE_REF = re.compile(r"\[\^[^\]\s]{1,20}\]")


def _bang_or_blank(m: re.Match[str]) -> str:
    """ "!" or "|" between letters: an "i" when that makes the letters around it a word
    ("jun!or", "th|s"), else a blank between two words ("You're|too|junior", "Know|your
    place": a review found them read as one word "You'reitoo…" and passed)."""
    text, at = m.string, m.start()
    left = _LETTERS_BEFORE.search(text, max(0, at - 30), at)  # (a window: linear)
    right = _LETTERS_AFTER.match(text, at + 1)
    word = (left.group(0) if left else "") + "i" + (right.group(0) if right else "")
    return "i" if word.lower() in _ENGLISH else " "


_LETTERS_BEFORE = re.compile(r"[A-Za-z]{1,30}$")
_LETTERS_AFTER = re.compile(r"[A-Za-z]{1,30}")
_BANG_I = re.compile(r"(?<=[a-z])!(?=[a-z])|(?<=[a-z]{2})\|(?=[a-z])|(?<=[a-z])\|(?=[a-z]{2})")
_JOINED = re.compile(
    r"(?<![\w'])[A-Za-z']+(([^\w\s'.\-])\2?)[A-Za-z']+(?:\1[A-Za-z']+){2,}(?![\w'])"
)
# An inline link or image, "[words](address)" or "![words](address 'title')" (its title is
# read by _LINK_TITLE), and a reference link, "[words][ref]" or "[words][]": its opening, its
# words, then the rest up to the title or the end.
_LINKED = re.compile(
    r"(!?\[)([^\[\]\n]{1,300})(\]\([^()\s]{0,2000}(?:\)|(?=[ \t]))|\]\[[^\[\]\n]{0,40}\])"
)


def _link_words(m: re.Match[str]) -> str:
    opening, words, rest = m.groups()
    return " " * len(opening) + words + " " * len(rest)


_LINK_TITLE = re.compile(r"""(\]\([^\s()]{1,2000}[ \t]+)(["'])((?:(?!\2)[^\n()]){1,300})\2\)""")
# Three or more list items in a row, each of one to three words.
_ITEM = r"[ \t]*[-*+][ \t]+\S{1,30}(?:[ \t]+\S{1,30}){0,2}[ \t]*"
_SHORT_ITEMS = re.compile(rf"(?m)^{_ITEM}(?:\n{_ITEM}){{2,}}$")
_ITEM_MARK = re.compile(r"(?m)^[ \t]*[-*+](?=[ \t])")


_HEADING_MARK = re.compile(r"(?m)^[ \t]{0,3}#{1,6}(?=[ \t])")
_HYPHENED = re.compile(r"(?<![\w-])[A-Za-z']{2,}(?:-[A-Za-z']{2,}){4,}(?![\w-])")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


def _unleet(m: re.Match[str]) -> str:
    word = m.group(0)
    if any(ch in "2689" for ch in word) or not any(ch.islower() for ch in word):
        return word
    return _LEET_RUN.sub(lambda d: d.group(0).translate(_LEET_TABLE), word)


def _unleet_capitals(m: re.Match[str]) -> str:
    word = m.group(0)
    if any(ch in "2689" for ch in word) or sum(ch.isalpha() for ch in word) < 4:
        return word
    return _LEET_RUN.sub(lambda d: d.group(0).translate(_LEET_TABLE).upper(), word)


def _unleet_tail(m: re.Match[str]) -> str:
    return m.group(1) + m.group(2).translate(_LEET_TABLE)


def _join_words(m: re.Match[str]) -> str:
    return " ".join(part.replace(" ", "") for part in re.split(r"  +", m.group(0)))


# A code fence's own line ("```python"): what it fences is shown, and read.
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[^\n]*$", re.M)
# A word of three or more capitalised parts ("#YoureTooJuniorToGetThis") is read as words.
# (Possessive digits: "[0-9]+" repeated could split a run of digits every way, and a review
# found "a" + 27 digits + "_x" took 11 s, doubling with each digit.)
_CAMEL = re.compile(r"#?\b[A-Za-z][a-z']*(?:[A-Z][a-z']*|[0-9]++){2,}\b")
_HUMP = re.compile(r"(?<=[a-z'])(?=[A-Z0-9])|(?<=[0-9])(?=[A-Za-z])")
# Markdown emphasis, strike-through and code marks touching a word: "t**o**o j*uni*or" shows
# as "too junior", in part bold or italic.
_MARKS = re.compile(r"[*_~`]+(?=\w)|(?<=\w)[*_~`]+")


def _words(m: re.Match[str]) -> str:
    """A hashtag-style word as the words it runs together, as a sentence reads them (its
    "#" left out: "#TooJuniorToGetThis" is the phrase). A word in capitals ("YOU'RE") is
    left as it is."""
    word = m.group(0)
    if not any(c.islower() for c in word):
        return word
    parts = _HUMP.sub(" ", word.lstrip("#")).split(" ")
    return " ".join([parts[0], *(part.lower() for part in parts[1:])])


# A stock put-down written as its initials ("TJTGT. CBWYH20YI."): members who know the phrase
# read it whole, so the models read the phrase. Only these phrases' initials, in capitals.
_INITIALISED = (
    "you're too junior to get this", "too junior to get this", "too young to understand",
    "you're too young to understand", "come back when you have 20 years in",
    "come back when you've got 20 years in", "come back in 20 years",
    "leave it to the grown-ups", "you'll understand when you're older",
)  # fmt: skip


def _initials(phrase: str) -> str:
    return "".join(w if w.isdigit() else w[0] for w in re.findall(r"\d+|[a-z']+", phrase))


_INITIALS = {_initials(p).upper(): p for p in _INITIALISED}
_INITIALS_WORD = re.compile(r"\b[A-Z0-9]{4,12}\b")
# An e-mail address whose name spells out words ("youre.too.junior.to.get.this@x.com"), shown
# as written on the page: read as the words (three joins or more, as for a web address).
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]{1,64})(@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8})")
_EMAIL_JOIN = re.compile(r"[._+-]+")


def _email_words(m: re.Match[str]) -> str:
    name, domain = m.groups()
    if len(_EMAIL_JOIN.findall(name)) < 3:
        return m.group(0)
    return _EMAIL_JOIN.sub(" ", name) + " " + domain


# Base64 of a sentence ("WW91J3JlIHRvbyBqdW5pb3I…"): a member who decodes it reads the
# sentence. A run of 16 or more of its characters (standard or URL-safe alphabet) is read as
# what it decodes to when that is printable text with words (three or more spaces, mostly
# letters); identifiers, hashes and long words decode to bytes that are not.
_BASE64 = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/_-]{16,4000}={0,2}(?![\w+/=-])")
_DECODED_TEXT = re.compile(r"[A-Za-z][A-Za-z ,.'!?;:\-\d\n]*")


def _base64_words(m: re.Match[str]) -> str:
    token = m.group(0)
    if not any(c.isdigit() or c.isupper() for c in token) or not any(c.islower() for c in token):
        return token  # a word or a shouted word, not an encoding
    raw = token.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        decoded = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return token
    letters = sum(c.isalpha() for c in decoded)
    if decoded.count(" ") < 3 or letters < 0.6 * len(decoded) or not decoded.isprintable():
        return token
    return " " + decoded + " "


# Lines written to be decoded by the reader, each a probe's put-down that passed: ROT13 ("Lbh'er
# gbb whavbe gb trg guvf"), written backwards ("siht teg ot roinuj oot er'uoy", or each word
# backwards), and pig latin ("ou'reyay ootay uniorjay"). A line whose reading holds many more of
# English's commonest words than it does as written is read so.
_COMMON = frozenset(
    "a an the and or but to of in on at for with from by as is are was were be been have has "
    "had do does did you your you're i me my we our they them their he she it its this that "
    "not no so if when then than too very just get got back come go know can will would "
    "should could what who how why here there".split()
)
_LINE = re.compile(r"^[^\n]+$", re.MULTILINE)  # (each match starts a line: linear)
_LINE_WORD = re.compile(r"[A-Za-z']+")
_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_SENTENCE_START = re.compile(r"(?:^|[.!?] +)[A-Z]")
_PIG_WORD = re.compile(r"[A-Za-z']+(?:-[A-Za-z]{0,3})?ay\b", re.IGNORECASE)
_PIG_TOKEN = re.compile(r"[A-Za-z']+(?:-[A-Za-z']+)?")


def _common_words(line: str) -> int:
    return sum(w in _COMMON for w in re.findall(r"[a-z']+", line.lower()))


def _unpig(m: re.Match[str]) -> str:
    """A pig-latin word as the English word it most likely is: "ootay" "too", "uniorjay"
    "junior", "ou'reyay" "you're", "inyay" "in" (a word that began with a vowel); written
    with a hyphen ("oo-tay", "ou're-yay"), the letters moved are the ones after it."""
    word = m.group(0).lower()
    if "-" in word:
        rest, moved = word.rsplit("-", 1)
        moved = moved[:-2]
        if moved and moved not in ("w", "y", "h") and _VOCAB.get(moved + rest):
            return moved + rest
        # ("-yay", "-way", "-hay" also end a word that began with a vowel.)
        best = max((moved + rest, rest), key=lambda w: _VOCAB.get(w, 0))
        return best if _VOCAB.get(best) else m.group(0)
    stem = word[:-2]
    readings = [stem[:-1]] if stem[-1] in "wyh" else []
    for k in (1, 2, 3):
        if len(stem) > k and not any(c in "aeiou'" for c in stem[-k:]):
            readings.append(stem[-k:] + stem[:-k])
    best = max(readings, key=lambda word: _VOCAB.get(word, 0), default=stem)
    return best if _VOCAB.get(best) else m.group(0)


def _pig_latin(line: str) -> str:
    words = _PIG_TOKEN.findall(line)
    if sum(w.lower().endswith("ay") for w in words) < 0.6 * len(words):
        return line
    return _PIG_WORD.sub(_unpig, line)


_LINE_READINGS = (
    lambda line: line.translate(_ROT13),
    lambda line: line[::-1],
    lambda line: re.sub(r"\S+", lambda m: m.group(0)[::-1], line),
    _pig_latin,
)


def _read_line(m: re.Match[str]) -> str:
    line = m.group(0)
    words = len(_LINE_WORD.findall(line))
    if words < 3:
        return line
    needed = max(2, 0.3 * words, 3 * _common_words(line) + 1)
    # The reading with the most common words, and between two with as many (a line backwards
    # and its words each backwards hold the same words) the one whose capitals start sentences.
    read = max(
        (reading(line) for reading in _LINE_READINGS),
        key=lambda read: (_common_words(read), len(_SENTENCE_START.findall(read))),
    )
    return read if _common_words(read) >= needed else line


# Morse code ("-.-- --- ..- .----. .-. . / - --- ---"): letters apart by a space, words by a
# slash, a bar or a wider gap. A run of four codes or more is read as its letters when most of
# the words they spell are words ("- - - -", a rule in Markdown, spells none).
_MORSE = dict(
    zip(
        (
            ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- "
            "...- .-- -..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. "
            ".----. .-.-.- --..-- ..--.. -.-.-- -....-"
        ).split(),
        "abcdefghijklmnopqrstuvwxyz0123456789'.,?!-",
        strict=True,
    )
)
_MORSE_MARKS = str.maketrans("·•_−–—", ".-----")
_MORSE_RUN = re.compile(
    r"(?<![\w.·•_−–—-])[.·•_−–—-]{1,7}(?:(?:[ \t]+|[ \t]*[/|][ \t]*)[.·•_−–—-]{1,7}){3,}"
    r"(?![\w.·•_−–—-])"
)
_MORSE_GAP = re.compile(r"[ \t]*[/|][ \t]*|[ \t]{2,}")


def _morse_words(m: re.Match[str]) -> str:
    run = m.group(0).translate(_MORSE_MARKS)
    if "/" in run and re.search(r"[.\-]/[.\-]", run):
        # Letters apart by a slash, words by a space or two ("-.--/---/..-  -/---/---"), a
        # layout a probe used: the slash is the letters' gap there.
        run = re.sub(r"[ \t]+", " / ", run.strip()).replace(" / ", "\0").replace("/", " ")
        run = run.replace("\0", " / ")
    words = []
    for word in _MORSE_GAP.split(run):
        letters = [_MORSE.get(code) for code in word.split()]
        if not letters or None in letters:
            return m.group(0)
        words.append("".join(letters))  # type: ignore[arg-type]
    text = " ".join(words)
    if 2 * _known_words(text) < len(words) or not any(len(w) > 1 for w in words):
        return m.group(0)
    return " " + text + " "


_PERCENT_RUN = re.compile(r"(?<![\w'.%-])[\w'.-]*+(?:%[0-9A-Fa-f]{2}[\w'.-]*+){2,}")


def decoded(text: str) -> str:
    """`text` with base64 runs, Morse code and lines in ROT13, backwards or in pig latin read
    as the sentences they encode (what a member who decodes them reads); linear in the text's
    length."""
    if "%" in text:
        # Percent-escapes outside a web address ("you%27re%20too%20junior"), two or more in
        # a run: read as the characters they stand for.
        text = _PERCENT_RUN.sub(lambda m: urllib.parse.unquote(m.group(0)), text)
    if len(text) >= 16:
        text = _BASE64.sub(_base64_words, text)
    text = _MORSE_RUN.sub(_morse_words, text)
    if text.isascii():
        text = _LINE.sub(_read_line, text)
    return text


# Struck-through words ("~~not~~"), which members read as withdrawn: a struck denial is read
# as gone, so "You're ~~not~~ too junior to get this." and "~~Not saying~~ you're too junior"
# read as the put-downs members see (probes published both). Other struck words stay, as
# members can still read them ("~~you're too junior~~ welcome aboard!").
_STRUCK = re.compile(r"~~(?=[^\s~])([^~\n]{1,80}?)~~")
_DENIAL = re.compile(
    r"\b(?:not|never|no|nobody|none|hardly|(?:just\s+)?kidding|joking)\b|n't\b|\bsaying\b", re.I
)


def _struck(m: re.Match[str]) -> str:
    return " " if _DENIAL.search(m.group(1)) else m.group(0)


def for_model(text: str) -> str:
    """What the models read: the text as it shows on the page (character references such as
    "&#111;" as the letters they show, Markdown's emphasis marks inside and around words
    dropped, base64 and ROT13 decoded), folded, with spaced-out letters joined back into
    words."""
    if "-" in text or "." in text:
        # (Before filler goes: "-/---/---" reads to it as rules and marks.)
        text = _MORSE_RUN.sub(_morse_words, text)
    text = without_filler(text)
    text = decoded(as_shown(text)[0])
    if "~~" in text:
        text = _STRUCK.sub(_struck, text)
    if "/" in text or "www." in text:
        text = _URL.sub(_url_words, text)
    if "@" in text:
        text = _EMAIL.sub(_email_words, text)
    text = _INITIALS_WORD.sub(lambda m: _INITIALS.get(m.group(0), m.group(0)), text)
    folded = _FENCE.sub("", fold(text))
    folded = _CAMEL.sub(_words, folded)
    if not folded.isascii():
        # Emoji and other pictographs between words ("too 👏 junior"): the models read none
        # of them (each is an unknown token that splits the sentence), so they are spaces.
        folded = "".join(" " if unicodedata.category(ch) == "So" else ch for ch in folded)
    folded = _MARKS.sub("", folded)
    if "\n" in folded:
        folded = _LETTER_LINES.sub(_letter_lines, folded)
    if " " in folded:
        folded = _SPACED_WORDS.sub(_join_words, folded)
    folded = _SPACED.sub(_join_letters, folded)
    if "\n" in folded:
        folded = _WORD_LINES.sub(_word_lines, folded)
    return without_repeats(spell_out(repaired(folded)))


# Words written down the page: a letter a line ("Y\nO\nU\nR\nE", a blank line between
# words), or a word a line or a paragraph ("Y O U R E\n\nT O O\n\nJ U N I O R", once its
# letters are joined): read across, as members read them (probes published each, unflagged).
# (Possessive: a run of blank lines cannot make a match backtrack.)
_LETTER_LINES = re.compile(
    r"(?m)^[ \t]*+[A-Za-z0-9'’][ \t]*+(?:\n(?:[ \t]*+\n)*+[ \t]*+[A-Za-z0-9'’][ \t]*+){3,}+$"
)
_WORD_LINES = re.compile(
    r"(?m)^[ \t]*+[\w'’]++[ \t]*+[.!?,]?(?:\n(?:[ \t]*+\n)*+[ \t]*+[\w'’]++[ \t]*+[.!?,]?){2,}+$"
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n\s*")


def _letter_lines(m: re.Match[str]) -> str:
    words = _BLANK_LINE.split(m.group(0).strip())
    return " ".join("".join(line.strip() for line in word.split("\n")) for word in words)


def _word_lines(m: re.Match[str]) -> str:
    return " ".join(m.group(0).split())


# Words as Candor's own writing spells them (moderation/vocabulary.py), for reading slips and
# disguises of them: "Your'e to junoir to gte this, cmoe bcak" (neighbouring letters swapped),
# "toooo juuuunior" (letters stretched) and "Yo ur et oo jun ior to ge tt his" (the breaks
# between words moved) each read to a member as plainly as the words, and a probe published
# them unflagged.
_VOCAB = vocabulary.load()
_UNSPACED = {
    w.replace("'", ""): w for w in sorted(_VOCAB, key=lambda w: _VOCAB[w])
}  # "youre": "you're"
_VOCAB_TOTAL = sum(_VOCAB.values()) or 1
_ENGLISH = _VOCAB.keys() | vocabulary.tokenizer_words()  # words never read as slips
_TOKEN = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_IN_ADDRESS = re.compile(r"[/:@_=]|\.\w")
_STRETCHED = re.compile(r"([a-z])\1{2,}")
SWAP_MIN_COUNT = 20  # a swap is read as a word only as common as this in the corpus
RUN_TOGETHER_MIN_COUNT = 50  # each of two words run together, as common as this
WORD_MAX = 30  # letters in the longest word read for slips
RUN_MAX = 80  # letters in the longest phrase run together that is read as its words
_PUT_DOWN_WORDS = frozenset(
    "too junior juniors intern interns grad grads graduate graduates trainee trainees newbie "
    "newbies kid kids young green years place come back know get this you your youre".split()
)
_HYPHENED_WORD = re.compile(r"(?<![\w'-])([A-Za-z]{2,})-([A-Za-z]{2,})(?![\w'-])")
RESEGMENT_MAX_CHARS = 400  # a longer line is not read for moved breaks (the cost is per line)


def _known_words(text: str) -> int:
    return sum(w.lower() in _ENGLISH for w in _TOKEN.findall(text))


def _as_written(word: str, read: str) -> str:
    return (
        read.capitalize()
        if word[:1].isupper() and not word.isupper()
        else (read.upper() if word.isupper() and len(word) > 1 else read)
    )


def _respelt(m: re.Match[str]) -> str:
    """The word `m` found as the corpus's word it plainly stands for, or as it is. Text-speak
    is spelt out after this, and a capitalised word inside a sentence is a name."""
    word = m.group(0)
    lower = word.lower()
    if lower in _ENGLISH or not 3 <= len(lower) <= RUN_MAX or (word.isupper() and len(word) <= 4):
        return word  # (a longer "word" is no phrase run together, and reading it costs more)
    if lower in _TEXTSPEAK_WORDS:
        return word  # spelt out next
    after, before = m.string[m.end() : m.end() + 2], m.string[max(0, m.start() - 1) : m.start()]
    if _IN_ADDRESS.match(after) or before in ("/", ".", "@", "#", "_", "="):
        return word  # part of an address, a path or a name
    if word[:1].isupper() and m.string[: m.start()].rstrip()[-1:] not in ("", ".", "!", "?"):
        return word
    if _STRETCHED.search(lower):
        two = _STRETCHED.sub(r"\1\1", lower)
        one = re.sub(r"([a-z])\1+", r"\1", two)
        for read in (two, one):
            if read in _VOCAB:
                return _as_written(word, read)
    best, seen = "", 0
    for i in range(len(lower) - 1 if len(lower) <= WORD_MAX else 0):  # (each swap: its square)
        if lower[i] == lower[i + 1]:
            continue
        swapped = lower[:i] + lower[i + 1] + lower[i] + lower[i + 2 :]
        n = _VOCAB.get(swapped, 0)
        if n >= SWAP_MIN_COUNT and n > seen:
            best, seen = swapped, n
    if best:
        return _as_written(word, best)
    # Two words run together ("toojunior"), each common in the corpus and one of them a word
    # put-downs are made of (English compounds the tokenizer lacks, "knowledgeable" or
    # "priceless", stay).
    if 6 <= len(lower) <= WORD_MAX and lower.isalpha():
        split, seen = "", 0
        for i in range(3, len(lower) - 2):  # (three letters a side: "mentorat" stays)
            least = min(_VOCAB.get(lower[:i], 0), _VOCAB.get(lower[i:], 0))
            telling = lower[:i] in _PUT_DOWN_WORDS or lower[i:] in _PUT_DOWN_WORDS
            if telling and least >= RUN_TOGETHER_MIN_COUNT and least > seen:
                split, seen = f"{lower[:i]} {lower[i:]}", least
        if split:
            return _as_written(word, split)
    # A phrase run together ("Youretoojuniortogetthis"): read as its words when every piece is
    # a common word and one is a word put-downs are made of.
    if len(lower) >= 12 and lower.isalpha():
        pieces = _segmented(lower)
        if (
            pieces
            and len(pieces) >= 3
            and all(_VOCAB.get(p, 0) >= SWAP_MIN_COUNT for p in pieces)
            and _PUT_DOWN_WORDS.intersection(p.replace("'", "") for p in pieces)
        ):
            return _as_written(word, " ".join(pieces))
    return word


def _hyphen_inside(m: re.Match[str]) -> str:
    """A word broken by a hyphen ("jun-ior") read whole, when it is a word and its parts are
    not both words ("co-operate", "e-mail" stay)."""
    left, right = m.group(1), m.group(2)
    whole = (left + right).lower()
    if whole in _ENGLISH and not (left.lower() in _ENGLISH and right.lower() in _ENGLISH):
        return left + right
    return m.group(0)


def _segmented(letters: str) -> list[str] | None:
    """`letters` (small, no spaces) as the likeliest run of the corpus's words, or None."""
    n = len(letters)
    cost = [0.0] + [math.inf] * n
    back = [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            piece = letters[start:end]
            word = _UNSPACED.get(piece)
            if word is None or cost[start] == math.inf:
                continue
            if len(piece) == 1 and piece not in "ai":
                continue
            c = cost[start] + math.log(_VOCAB_TOTAL / _VOCAB[word])
            if c < cost[end]:
                cost[end], back[end] = c, start
    if cost[n] == math.inf:
        return None
    words: list[str] = []
    end = n
    while end > 0:
        words.append(_UNSPACED[letters[back[end] : end]])
        end = back[end]
    return words[::-1]


def _moved_breaks(line: str) -> str:
    """A line whose words mostly are no words (at least four, half of them unknown, short) read
    as the words its letters spell, when they all are words; else as it is."""
    tokens = _TOKEN.findall(line)
    # (A rare fragment the corpus happens to write, "ur", "yo", "jun", counts as unknown here;
    # text-speak is spelt out after.)
    unknown = [t for t in tokens if _VOCAB.get(t.lower(), 0) < RUN_TOGETHER_MIN_COUNT
               and t.lower() not in _TEXTSPEAK_WORDS]  # fmt: skip
    if len(tokens) < 4 or 2 * len(unknown) < len(tokens) or len(line) > RESEGMENT_MAX_CHARS:
        return line
    if sum(map(len, unknown)) > 4 * len(unknown):
        return line  # long unknown words: names, jargon or another language, not moved breaks
    pieces: list[str] = []
    count = 0
    for chunk in re.split(r"([^A-Za-z' ]+)", line):
        letters = re.sub(r"[^a-z]", "", chunk.lower())
        if not letters:
            pieces.append(chunk)
            continue
        words = _segmented(letters)
        if words is None:
            return line
        count += len(words)
        lead = " " if chunk[:1] == " " else ""
        trail = " " if chunk[-1:] == " " else ""
        pieces.append(lead + " ".join(words) + trail)
    # Moved breaks join fragments into fewer words ("Yo ur et oo" is two); a table of names
    # or days read again word for word is no such line (a count found "Wed" read "we'd").
    if count > 0.8 * len(tokens):
        return line
    return "".join(pieces)


def repaired(text: str) -> str:
    """`text` with slips and disguises of the corpus's words read as the words: neighbouring
    letters swapped ("junoir"), letters stretched ("juuuunior"), and lines whose breaks
    between words were moved ("Yo ur et oo jun ior"). Words it knows are never changed."""
    text = "\n".join(_moved_breaks(line) if line else line for line in text.split("\n"))
    if "-" in text:
        text = _HYPHENED_WORD.sub(_hyphen_inside, text)
    return _TOKEN.sub(_respelt, text)


# Single letters and digits that are text-speak words ("u r 2 young"), not a word spaced out.
_TEXTSPEAK_RUN = re.compile(r"[ur24w ]+")


def _join_letters(m: re.Match[str]) -> str:
    run = m.group(0)
    if m.group(2) == " " and _TEXTSPEAK_RUN.fullmatch(run):
        return run
    return run.replace(m.group(2), "")


# Text-speak, as the words it stands for: "u r 2 jnr 2 get ths", "come back w 20 yrs" read to
# a member as plainly as the words, but a tokenizer and the cues miss them. Only forms that
# are not words of their own; "2" only before a word it plainly stands for.
_TEXTSPEAK_WORDS = {
    "u": "you", "ya": "you", "r": "are", "yrs": "years", "jnr": "junior", "jnrs": "juniors",
    "snr": "senior", "bk": "back", "ths": "this", "thx": "thanks", "pls": "please",
    "plz": "please", "ppl": "people", "abt": "about", "gt": "get", "cm": "come", "w": "with",
    "w/": "with", "urself": "yourself", "dont": "don't", "cant": "can't", "youre": "you're",
    "ur": "you're", "jr": "junior", "jrs": "juniors",
}  # fmt: skip
# Forms that are text-speak only in small letters: "Jr" after a name, "Ur" the city.
_LOWER_ONLY = frozenset({"ur", "jr", "jrs"})
# ("2 new starters" is a count, "we hired 2 junior devs" too: "2" stands for "too" only between
# such a word and "2", "to" or "for": "2 young 2 lead", "2 jnr 2 get".)
# "two" is "too" only before these and "to", "2" or "two" ("two junior two get this"), and
# "to" only after them: "two new for the team", "two lead engineers" are counts (a review).
_TWO_TOO = r"(?:junior|green|inexperienced|naive|jnr|jr|young)\s+(?:2|two|to)"
_TOO_BEFORE = (
    r"(?:junior|green|inexperienced|naive|jnr|jr|young|new|old|fresh|early)\s+(?:2|two|to|for|4)"
)
_TO_BEFORE = (
    "get|understand|know|see|be|do|say|speak|talk|lead|comment|make|learn|grasp|follow|judge|"
    "decide|gt|have an|weigh"
)
_TEXTSPEAK = re.compile(
    r"(?<![\w'’/.&-])(?:(?P<word>u|ya|r|ur|yrs|jnrs?|jrs?|snr|bk|ths|thx|pls|plz|ppl|abt|gt|cm|"
    r"w/?|urself|dont|cant|youre)(?![\w'’/&-]|\.\w)|"
    rf"(?P<too>2|two(?=\s+(?:{_TWO_TOO})\b))(?=\s+(?:{_TOO_BEFORE})\b)|(?P<to>2)(?=\s+(?:{_TO_BEFORE})\b)|"
    rf"(?:(?<=\bjunior )|(?<=\bgreen )|(?<=\byoung ))(?P<two_to>two)(?=\s+(?:{_TO_BEFORE})\b))",
    re.IGNORECASE,
)


# Forms too short to be text-speak on their own ("the w in the diagram, r for read").
_WEAK_FORMS = frozenset({"u", "r", "w", "ya"})


def spell_out(text: str) -> str:
    """`text` with its text-speak spelt out. A single letter ("u", "r", "w") only in a post
    with other text-speak in it: "the w in the diagram, r for read" is no text-speak."""
    found = list(_TEXTSPEAK.finditer(text))
    if not found:
        return text
    singles = any((m.group("word") or "2").lower() not in _WEAK_FORMS for m in found)
    parts: list[str] = []
    at = 0
    for m in found:
        word = m.group("word")
        if word is not None and word.lower() in _WEAK_FORMS and not singles:
            continue
        parts += [text[at : m.start()], _spelt_out(m)]
        at = m.end()
    return "".join(parts) + text[at:]


def _spelt_out(m: re.Match[str]) -> str:
    if m.group("too"):
        return "too"
    if m.group("to") or m.group("two_to"):
        return "to"
    word = m.group("word")
    lower = word.lower()
    if len(word) == 1 and word.isupper():
        return word  # an initial ("W. H. Smith") or a name, not text-speak
    if lower in _LOWER_ONLY and word != lower:
        return word
    if lower == "cm" and m.start() > 0 and m.string[m.start() - 2 : m.start()].strip().isdigit():
        return word  # "5 cm"
    return _TEXTSPEAK_WORDS[lower]


# A web address. One that spells out words ("/you-are-too-junior-to-get-this", "%20"-joined,
# "too_junior.example") shows them on the page as a link's text: the models read them as
# words. An address with fewer than three joins is left as it is.
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"']+", re.IGNORECASE)
_URL_JOIN = re.compile(r"(?:[-_+]|%20)+")


def _url_words(m: re.Match[str]) -> str:
    address = m.group(0)
    if len(_URL_JOIN.findall(address)) < 3:
        return address
    return _URL_JOIN.sub(" ", urllib.parse.unquote(address.replace("%20", " ")))


# What a page shows as nothing, or as no words, which padded a put-down past the model (it
# reads a window of 256 tokens, and forty "[r]: /x" lines, hundreds of empty links or a table
# of empty rows before the put-down pooled it to 0.02): Markdown link reference definitions
# (found as the renderer finds them), links and images with no words ("[](x)"), and lines of
# nothing but table pipes, rules and other marks (dropped when the post has words).
_EMPTY_LINK = re.compile(r"!?\[[ \t]*\]\([^()\s]*\)")
_MARKS_ONLY = re.compile(r"^[ \t|:=*_#>`~+.\\-]*(?:\n|$)", re.MULTILINE)
_HAS_WORD = re.compile(r"\w")
# A word said five or more times running ("word word word …", "ok ok ok …"), kept once ("No.
# No. No." is not padding).
_REPEATED_WORD = re.compile(r"\b(\w+)\b(?:\W{1,3}\1\b){4,}", re.IGNORECASE)
# A run of more than eight marks ("[[[[…", "([])([])…"), kept to its first eight: each mark is a
# token of its own, so 20,000 brackets cost the model 80 windows (24 s) and said nothing.
_MARK_RUN = re.compile(r"([^\w\s]{8})[^\w\s]+")


def without_filler(text: str) -> str:
    """`text` without the lines that show as nothing and with runs of one word said over and
    over kept once; text with no such filler is returned as it is."""
    text = without_definitions(text)
    if "](" in text:
        text = _EMPTY_LINK.sub("", text)
    if _HAS_WORD.search(text):
        text = _MARKS_ONLY.sub("", text)
    text = _MARK_RUN.sub(r"\1", text)
    return _REPEATED_WORD.sub(r"\1", text)


# A sentence or a line: what runs up to a full stop, ! or ?, or the end of the line.
_PIECE = re.compile(r"[^.!?\n]*(?:[.!?]+|\n|$)")
# Repeats shorter than this are kept ("No. No." is not padding).
REPEAT_MIN_CHARS = 12


def without_repeats(text: str) -> str:
    """`text` with the second and later copies of a sentence left out. Padding a put-down with
    one friendly sentence said thirty times drowned it (the model reads a window of 256
    tokens, and pooled it to 0.00); said once, the sentence weighs what it should. Text with
    no repeated sentence is returned as it is."""
    seen: set[str] = set()
    kept: list[str] = []
    dropped = False
    for m in _PIECE.finditer(text):
        piece = m.group(0)
        key = " ".join(piece.lower().split()).rstrip(".!? ")
        if len(key) >= REPEAT_MIN_CHARS and key in seen:
            dropped = True
            continue
        seen.add(key)
        kept.append(piece)
    return "".join(kept) if dropped else text
