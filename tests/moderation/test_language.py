"""The language stage: words in a language the English-only checks do not read are flagged
for a moderator (never held), and English, however terse, is not."""

from __future__ import annotations

import pytest

from forum.core.settings import Settings
from moderation.language import LanguageStage
from moderation.pipeline import CueStage, Pipeline
from moderation.policy import decide
from moderation.signals import DISMISSIVE, OTHER_LANGUAGE, PostInput


@pytest.fixture(scope="module")
def stage() -> LanguageStage:
    stage = LanguageStage()
    stage.load()
    return stage


FOREIGN = {
    "French": "Franchement, tu es trop junior pour comprendre. Reviens quand tu auras vingt ans de métier.",
    "Spanish": "Sinceramente, eres demasiado junior para entender esto. Vuelve cuando tengas veinte años de experiencia.",
    "German": "Ehrlich gesagt bist du zu junior, um das zu verstehen. Komm wieder, wenn du zwanzig Jahre Erfahrung hast.",
    "Dutch": "Eerlijk gezegd ben je te junior om dit te snappen. Kom terug als je twintig jaar ervaring hebt.",
    # Hindi as colleagues type it, in Latin letters and with English words: py3langid named
    # such lines English or nothing.
    "Hindi (in Latin letters)": "Beta, pehle das saal kaam karo, phir baat karna. Abhi tum naye ho.",
}
ENGLISH = [
    "honestly, your tone in the handover was patronising. i know how to read a fluid chart",
    "+1 to this",
    "lol ok boomer",
    "PDCA, OKR, KPI, RACI: done.",
    "Kids fresh out of uni have nothing to teach a director.",
    "Our pilot paired six graduates with six directors; attendance held at 90% for the first "
    "quarter, and two directors changed how they run stand-ups.",
    "Merci! Thanks all for a brilliant session yesterday.",  # a word of another language
    "Ad hoc, per se, et cetera.",
    "Bon voyage!",
    "See https://example.fr/les-jeunes-ne-savent-rien-de-la-strategie for the survey.",
    # A word or two of Hindi in an English sentence stays English.
    "Our Pune team said the session was bahut accha, and the pilot ran on time.",
    "Namaste, yaar: the toolkit from the Delhi pilot is attached.",
]


@pytest.mark.parametrize("language", sorted(FOREIGN))
def test_a_put_down_in_another_language_is_flagged_and_held_only_from_a_new_account(
    stage: LanguageStage, language: str
) -> None:
    text = FOREIGN[language]
    share, evidence = stage.other(text)
    assert share == 1.0
    assert [e.label for e in evidence] == [f"in {language}"]
    assert text[evidence[0].start : evidence[0].end] == evidence[0].text
    (result,) = stage.score([PostInput(1, text)])
    decision = decide({"language": result.scores()}, PostInput(1, text), Settings())
    assert decision.verdict == "flag" and decision.reasons == [OTHER_LANGUAGE]
    # A new account's waits for a moderator: fresh accounts' put-downs in other languages
    # stayed on view until one came.
    new = PostInput(1, text, established=False)
    assert decide({"language": result.scores()}, new, Settings()).verdict == "hold"
    english = PostInput(2, ENGLISH[0], established=False)
    (plain,) = stage.score([english])
    assert decide({"language": plain.scores()}, english, Settings()).verdict == "clear"


def test_a_sentence_in_another_language_inside_an_english_post_is_found(
    stage: LanguageStage,
) -> None:
    english = "Thanks for the thoughtful post, I agree with most of it and will try the format."
    share, evidence = stage.other(f"{english} {FOREIGN['French']}")
    assert 0.3 < share < 0.7
    assert {e.label for e in evidence} == {"in French"}
    # ... and a title in another language over an English body.
    (result,) = stage.score([PostInput(1, english, title=FOREIGN["Dutch"])])
    assert result.scores()["other"] > 0


@pytest.mark.parametrize("text", ENGLISH)
def test_english_however_terse_is_not_another_language(stage: LanguageStage, text: str) -> None:
    assert stage.other(text) == (0.0, [])


def test_quoted_words_are_not_the_writers_but_code_and_unspaced_scripts_are_read(
    stage: LanguageStage,
) -> None:
    quoted = f"> {FOREIGN['Spanish']}\n\nThat was out of line, and I said so to their manager."
    assert stage.other(quoted)[0] == 0.0
    # A code block shows on the page as its words do.
    assert stage.other(f"Run this:\n\n```\n{FOREIGN['German']}\n```\n")[0] > 0
    # Scripts written without spaces count a word for every two characters.
    for text in (
        "新人のくせに口を出すな。二十年経験を積んでから意見を言え。",
        "你太嫩了，根本不懂这些。",
    ):
        assert stage.other(text)[0] == 1.0, text
    # A short line in another language is named when py3langid is surer of it.
    assert stage.other("Tu es trop junior pour comprendre")[0] == 1.0
    for code in (
        "def get_user(id):\n    return db.query(User).filter(User.id == id).first()\n",
        "SELECT name, email FROM users WHERE joined_at > now();",
        "npm install --save-dev eslint prettier typescript",
    ):
        assert stage.other(code) == (0.0, []), code


def test_the_pipeline_flags_a_foreign_put_down_and_leaves_english_alone(
    stage: LanguageStage,
) -> None:
    pipeline = Pipeline(Settings(), [CueStage(), stage])
    for state in pipeline.states:
        state.loaded = True
    foreign, english = pipeline.run([PostInput(1, FOREIGN["French"]), PostInput(2, ENGLISH[0])])
    assert foreign.decision is not None and english.decision is not None
    # The cues read "tu es trop junior" too (a stock put-down): without the model their
    # reading stands, and holds it; the language stage names the passage.
    assert foreign.decision.verdict == "hold"
    assert OTHER_LANGUAGE in foreign.decision.reasons and DISMISSIVE in foreign.decision.reasons
    assert [e["label"] for e in foreign.evidence if e["stage"] == "language"] == ["in French"]
    assert english.decision.verdict == "clear"


BANNER = """```
#####   ###    ###          ###  #   #  #   #  #####   ###   ####
  #    #   #  #   #           #  #   #  ##  #    #    #   #  #   #
  #    #   #  #   #           #  #   #  # # #    #    #   #  ####
  #    #   #  #   #       #   #  #   #  #  ##    #    #   #  #  #
  #     ###    ###         ###    ###   #   #  #####   ###   #   #
```

That's my answer, @grace_w."""


def test_large_letters_drawn_with_characters_go_to_a_moderator(stage: LanguageStage) -> None:
    share, evidence = stage.other(BANNER)
    assert share >= 0.3
    assert [e.label for e in evidence] == ["in large letters drawn with characters"]
    assert BANNER[evidence[0].start : evidence[0].end].startswith("#####")
    (result,) = stage.score([PostInput(1, BANNER)])
    settled = decide({"language": result.scores()}, PostInput(1, BANNER), Settings())
    assert settled.verdict == "flag" and settled.reasons == [OTHER_LANGUAGE]
    fresh = PostInput(1, BANNER, established=False)
    assert decide({"language": result.scores()}, fresh, Settings()).verdict == "hold"
    # Drawn with a letter or a block, with blank rows between, or three rows high (the
    # second attacker probe's), it is read so too.
    rows = [row for row in BANNER.split("\n") if row.startswith(("#", "  #"))]
    for drawn in (
        "\n".join(rows).replace("#", "X"),
        "\n".join(rows).replace("#", "■"),
        "\n\n".join(rows),
        "\n".join(rows[:3]),
    ):
        assert stage.other(drawn + "\n\nThat's my answer.")[0] > 0, drawn
    # Rules, a table and a short list are writing, not drawn letters.
    for text in (
        "Steps:\n- one\n- two\n---\n***\n---\n***",
        "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n| 5 | 6 |",
        "```\nif x:\n    return y\nelse:\n    return z\n```",
        "=====\n=====\n=====\n=====",
        "Title\n=================\nSection\n-----------------\nmore",
    ):
        assert stage.other(text) == (0.0, []), text
