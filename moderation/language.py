"""The language stage: finds a writer's words in a language the other stages do not read.

The cues and the dismissiveness model read English only, so a put-down in French, Spanish or
Dutch scored as nothing and stayed on view. This stage names the language of each passage of
a post's own words (not its quotes or web addresses) with py3langid (a naive Bayes model over
byte n-grams of 97 languages, shipped in the package), and reports the share of the post's
words in passages it reads, with confidence, as another language. The policy flags such a
post for a moderator (OTHER_LANGUAGE: "is written, wholly or in part, in a language the
automatic checks do not read"), its evidence naming the language. An established member's post
is never held for it, because nothing here says the words are unkind; a new account's post
mostly in another language (`policy.OTHER_LANGUAGE_HOLD`) waits for a moderator.
"""

from __future__ import annotations

import re
from typing import Any

from moderation.signals import Evidence, PostInput, Signal, StageResult, own_words

STAGE = "language"
# A passage is read when it has at least this many words of letters ("Merci !", "lol ok
# boomer" and lists of acronyms are named unreliably) and counted as another language when
# py3langid gives it at least the probability beside it: a short one must be named surer.
# (In scripts written without spaces, every two characters count as a word.)
PASSAGE_MIN_WORDS = 3
CONFIDENCE = ((5, 0.70), (PASSAGE_MIN_WORDS, 0.97))
# ... but a passage with English's commonest words in it is named at 0.90 at least: names
# and a foreign dish in an English sentence ("The café on Rue de la Paix serves a great crème
# brûlée.", "Kwame Nkrumah, Chidi Okonkwo and Oluwaseun Bello joined.") read as French or
# Swahili at 0.70-0.90 (a review and a probe).
ENGLISH_WORDS = frozenset(
    "the a an and or but of to in on at for with from by is are was were be been it this that "
    "we you they he she i my our your their has have had not no so".split()
)
WITH_ENGLISH_WORDS = 0.90
# A passage's language is named from at most its first this many characters (far more than it
# takes; a 100,000-character line cost 5 ms to name whole).
CLASSIFY_CHARS = 2000
# The languages py3langid chooses between. English and the languages with a large written web
# presence that use the Latin, Cyrillic, Greek or another alphabet members may write in.
LANGUAGES = (
    "en", "fr", "es", "de", "nl", "it", "pt", "sv", "da", "no", "fi", "pl", "cs", "sk", "hu",
    "ro", "hr", "sl", "tr", "id", "ms", "tl", "vi", "ru", "uk", "bg", "el", "ar", "he", "hi",
    "zh", "ja", "ko", "th", "ca", "et", "lv", "lt", "af", "sw",
)  # fmt: skip
NAMES = {
    "fr": "French", "es": "Spanish", "de": "German", "nl": "Dutch", "it": "Italian",
    "pt": "Portuguese", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish",
    "pl": "Polish", "cs": "Czech", "sk": "Slovak", "hu": "Hungarian", "ro": "Romanian",
    "hr": "Croatian", "sl": "Slovene", "tr": "Turkish", "id": "Indonesian", "ms": "Malay",
    "tl": "Tagalog", "vi": "Vietnamese", "ru": "Russian", "uk": "Ukrainian", "bg": "Bulgarian",
    "el": "Greek", "ar": "Arabic", "he": "Hebrew", "hi": "Hindi", "zh": "Chinese",
    "ja": "Japanese", "ko": "Korean", "th": "Thai", "ca": "Catalan", "et": "Estonian",
    "lv": "Latvian", "lt": "Lithuanian", "af": "Afrikaans", "sw": "Swahili",
    "hi-Latn": "Hindi (in Latin letters)",
    "drawn": "large letters drawn with characters",
}  # fmt: skip
# Hindi written in Latin letters (as most Indian colleagues type it in chat, mixed with
# English: "Tum abhi bahut junior ho, tumhe kya pata") is a language py3langid does not know:
# it named such lines English, Indonesian or nothing, and put-downs in it scored as nothing.
# These are its commonest words that are not English words too ("to", "main", "me", "log",
# "beta", "mat", "the" and "ho" are, and are left out). A passage with at least
# ROMANISED_MIN of them, making up ROMANISED_SHARE of its words, is read as Hindi.
ROMANISED_HINDI = frozenset(
    "hai hain hoon hun nahi nahin nhi kya kyun kyon kyu tum tumhe tumhein tumko tumhara "
    "tumhari tumhare aap aapko aapka aapki aapke hum humein hamein humko hamara hamari mujhe "
    "mujhko mera meri mere tera teri tere yeh woh abhi pehle pahle phir aur bahut bohot "
    "kuch toh karo karna karte karti karta raho rahe rahi rehna baat accha acha achha kaam "
    "saal jaante jaanta jante janta pata sikhao sikhane bachche bacche bachcha bacha bache "
    "chup suno samajh samjhe samjho gaya gaye gayi diya liya wala wale wali unka unki inki "
    "inka uski uska sab kab kaise kaisa kitna tha thi hoga hogi sakte sakta sakti chahiye "
    "lekin magar bhi bhai yaar arre haan ki ke ka ko se mein aaye aaya lao dena dekho "
    "bolo bola kaha matlab kyunki isliye jaise waise agar sirf zyada kam naye naya nayi".split()
)
ROMANISED_MIN = 3
ROMANISED_SHARE = 0.3
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?。！？]+[.!?。！？]*")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Scripts written without spaces between words (Thai, Japanese kana, Chinese characters).
_UNSPACED = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def words(text: str) -> int:
    """How many words `text` has: runs of letters, and in scripts written without spaces,
    one for every two characters."""
    unspaced = len(_UNSPACED.findall(text))
    return len(_WORD.findall(text)) + unspaced // 2 if unspaced else len(_WORD.findall(text))


# Large letters drawn with characters (a "banner": rows of "#", "_|/\\" or block elements, as
# figlet draws them) read to a member as words, to the checks as nothing: a probe's fresh
# account published "TOO JUNIOR" so, in a code block, and "That's my answer, @grace_w." A block
# of DRAWN_ROWS rows or more, each mostly drawing characters (or one or two characters with
# gaps between their strokes), wide and full enough to draw letters, is a passage the checks
# cannot read, counted as DRAWN_WORDS words (a short phrase's worth: a banner holds a few words).
_DRAWING = re.compile(
    r"[!-/:-@\[-`{-~\u2500-\u25ff\u2800-\u28ff\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40]"
)
DRAWN_ROWS = 3
DRAWN_WORDS = 3


def _drawn_row(line: str) -> bool:
    """A row of drawn letters: mostly drawing characters, or one or two characters of any kind
    (a probe drew with "X", "o" and "■") with gaps between their strokes."""
    marks = "".join(line.split())
    if len(marks) < 3:
        return False
    if len(_DRAWING.findall(line)) >= 0.8 * len(marks):
        return True
    return len(set(marks)) <= 2 and len(line.strip()) > len(marks)


def drawn_letters(text: str) -> list[str]:
    """The blocks of `text` that draw large letters with characters (see _DRAWING): DRAWN_ROWS
    rows or more (a blank row between them does not end the block), wide and full enough to
    draw letters, most rows with gaps between strokes (a stack of rules, "=====", "-----", is
    not a banner)."""
    blocks: list[str] = []
    run: list[str] = []
    for line in [*text.split("\n"), "", ""]:
        if _drawn_row(line) and not line.strip().startswith(("```", "~~~")):
            run.append(line)
            continue
        if not line.strip() and run and run[-1].strip():
            run.append(line)  # one blank row inside a block
            continue
        rows = [row for row in run if row.strip()]
        marks = sum(len("".join(row.split())) for row in rows)
        gapped = sum(1 for row in rows if " " in row.strip())
        if (
            len(rows) >= DRAWN_ROWS
            and max(map(len, rows), default=0) >= 12
            and marks >= 40
            and gapped * 2 >= len(rows)
        ):
            blocks.append("\n".join(run).strip("\n"))
        run = []
    return blocks


def romanised_hindi(passage: str) -> bool:
    """Whether `passage` reads as Hindi written in Latin letters (ROMANISED_HINDI)."""
    found = [w.lower() for w in _WORD.findall(passage)]
    hindi = [w for w in found if w in ROMANISED_HINDI]
    return len(set(hindi)) >= ROMANISED_MIN and len(hindi) >= ROMANISED_SHARE * len(found)


class LanguageStage:
    name = STAGE

    def __init__(self) -> None:
        self.identifier: Any = None

    @property
    def model(self) -> str:
        return "py3langid"

    def load(self) -> None:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(LANGUAGES))
        self.identifier = identifier

    def _foreign(self, passage: str) -> str | None:
        """The language `passage` is surely written in, if it has enough words and is not
        English."""
        count = words(passage)
        if count < PASSAGE_MIN_WORDS:
            return None
        if romanised_hindi(passage):
            return "hi-Latn"
        language, probability = self.identifier.classify(passage[:CLASSIFY_CHARS])
        sure = next(p for least, p in CONFIDENCE if count >= least)
        if ENGLISH_WORDS.intersection(w.lower() for w in _WORD.findall(passage)):
            sure = max(sure, WITH_ENGLISH_WORDS)
        return str(language) if language != "en" and probability >= sure else None

    def other(self, text: str) -> tuple[float, list[Evidence]]:
        """The share of `text`'s own words (not quoted, not web addresses) in passages read
        as another language than English, and those passages (labelled with the language). A
        line is read whole, as a language is named more surely over more words, and when it
        reads as English its sentences are read one by one, so a sentence in another language
        cannot hide in an English line."""
        assert self.identifier is not None, "load() first"
        own = _URL.sub(" ", own_words(text)[1] or text)
        found: list[tuple[str, str]] = []
        total = other = 0
        for block in drawn_letters(own) if own.count("\n") >= DRAWN_ROWS - 1 else ():
            found.append(("drawn", block))
            total += DRAWN_WORDS
            other += DRAWN_WORDS
            own = own.replace(block, "")
        for paragraph in re.split(r"\n[ \t]*\n", own):
            lines = paragraph.split("\n")
            if len(lines) > 1:
                # A paragraph's lines show as one line (Markdown joins them): read together
                # first (a probe split "Tu es / trop junior / pour comprendre." into lines too
                # short to be named one by one).
                joined = " ".join(line.strip() for line in lines)
                language = self._foreign(joined)
                if language is not None:
                    count = words(joined)
                    total += count
                    other += count
                    found.append((language, joined.strip()))
                    continue
            t, o = self._lines(lines, found)
            total += t
            other += o
        evidence = []
        for language, passage in found:
            at = text.find(passage)
            span = (at, at + len(passage)) if at >= 0 else (0, 0)
            evidence.append(
                Evidence(STAGE, f"in {NAMES.get(language, language)}", *span, passage[:300])
            )
        return (other / total if total else 0.0), evidence

    def _lines(self, lines: list[str], found: list[tuple[str, str]]) -> tuple[int, int]:
        """Each line read whole, and a line that reads as English sentence by sentence: its
        words and those in another language (the passages added to `found`)."""
        total = other = 0
        for line in lines:
            count = words(line)
            total += count
            language = self._foreign(line)
            if language is not None:
                other += count
                found.append((language, line.strip()))
                continue
            for sentence in _SENTENCE.findall(line) if count > PASSAGE_MIN_WORDS else ():
                language = self._foreign(sentence)
                if language is not None:
                    other += words(sentence)
                    found.append((language, sentence.strip()))
        return total, other

    def score(self, posts: list[PostInput]) -> list[StageResult]:
        results = []
        for p in posts:
            share, evidence = self.other(f"{p.title}\n{p.text}" if p.title.strip() else p.text)
            results.append(
                StageResult(STAGE, self.model, [Signal(STAGE, "other", share, evidence)])
            )
        return results
