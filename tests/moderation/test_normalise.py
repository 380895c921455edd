"""Disguised put-downs are read as the plain words: look-alike letters from other scripts,
digits for letters, styled letters and spaced-out words. What members see is unchanged; the
cue checker's evidence still marks what was written; plain text, codes and quantities, and
text written in another script are left as they are."""

from __future__ import annotations

import base64
import codecs
import html
import re
import time

import pytest

from forum.core.text import clean_block, render_markdown
from moderation import cues, vocabulary
from moderation.normalise import as_shown, decoded, fold, for_model, repaired
from moderation.signals import own_words

PLAIN = "You're too junior to get this. Come back when you have 20 years in."
DISGUISED = {
    # Cyrillic о, е, а, с in place of the Latin letters
    "look-alikes": "Yоu'rе tоо juniоr tо gеt this. Cоmе bасk whеn yоu hаvе 20 yеаrs in.",
    "digits for letters": "Y0u're too jun10r to g3t th1s. C0me back wh3n y0u have 20 y3ars in.",
    "styled letters": "𝘠𝘰𝘶'𝘳𝘦 𝘵𝘰𝘰 𝘫𝘶𝘯𝘪𝘰𝘳 to get this. Ｃｏｍｅ ｂａｃｋ when you have 20 years in.",
    "spaced out": "Y o u ' r e  t o o  j u n i o r  t o  g e t  t h i s. "
    "C o m e  b a c k  w h e n  y o u  h a v e  2 0  y e a r s  i n.",
    "dotted": "You're too j.u.n.i.o.r to get this. Come b-a-c-k when you have 20 years in.",
    # Both render as the plain words (forum.core.text.render_markdown).
    "character references": "Y&#111;u're t&#111;&#111; &#106;&#117;&#110;ior to get this. "
    "C&#x6f;me back when you have 20 years in.",
    "emphasis inside words": "You're t**o**o j*uni*or to get this. Co*m*e back wh~~e~~n you "
    "have 20 years in.",
    "small capitals": "ʏᴏᴜ'ʀᴇ ᴛᴏᴏ ᴊᴜɴɪᴏʀ ᴛᴏ ɢᴇᴛ ᴛʜɪꜱ. Come back when you have 20 years in.",
    "code fence": "```text\nYou're too junior to get this. Come back when you have 20 years in.",
}


@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_the_models_read_a_disguised_put_down_as_the_plain_words(kind: str) -> None:
    # (Compared as the model reads them: its tokenizer lowercases and splits at whitespace.)
    assert " ".join(for_model(DISGUISED[kind]).split()).lower() == PLAIN.lower()
    # ... which is what a member reads on the page (here, in so many characters).
    shown = re.sub(r"<[^>]+>", "", render_markdown(DISGUISED[kind])).strip()
    if kind in {"character references", "emphasis inside words"}:
        assert html.unescape(shown) == PLAIN


@pytest.mark.parametrize("kind", ["look-alikes", "digits for letters", "styled letters"])
def test_folding_keeps_every_offset_and_the_cues_mark_what_was_written(kind: str) -> None:
    text = DISGUISED[kind]
    assert len(fold(text)) == len(text)
    found = cues.find_cues(text)
    assert {c.cue for c in found} == {c.cue for c in cues.find_cues(PLAIN)}
    for c in found:
        assert c.text == text[c.start : c.end]  # the evidence is the member's own writing
    assert cues.nudge_phrases(text)  # the composer points it out too


def test_a_watched_phrase_is_found_through_look_alikes() -> None:
    (signal, watched) = cues.score("Honestly, a tyрical snоwflake take.", ["typical snowflake"])
    assert watched.score > 0
    assert [e.text for e in watched.evidence] == ["tyрical snоwflake"]


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        "We hired 20 people in Q3 2026: see the 3rd slide at 5pm, the A380 deck and b4 you go.",
        "The α in our test was 0.05, and the p-value 0.2.",
        "The path is ~/notes/2026 and the score 4-1 (see e.g. the table).",
    ],
)
def test_plain_text_codes_and_quantities_read_the_same(text: str) -> None:
    assert for_model(text).replace("α", "a") == text.replace("α", "a")


def test_marks_come_off_latin_letters_as_the_uncased_tokenizer_takes_them_off() -> None:
    assert for_model("Café, naïve, résumé and Zoë's CV.") == "Cafe, naive, resume and Zoe's CV."


# Disguises a probe found on 2026-12-07: each left the phrase public and unflagged. Each shows
# to a member as the plain words (the curly apostrophe is what phones type).
SHOWN_PLAIN = {
    "curly apostrophe": "You’re too junior to get this.",
    "variation selector": "You're too jun\ufe0fior to get th\ufe0fis.",
    "grapheme joiner": "You're too jun\u034fior to get this.",
    "hangul filler": "You're too jun\u3164ior to get this.",
    "marks on letters": "You're too jun\u0301ior to get t\u0307his.",
    "stacked marks": "You're too jun\u0301\u0301\u0301ior to get this.",
    "marks on a digit for a letter": "You're too jun1\u0301or to get this.",
    "marks on a look-alike": "You're too \u0458\u0301unior to get this.",
}


@pytest.mark.parametrize("kind", sorted(SHOWN_PLAIN))
def test_invisible_characters_and_marks_are_read_through(kind: str) -> None:
    text = clean_block(SHOWN_PLAIN[kind])  # as it is stored (NFC: some marks compose)
    assert for_model(text).lower() == "you're too junior to get this."
    found = [c for c in cues.find_cues(text) if c.cue == "too_junior_to_understand"]
    assert found and found[0].score >= cues.STOCK
    # The evidence is what was written, invisible characters and all.
    assert found[0].text == text[found[0].start : found[0].end]
    assert found[0].text.startswith("You") and found[0].text.endswith("get")


def test_an_invisible_character_written_as_a_reference_is_read_through() -> None:
    assert for_model("You're too jun&#xfe0f;ior to get th&#x301;&#x301;is.").lower() == (
        "you're too junior to get this."
    )


def test_the_evidence_keeps_the_marks_on_its_last_letter() -> None:
    text = "You're too junior to get\u0301\u0301 this."
    (found,) = [c for c in cues.find_cues(text) if c.cue == "too_junior_to_understand"]
    assert found.text == "You're too junior to get\u0301\u0301"


@pytest.mark.parametrize(
    "text",
    [
        "You're too [junior](https://example.com) to get this.",
        "[You're too junior][1] to get this.\n\n[1]: https://example.com",
        "[You're too](https://example.com) [junior](https://example.com) to get this.",
        "![You're too junior to get this](https://example.com/a.png)",
        "You&rsquo;re too &#x6a;unior to get this.",
    ],
)
def test_a_links_words_and_character_references_read_as_the_page_shows_them(text: str) -> None:
    # A probe's: each showed as the plain phrase, and neither check read it.
    (found,) = [c for c in cues.find_cues(text) if c.cue == "too_junior_to_understand"]
    assert found.score >= cues.STOCK and found.text == text[found.start : found.end]
    assert "too junior to get this" in " ".join(for_model(text).lower().split())


def test_a_link_title_and_short_list_items_read_as_words() -> None:
    titled = '[notes](https://example.com "you\'re too junior to get this")'
    listed = "- you're\n- too junior\n- to get this"
    for text in (titled, listed):
        assert len(fold(text)) == len(text)
        assert any(c.score >= cues.STOCK for c in cues.find_cues(text)), text
    # A list of longer items is a list.
    shopping = "- you're welcome to join the\n- pilot if you feel too junior\n- to get this started"
    assert "-" in fold(shopping)


def test_text_in_another_script_keeps_its_letters() -> None:
    russian = "Спасибо за встречу, было очень полезно."
    greek = "Ευχαριστώ για τη συνάντηση."
    assert fold(russian) == russian
    assert fold(greek) == greek
    # ... but a Latin word disguised with Cyrillic inside it is still undone.
    assert fold("Спасибо, juniоr.") == "Спасибо, junior."


def test_emoji_between_words_and_hashtag_words_read_as_words() -> None:
    clapped = "You're 👏 too 👏 junior 👏 to get this."
    assert " ".join(for_model(clapped).split()) == "You're too junior to get this."
    assert for_model("#NobodyCaresWhatAnInternThinks") == "Nobody cares what an intern thinks"
    # One hashtag alone reads as the phrase (a probe's "#TooJuniorToGetThis" passed), a word
    # in capitals as it is.
    assert for_model("Grads: #TooJuniorToGetThis") == "Grads: Too junior to get this"
    assert for_model("YOU'RE TOO JUNIOR") == "YOU'RE TOO JUNIOR"
    # Names and products of two parts are words already.
    kept = "JavaScript, PowerPoint and GitHub for McDonald's"
    assert for_model(kept) == kept


def test_a_line_separator_does_not_start_a_quote() -> None:
    # U+2028 renders inside the paragraph; str.splitlines() broke the line there, so a ">"
    # after it made the put-down the model's context and "Honest answer:" the post.
    text = "Honest answer:\u2028> You're too junior to get this."
    assert own_words(text) == ("", text)
    assert clean_block("a\u2028b\u2029c") == "a\nb\nc"  # stored as the line breaks they show


def test_a_sentence_said_over_and_over_is_read_once() -> None:
    pad = "Thanks for sharing, this is a useful discussion and I appreciate the detail. "
    put_down = "You're too junior to understand how the board works."
    assert for_model(put_down + " " + pad * 30) == for_model(put_down + " " + pad)
    assert for_model(pad * 15 + put_down + " " + pad * 15).count("Thanks for sharing") == 1
    for kept in ("No. No. No.", "Line one here ok\nLine two here ok\n", "Same. Same."):
        assert for_model(kept) == kept  # short repeats and text without repeats stay whole


def test_lines_that_show_as_nothing_and_one_word_over_and_over_are_left_out() -> None:
    put_down = "Look, you are simply too junior to get this."
    # Link reference definitions render as nothing: the model reads the put-down alone.
    definitions = "".join(f"[n{i}]: /notes/{i}\n" for i in range(40))
    assert for_model(definitions + put_down) == put_down
    assert "<" not in render_markdown(definitions + put_down).replace("<p>", "").replace(
        "</p>", ""
    )  # (the page shows only the put-down too)
    # A "definition" with words in its label may show as text (after a paragraph): kept.
    shown = "Some text\n[too junior to get it]: /x"
    assert for_model(shown) == shown
    # Rows of table pipes and rules, and a word said over and over, are kept once or not at all.
    assert for_model("|a|b|\n|-|-|\n|\n|\n|\n" + put_down) == " a b \n" + put_down
    assert for_model("word " * 300 + put_down) == "word " + put_down
    assert for_model("ok\n" * 150 + put_down) == "ok\n" + put_down
    # Ordinary text, and marks that are the whole post, read as written.
    for text in ("I had had enough of it.", "...", "See [1].", "No, no. That's wrong."):
        assert for_model(text) == text


def test_a_definitions_title_is_read_where_the_definition_was() -> None:
    # The page shows a reference's title as its link's tooltip: the models read it.
    text = (
        'Thanks, see [the guide][1].\n\n[1]: /guidelines "You are simply too junior to get this."'
    )
    # (The link's brackets read as blanks, as the page shows its words alone.)
    assert " ".join(for_model(text).split()) == (
        "Thanks, see the guide . You are simply too junior to get this."
    )
    assert for_model("See [1].\n\n[1]: /x\n  'a title on its own line'\nNext.") == (
        "See [1].\na title on its own line\nNext."
    )


def test_words_spelt_out_in_a_web_address_are_read_as_words() -> None:
    slug = "https://example.com/you-are-too-junior-to-get-this"
    assert for_model(f"Relevant: {slug}") == (
        "Relevant: https://example.com/you are too junior to get this"
    )
    assert "too junior to get this" in for_model("www.e.org/too%20junior%20to%20get%20this")
    # An address with fewer than three joins reads as written.
    for text in ("See https://e.org/a-b/c-d now.", "www.x-y.org"):
        assert for_model(text) == text


def test_a_run_of_marks_is_kept_to_its_first_eight() -> None:
    flood = ("[" * 5000 + "]" * 5000 + "(" * 4000 + ")" * 4000)[:19_900]
    assert for_model(flood) == "[" * 8
    assert for_model("([])" * 3000 + " You're too junior.") == "([])([])" + " You're too junior."
    for kept in ("Wait... what?! No!!!", "That is ---- wrong ((see above))"):
        assert for_model(kept) == kept


def test_table_pipes_and_footnote_references_between_words_read_as_blanks() -> None:
    header = "| You're too | junior to | get this |\n|---|---|---|\n| a | b | c |"
    assert " ".join(for_model(header).split()) == "You're too junior to get this a b c"
    assert for_model("You're too junior[^1] to get this.") == "You're too junior     to get this."
    assert len(fold(header)) == len(header)  # the cues' evidence still marks what was written


def test_text_speak_reads_as_the_words_it_stands_for() -> None:
    """A twelfth-session probe published "yr 2 jnr 2 gt ths. cm bk w 20 yrs" unflagged."""
    assert for_model("yr 2 jnr 2 gt ths. cm bk w 20 yrs") == (
        "yr too junior to get this. come back with 20 years"
    )
    assert for_model("u r 2 young 2 lead") == "you are too young to lead"
    assert for_model("Youre too junior, dont argue") == "you're too junior, don't argue"
    # Initials, units, abbreviations, words with a hyphen and a number before a noun are not
    # text-speak.
    for kept in ("W. H. Smith and the U.S. team", "5 cm of snow", "our r&d and q&a budget",
                 "a u-turn on the w/e rota", "I have 2 kids and 2 new starters",
                 "We hired 2 junior devs", "The w in the diagram is write, r for read"):  # fmt: skip
        assert for_model(kept) == kept


def test_upside_down_lines_are_read_back() -> None:
    """A fifteenth-session probe published "ʇǝƃ oʇ ɹoıunɾ ooʇ ǝɹ,noʎ" unflagged."""
    turned = "˙uı sɹɐǝʎ 0ᄅ ǝʌɐɥ noʎ uǝɥʍ ʞɔɐq ǝɯoƆ ˙sıɥʇ ʇǝƃ oʇ ɹoıunɾ ooʇ ǝɹ,noʎ"
    assert for_model(f"Fair point.\n{turned}") == (
        "Fair point.\nyou're too junior to get this. Come back when you have 20 years in."
    )
    found = {c.cue: c for c in cues.find_cues(f"Fair point.\n{turned}")}
    assert found["too_junior_to_understand"].text == "ʇǝƃ oʇ ɹoıunɾ ooʇ ǝɹ,noʎ"
    # Turkish and Azerbaijani letters (ı, ə) and a stray turned letter leave a line as it is.
    for kept in ("Bakı şəhərində işləyirəm", "Iğdır'da çalışıyorum", "the ɐ sound in IPA"):
        assert as_shown(kept)[0] == kept


def test_an_email_address_and_initials_read_as_the_phrase_they_spell() -> None:
    assert for_model("Write to youre.too.junior.to.get.this@example.com") == (
        "Write to you're too junior to get this @example.com"
    )
    assert for_model("<sit-down-junior-nobody-asked-you@example.org>") == (
        "<sit down junior nobody asked you @example.org>"
    )
    assert for_model("TJTGT. CBWYH20YI.") == (
        "too junior to get this. come back when you have 20 years in."
    )
    for kept in ("mail jo.smith@example.com", "NASA and the NHS in FY25", "tjtgt"):
        assert for_model(kept) == kept


def test_struck_through_letters_digits_at_word_ends_tags_headings_and_hyphens_read_as_words() -> (
    None
):
    """A fifteenth-session probe's second round published each of these unflagged."""
    struck = "y̶o̶u̶'̶r̶e̶ ̶t̶o̶o̶ ̶j̶u̶n̶i̶o̶r̶ ̶t̶o̶ ̶g̶e̶t̶ ̶t̶h̶i̶s̶"
    assert for_model(struck) == "you're too junior to get this"
    assert for_model("y0u'r3 t00 jun10r t0 g3t th15") == "you're too junior to get this"
    assert for_model("you're too <b>ju</b>nior to <i>get</i> this") == (
        "you're too junior to get this"
    )
    assert " ".join(for_model("# you're too\n## junior to get this").split()) == (
        "you're too junior to get this"
    )
    assert for_model("you're-too-junior-to-get-this") == "you're too junior to get this"
    for text in ("# You're too", "you're too <b>ju</b>nior", "you're-too-junior-to-get-this"):
        assert len(fold(text)) == len(text)
    # Codes, a comparison, an autolink, a compound of four words and letters joined by
    # hyphens (read as spaced-out letters) are left alone.
    for kept in ("CS101, PS4, mp3 and h1 headings", "3 < 4 > 2", "<https://x.org/a>",
                 "a state-of-the-art tool"):  # fmt: skip
        assert for_model(kept) == kept
    assert for_model("Y-o-u-r-e t-o-o j-u-n-i-o-r") == "you're too junior"


def test_base64_and_rot13_read_as_what_they_encode() -> None:
    """A probe left "decode it yourself" put-downs (base64, ROT13) on the board: a member who
    decodes them reads the put-down, so the models read it too."""
    encoded = base64.b64encode(PLAIN.encode()).decode()
    assert " ".join(for_model(f"My honest answer: {encoded}").split()) == (
        f"My honest answer: {PLAIN}"
    )
    url_safe = base64.urlsafe_b64encode(PLAIN.encode()).decode().rstrip("=")
    assert PLAIN in for_model(url_safe)
    assert for_model("Fair point.\n" + codecs.encode(PLAIN, "rot13")) == f"Fair point.\n{PLAIN}"
    # Identifiers, hashes, long words, a token in an address and ordinary English stay.
    for kept in (
        "sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "Supercalifragilisticexpialidocious and PNEUMONOULTRAMICROSCOPIC",
        "See https://example.org/a/AbCdEfGh12345678/xyz for the form.",
        "The quick brown fox jumps over the lazy dog.",
        "Our juniors asked great questions; I learnt a lot from them.",
        "Gb or snve, V guvax",  # ROT13 of too few words is left as written
    ):
        assert decoded(kept) == kept, kept


def test_writing_a_reader_decodes_is_read_as_its_words() -> None:
    """Probes listed put-downs in Morse code, Braille, regional-indicator letters, pig latin and
    backwards writing as tricks the models did not read: a member who decodes them reads the
    put-down, so the models read it too."""
    morse = "-.-- --- ..- .----. .-. . / - --- --- / .--- ..- -. .. --- .-. / - --- / --. . -"
    assert for_model(f"Honest answer: {morse}").split() == (
        "Honest answer: you're too junior to get".split()
    )
    assert for_model("-.-- --- ..-   - --- ---   .--- ..- -. .. --- .-.").split() == [
        "you",
        "too",
        "junior",
    ]
    assert for_model("—·—— ——— ··— / — ——— ———").split() == ["you", "too"]  # dots and dashes
    assert for_model("⠠⠽⠕⠥⠄⠗⠑ ⠞⠕⠕ ⠚⠥⠝⠊⠕⠗").split() == ["you're", "too", "junior"]
    braille = "⠞⠕⠕ ⠚⠥⠝⠊⠕⠗"
    assert len(fold(braille)) == len(braille)  # (evidence keeps its place)
    assert for_model("🇾🇴🇺'🇷🇪 🇹🇴🇴 🇯🇺🇳🇮🇴🇷") == "YOU'RE TOO JUNIOR"
    spaced = for_model("🇾 🇴 🇺 🇷 🇪   🇹 🇴 🇴   🇯 🇺 🇳 🇮 🇴 🇷")  # spaced, so no flags show
    assert spaced.lower().split() == ["you're", "too", "junior"]
    assert for_model("ꓬꓳꓴ'ꓣꓰ ꓔꓳꓳ ꓙꓴꓠꓲꓳꓣ") == "YOU'RE TOO JUNIOR"  # Lisu look-alikes
    assert for_model("ou'reyay ootay uniorjay otay etgay isthay") == "you're too junior to get this"
    assert for_model("omecay ackbay enwhay ouyay avehay 20 earsyay inyay") == (
        "come back when you have 20 years in"
    )
    assert for_model(f"Fair.\n{PLAIN[::-1]}") == f"Fair.\n{PLAIN}"
    backwards_words = " ".join(word[::-1] for word in PLAIN.split())  # each word backwards
    assert for_model(backwards_words).split() == PLAIN.split()
    # English that happens to hold such shapes stays as written.
    for kept in (
        "Today we say hello and play all day in May.",
        "Pay attention to the day rates, they may vary by the way.",
        "- - - -",
        "--- / ---",
        "I met him -- well -- he was fine...",
        "Our juniors asked great questions; I learnt a lot from them.",
        "on saw ton",  # words that are words backwards, too few to read as a line
    ):
        assert for_model(kept) == kept, kept
    assert for_model("Based in 🇬🇧 and 🇫🇷") == "Based in GB and FR"  # flags read as letters
    # A second probe's layouts: Morse with a slash between letters, pig latin with hyphens.
    slashed = "-.--/---/..-/.----./.-./.  -/---/---  .---/..-/-./../---/.-."
    assert for_model(slashed).split() == ["you're", "too", "junior"]
    hyphened = "ou're-yay oo-tay unior-jay o-tay et-gay is-thay"
    assert for_model(hyphened) == "you're too junior to get this"
    assert for_model("A well-paid day-to-day role in May") == "A well-paid day-to-day role in May"


def test_the_seventeenth_sessions_disguises_read_as_words() -> None:
    """A probe published each of these from a fresh account, unflagged."""
    cherokee = "ᎩᏫՍ'ᎡᎬ ᏔᏫᏫ ᎫՍΝᏆᏫᎡ. ᏟᏫᎷᎬ ᏴᎪᏟᏦ ᎳᎻᎬΝ ᎩᏫՍ ᎻᎪᏙᎬ 20 ᎩᎬᎪᎡᏚ ᏆΝ."
    assert for_model(cherokee) == "YOU'RE WOO JUNIOR. COME BACK WHEN YOU HAVE 20 YEARS IN."
    assert len(fold(cherokee)) == len(cherokee)
    found = {c.cue: c for c in cues.find_cues("ᏟᏫᎷᎬ ᏴᎪᏟᏦ ᎳᎻᎬΝ ᎩᏫՍ ᎻᎪᏙᎬ 20 ᎩᎬᎪᎡᏚ ᏆΝ")}
    assert found, "the cue checker reads the folded letters too"
    for mark in "·/•–—…+,\\":
        joined = mark.join(["you're", "too", "junior", "to", "get", "this"])
        assert for_model(f"Grads: {joined}") == "Grads: you're too junior to get this", mark
    assert for_model("jun!or, th|s") == "junior, this"
    assert for_model("two junior two get this") == "too junior to get this"
    assert for_model("you're too jr to get this") == "you're too junior to get this"
    # Writing in Armenian, lists, paths, two or three words joined, a name's "Jr", a table's
    # one-letter cells and counts are left as they are.
    for kept in ("Բարև, ես աշխատում եմ Երևանում", "and/or, he/she/they",
                 "Martin Luther King Jr. spoke", "We hired two junior devs"):  # fmt: skip
        assert for_model(kept) == kept, kept
    assert fold("a|b|c") == "a b c"


def test_slips_stretched_letters_and_moved_breaks_read_as_the_words() -> None:
    """A probe published these unflagged: swapped neighbouring letters, stretched letters,
    the breaks between words moved, and upside-down letters left in reading order."""
    assert for_model("Your’e to junoir to gte this, cmoe bcak wehn you hvae 20 yaers in.") == (
        "You're to junior to get this, come back when you have 20 years in."
    )
    assert for_model("you'reeee toooo juuuunior") == "you're too junior"
    assert for_model(
        "Yo ur et oo jun ior to ge tt his. Co meb ack whe ny ouh ave 20 yea rsi n."
    ) == ("you're too junior to get this. come back when you have 20 years in.")
    assert for_model("ʎonˌɹǝ ʇoo ɾnuıoɹ ʇo ƃǝʇ ʇɥıs") == "you're too junior to get this"
    # English the corpus never wrote, names, addresses, possessives and other languages'
    # lines of long words are left as written.
    for kept in (
        "Our pilot with Kubernetes and Terraform went well, thanks Lena and Ravi.",
        "The juniors' ideas and the managers' notes.",
        "See www.example.org/abuot or write to hte@example.org",
        "Nous avons organisé un programme de mentorat inversé",
        "x = a + b; y = c",
    ):
        assert repaired(kept) == kept, kept


def test_the_shipped_word_list_is_the_corpus_counted() -> None:
    """`python -m moderation.vocabulary` writes it: run it after the corpus changes."""
    expected = {w: n for w, n in vocabulary.count().items() if n >= vocabulary.MIN_COUNT}
    assert vocabulary.load() == expected


def test_the_third_probes_disguises_read_as_words_and_fair_text_stays() -> None:
    """A third probe published these from fresh accounts; a review found the fair lines below
    changed by the second round's rules."""
    assert for_model("🆈🅾🆄'🆁🅴 🆃🅾🅾 🅹🆄🅽🅸🅾🆁") == "YOU'RE TOO JUNIOR"
    assert for_model("🅨🅞🅤'🅡🅔 🅣🅞🅞 🅙🅤🅝🅘🅞🅡") == "YOU'RE TOO JUNIOR"
    assert for_model("⒴⒪⒰'⒭⒠ ⒯⒪⒪ ⒥⒰⒩⒤⒪⒭") == "you're too junior"
    assert for_model("Youretoojuniortogetthis") == "You're too junior to get this"
    assert for_model("You're too JUNI0R to g3t th1s.") == "You're too JUNIOR to get this."
    assert for_model("you%27re%20too%20junior%20to%20get%20this") == (
        "you're too junior to get this"
    )
    assert for_model("You're|too|junior to get this") == "You're too junior to get this"
    assert for_model("Yo ur et oo jun ior to ge tt his.") == "you're too junior to get this."
    for kept in ("You'll get two new for your team next sprint.",
                 "There will be two lead engineers, you'll know them.",
                 "A 20% rise, then 30% more.", "H1B visa, A380, PS4",
                 "Bees die after they sting you."):  # fmt: skip
        assert for_model(kept) == kept, kept
    assert repaired("| Mon | Tue | Wed |\n| Ravi | Jo | Mei |") == (
        "| Mon | Tue | Wed |\n| Ravi | Jo | Mei |"
    )


def test_pathological_inputs_cost_no_more_than_their_length() -> None:
    """A review found "a" + 27 digits + "_x" took 11 s (each digit doubling it), and a long
    word before a "%" cost its square."""
    started = time.perf_counter()
    for_model("a" + "1" * 40 + "_x")
    decoded("a" * 200_000 + "%")
    for_model("ab|" * 30_000)
    # Lines of single letters or words, with blank lines between (read down the page).
    for_model("a\n" * 50_000)
    for_model("a\n \n" * 30_000)
    assert time.perf_counter() - started < 2


def test_a_struck_through_denial_reads_as_withdrawn() -> None:
    """Members read struck-through words as withdrawn: a probe's "You're ~~not~~ too junior"
    read to the models as a denial."""
    assert for_model("You're ~~not~~ too junior to get this.").split() == (
        "You're too junior to get this.".split()
    )
    assert for_model("~~Not saying~~ you're too junior to get this.").split() == (
        "you're too junior to get this.".split()
    )
    # Struck words that are not a denial are still read: members can read them too.
    assert for_model("~~you're too junior~~ welcome aboard!") == "you're too junior welcome aboard!"


def test_a_tag_that_breaks_the_line_reads_as_a_space() -> None:
    # "<summary>My honest view</summary>You're…" had read "viewYou're": the stock phrase lost
    # its first word, and the post was flagged only (a probe's).
    text = "<details><summary>My honest view</summary>You are too junior to get this.</details>"
    assert "view You are too junior" in as_shown(text)[0]
    assert cues.reading(text) >= cues.STOCK
    assert [c.text for c in cues.find_cues(text)][0].startswith("You are")
    # An inline tag inside a word still joins it.
    assert as_shown("you're too <b>ju</b>nior")[0] == "you're too junior"
    assert as_shown("one<br>two<BR/>three")[0] == "one two three"


def test_what_is_written_inside_a_tag_is_read() -> None:
    """The page shows a tag as typed, its "attributes" too: "<note You are too junior…>" had
    read as nothing, and passed every check (an attacker probe), in posts, titles, messages,
    profiles and programme texts."""
    for text in (
        "<i you're too junior to get this, come back when you have twenty years in>",
        "Well done! <note Honestly, you are too junior to understand any of this.>",
        "Thanks.\n\n<br Come back when you have 20 years in. Until then, sit down.>",
        'Well done! <abbr title="you\'re too junior to get this">FYI</abbr>',
    ):
        assert cues.reading(text) >= cues.STOCK, text
        found = cues.find_cues(text)[0]
        assert text[found.start : found.end] == found.text  # where it was written
        assert "too junior" in for_model(text) or "come back when" in for_model(text).lower()
    # A "tag" whose name is no element of HTML is its word, shown as typed (the second probe's
    # "You're too <junior> to get this." and "<You> <are> <too> <junior>" passed).
    for text in (
        "You're too <junior> to get this.",
        "<You> <are> <too> <junior> to get this.",
        "You're <too junior> to get this.",
        "Let the <adults> talk.",
    ):
        assert cues.reading(text) >= 0.9, text
    assert as_shown("<You> <are> <too> <junior>")[0] == "You are too junior "
    assert as_shown("I use <div> and <span> a lot")[0] == "I use   and  a lot"
    # Attribute syntax reads as space, so quoted words are not taken for reported speech.
    assert (
        "you're too junior to get this"
        in as_shown('<abbr title="you\'re too junior to get this">')[0]
    )
    # The tag around words still joins them; its attributes are read on a line of their own.
    assert as_shown("you're too <b class=x>ju</b>nior")[0].startswith("you're too junior\n")
    assert not cues.find_cues('<a href="https://example.org/pilot">our pilot notes</a>')


def test_words_written_down_the_page_read_across() -> None:
    letters = "Y\nO\nU\nR\nE\n\nT\nO\nO\n\nJ\nU\nN\nI\nO\nR\n\nT\nO\n\nG\nE\nT\n\nT\nH\nI\nS"
    assert for_model(letters) == "YOU'RE TOO JUNIOR TO GET THIS"
    assert for_model("Y O U R E\n\nT O O\n\nJ U N I O R") == "you're TOO JUNIOR"
    # One paragraph of letters, a line each: the words run together, read apart.
    run = "\n".join("youretoojuniortogetit")
    assert cues.reading(for_model(run)) >= cues.STOCK
    # Short lines of ordinary writing stay lines; a list of single words reads as a list.
    assert for_model("Thanks all.\nSee you Monday.") == "Thanks all.\nSee you Monday."
    assert for_model("Agenda\nBudget\nHiring") == "Agenda Budget Hiring"
