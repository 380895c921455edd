"""The shipped dismissiveness model, loaded as the worker loads it: it reads a post with what it
answers, judges a reply by its own words rather than by what it quotes, and its calibration
puts the flag threshold on the policy's scale."""

from __future__ import annotations

import math

import pytest

from forum.core.settings import Settings
from moderation import registry
from moderation.dismissive import DismissiveStage, model_inputs
from moderation.pipeline import CueStage, Pipeline
from moderation.signals import PostInput, own_words, unquote_fabricated

PROPOSAL = (
    "I joined the team in September, but I'd like to suggest we rotate who chairs the weekly "
    "meeting, so everyone gets practice."
)
QUESTION = "How long until the new building's solar panels pay for themselves?"


@pytest.fixture(scope="module")
def stage() -> DismissiveStage:
    loaded = DismissiveStage(str(registry.SHIPPED_PATH))
    loaded.load()
    return loaded


def _score(stage: DismissiveStage, text: str, context: str = "") -> float:
    (result,) = stage.score([PostInput(1, text, context=context)])
    return result.scores()["dismissive"]


def test_a_reply_that_is_a_put_down_only_in_context_is_scored_so(stage: DismissiveStage) -> None:
    reply = "Give it a couple of years."
    brushed_off = _score(stage, reply, PROPOSAL)
    answered = _score(stage, reply, QUESTION)
    assert brushed_off > answered
    assert brushed_off >= 0.5 > answered  # flagged as an answer to a junior's idea only


def test_a_reply_is_judged_by_its_own_words_not_what_it_quotes(stage: DismissiveStage) -> None:
    put_down = "You're far too junior to understand how budgets work, so leave it to us."
    pushback = f"> {put_down}\n\nThat was out of line. My point about the rota still stands."
    assert model_inputs(PostInput(1, pushback)) == (put_down, own_words(pushback)[1])
    assert _score(stage, put_down, PROPOSAL) >= 0.5
    assert _score(stage, pushback) < 0.5


def test_a_reported_put_down_is_not_flagged(stage: DismissiveStage) -> None:
    reported = "My manager told me I was too junior to present my own work. How do I raise it?"
    assert _score(stage, reported) < 0.5


def test_blunt_feedback_up_the_ladder_is_not_flagged(stage: DismissiveStage) -> None:
    # Flagged by pair-3b40803311 (0.55, 0.85, 0.88): the form a blind set found flagged (9 of
    # 150) and frankness_direct.jsonl was written for (docs/moderation.md).
    for text in (
        "Honestly, your all-hands slides are unreadable on a phone and the juniors stopped "
        "watching. Could we try fewer words per slide?",
        "You rewrite every email I send before it goes out. I never learn what was wrong and it "
        "takes you longer than writing it yourself.",
        "Your meetings run over every week and you talk for most of them.",
    ):
        assert _score(stage, text) < 0.5, text


def test_open_contempt_for_juniors_is_flagged(stage: DismissiveStage) -> None:
    # pair-3b40803311 scored the first two 0.002 and 0.000: its data held few put-downs this
    # plain, and none about juniors as a class (contempt_and_bypass.jsonl).
    for text in (
        "Our juniors are idiots.",
        "Interns are useless.",
        "Our apprentices are a bunch of entitled amateurs.",
        "Honestly, the interns are hopeless.",
    ):
        assert _score(stage, text) >= 0.5, text


def test_advice_against_condescension_is_not_flagged(stage: DismissiveStage) -> None:
    # 0.62 with pair-1f8ff5d7bb, 0.02 with pair-f92b6f16f0, 0.03 with pair-dd83f7f1fc, 0.02
    # with pair-0a3599a29c (the same weights calibrated again).
    advice = "Never tell a graduate they're too green to have a view; ask what they'd change."
    assert _score(stage, advice) < 0.5


def test_going_over_a_reverse_mentors_head_is_flagged(stage: DismissiveStage) -> None:
    # 0.01 with pair-1f8ff5d7bb, 0.62 with pair-f92b6f16f0 (direction_and_narration.jsonl),
    # 0.74 with pair-dd83f7f1fc, 0.75 with pair-0a3599a29c.
    story = (
        "When my reverse mentor raised accessibility I went straight to her line manager "
        "instead. Sorted."
    )
    assert _score(stage, story) >= 0.5


# Known misses of the shipped model (pair-0a3599a29c: pair-dd83f7f1fc's top 4 layers, pulled
# toward their pretrained weights, read with more of the context and calibrated again; the
# scores of pair-f92b6f16f0, two versions before, in brackets). When a model
# passes one, move it to the tests above.
KNOWN_MISSES = [
    # 0.78 (0.87): advice against condescension that quotes it (its longer twin passes, above)
    "Never tell a junior they're too green to have a view.",
    # 0.84 (0.89): one line of blunt feedback up the ladder, opening with "Frankly"
    "Frankly, your status meetings could be an email.",
]
KNOWN_MISSED_PUT_DOWNS = [
    # 0.00 and 0.01 (0.001 and 0.04): contempt for juniors in an idiom, or said of one cohort
    "The juniors on my team are thick as two short planks.",
    "The grad intake this year is the dimmest I've seen.",
    # 0.09 (0.30): a senior recounting how they brushed a reverse mentor off
    "I nodded along to my reverse mentor for an hour and changed nothing. Keeps HR happy.",
]


@pytest.mark.xfail(strict=True, reason="a known miss of the shipped model (see KNOWN_MISSES)")
@pytest.mark.parametrize("text", KNOWN_MISSES)
def test_known_misses_of_the_shipped_model(stage: DismissiveStage, text: str) -> None:
    assert _score(stage, text) < 0.5


@pytest.mark.xfail(strict=True, reason="a put-down the shipped model misses")
@pytest.mark.parametrize("text", KNOWN_MISSED_PUT_DOWNS)
def test_known_missed_put_downs_of_the_shipped_model(stage: DismissiveStage, text: str) -> None:
    assert _score(stage, text) >= 0.5


def test_code_markup_and_data_are_not_put_downs(stage: DismissiveStage) -> None:
    # This markup scored 0.79 (flagged) under a model trained without code or data: it is
    # what members paste when they ask why a page broke.
    for text in (
        '<p onclick="track()">Hi</p>\n<script src="/static/app.js"></script>\n'
        '<img src="logo.png" onerror="this.remove()">\n<a href="javascript:void(0)">menu</a>\n'
        '<svg onload="init()"><use href="#icon"/></svg>\n<iframe src="/embed/video"></iframe>\n'
        '<form action="/search"><input name="q" autofocus onfocus="hint()"></form>\n'
        '<details open ontoggle="log()"><summary>More</summary></details>\n'
        '<object data="/files/report.pdf"></object>\n<meta http-equiv="refresh" content="30">',
        "SELECT mentor_id, COUNT(*) FROM pairs WHERE started >= '2026-01-01' GROUP BY 1;",
        "| Pair | Sessions | Last met |\n|---|---|---|\n| Ana / Raj | 6 | 12 Nov |\n"
        "| Li / Tom | 4 | 3 Nov |",
        'Traceback (most recent call last):\n  File "sync.py", line 40, in run\n'
        "    rows = fetch(cursor)\nTimeoutError: timed out",
    ):
        assert _score(stage, text) < 0.5, text


def test_the_record_states_calibrated_thresholds(stage: DismissiveStage) -> None:
    flag = stage.record["thresholds"]["flag"]
    hold = stage.record["thresholds"]["hold"]
    assert 0 < flag["probability"] <= hold["probability"] < 1
    assert hold["expected_precision"] >= flag["expected_precision"]
    assert stage.calibration is not None
    # The model's flag threshold lands on the policy's `dismissive_flag` (0.5).
    cal = stage.calibration
    p = flag["probability"]
    logit = (math.log(p / (1 - p)) - cal.b - cal.shift) / cal.a  # the raw logit giving p
    assert abs(stage.calibration.policy_score(logit) - 0.5) < 1e-6


def test_the_pipeline_loads_the_version_in_use(tmp_path: object) -> None:
    settings = Settings(secret_key="x", model_dir=str(tmp_path))
    pipeline = Pipeline.from_settings(settings)
    dismissive = next(s.stage for s in pipeline.states if s.stage.name == "dismissive")
    assert isinstance(dismissive, DismissiveStage)
    assert dismissive.model_path == registry.SHIPPED_PATH
    assert not isinstance(dismissive, CueStage)


def test_a_disguised_put_down_is_scored_as_the_plain_one(stage: DismissiveStage) -> None:
    plain = "You're too junior to get this. Come back when you have 20 years in."
    for disguised in (
        "Yоu'rе tоо juniоr tо gеt this. Cоmе bасk whеn yоu hаvе 20 yеаrs in.",  # Cyrillic
        "Y0u're too jun10r to g3t th1s. C0me back wh3n y0u have 20 y3ars in.",
        "Y o u ' r e  t o o  j u n i o r  t o  g e t  t h i s. "
        "C o m e  b a c k  w h e n  y o u  h a v e  2 0  y e a r s  i n.",
        "Y&#111;u're t&#111;&#111; juni&#111;r to get this. C&#111;me back when you have 20 "
        "years in.",
        "You're t**o**o j*uni*or to get this. Come back wh~~e~~n you have 20 years in.",
        "ʏᴏᴜ'ʀᴇ ᴛᴏᴏ ᴊᴜɴɪᴏʀ ᴛᴏ ɢᴇᴛ ᴛʜɪꜱ. ᴄᴏᴍᴇ ʙᴀᴄᴋ ᴡʜᴇɴ ʏᴏᴜ ʜᴀᴠᴇ 20 ʏᴇᴀʀꜱ ɪɴ.",
        "You're 👏 too 👏 junior 👏 to 👏 get 👏 this. Come 👏 back 👏 when you have 20 years in.",
    ):
        # Before the text was normalised these scored 0.00, 0.00, 0.07, 0.00, 0.00, 0.00 and
        # about 0.01.
        assert _score(stage, disguised) == pytest.approx(_score(stage, plain), abs=0.02)
        assert _score(stage, disguised) >= 0.5


def test_a_put_down_shown_as_a_quote_nobody_wrote_is_scored_as_the_writers(
    stage: DismissiveStage,
) -> None:
    text = "> You're too junior to get this. Come back when you have 20 years in.\n\nThis. Exactly this."
    # Read as agreeing with someone else's put-down: piling on may be flagged, not held ...
    endorsed = _score(stage, text)
    assert endorsed < 0.9
    # ... until the worker finds that no post holds the quoted words: then they are the writer's.
    own = _score(stage, unquote_fabricated(text, ["My rota idea."]))
    assert own >= 0.5 and own > endorsed + 0.2


def test_padding_a_put_down_with_one_friendly_sentence_does_not_drown_it(
    stage: DismissiveStage,
) -> None:
    put_down = (
        "You're too junior to understand how the board works. Come back when you have 20 years in."
    )
    pad = " Thanks for sharing, this is a useful discussion and I appreciate the detail."
    for text in (
        put_down + pad * 30,
        pad * 30 + " " + put_down,
        pad * 15 + " " + put_down + pad * 15,
    ):
        assert _score(stage, text, PROPOSAL) >= 0.9, text[:80]


def test_a_stock_put_down_padded_with_filler_is_read_as_its_sentence(
    stage: DismissiveStage,
) -> None:
    """Padding that shows as nothing (link reference definitions), a word or a line said
    hundreds of times, or a long table drowned a put-down in the model's windows (0.02-0.13
    before): the sentence holding a stock phrase is also read alone, and the post is held."""
    settings = Settings()
    put_down = (
        "Look, you are simply too junior to get this, so let the grown-ups handle the "
        "programme and keep quiet."
    )
    header = "|" + "a|" * 20 + "\n|" + "-|" * 20 + "\n"
    pipeline = Pipeline(settings, [CueStage(), stage])
    for state in pipeline.states:
        state.loaded = True
    for pad in (
        "".join(f"[n{i}]: /notes/{i}\n" for i in range(60)) + "\nNote.\n",
        "word " * 300,
        "ok.\n" * 150,
        header + "|\n" * 4000 + "\n",
    ):
        (outcome,) = pipeline.run([PostInput(1, pad + put_down)])
        assert outcome.decision is not None
        assert outcome.scores["dismissive"]["sentence"] >= 0.9, pad[:20]
        assert outcome.decision.verdict == "hold", pad[:20]
    # Advice against the phrase, padded the same way, reads as the advice it is: no sentence
    # is read alone (the cues damp it) and nothing is flagged.
    advice = "Never tell a junior they are too junior to get this; explain it instead."
    (outcome,) = pipeline.run([PostInput(1, "word " * 300 + advice)])
    assert outcome.decision is not None
    assert "sentence" not in outcome.scores["dismissive"]
    assert outcome.decision.verdict == "clear"


def test_a_stock_put_down_that_echoes_its_context_is_still_held(stage: DismissiveStage) -> None:
    """An earlier post that already says the put-down (here spelt out in a link's address) made
    the model read the reply as an echo of it (0.49, clear): the stock phrase's sentence is read
    without the context, so the reply is held all the same. A definition's title, which the page
    shows as a tooltip, is read too."""
    pipeline = _cues_and_model(stage)
    put_down = "You're too junior to get this. Come back when you have 20 years in."
    context = "Relevant: https://example.com/you-are-too-junior-to-get-this-come-back-in-20-years"
    for text in (
        f"[{put_down}][]\n\n[{put_down}]: /guidelines",
        f'Thanks, see [the guide][1].\n\n[1]: /guidelines "{put_down}"',
        put_down,
    ):
        (outcome,) = pipeline.run([PostInput(1, text, context=context)])
        assert outcome.decision is not None
        assert outcome.decision.verdict == "hold", text[:40]
    # The address itself is read as the words it spells.
    (outcome,) = pipeline.run([PostInput(2, context)])
    assert outcome.decision is not None and outcome.decision.verdict != "clear"


def test_a_post_of_one_token_pieces_is_read_in_at_most_max_windows(
    stage: DismissiveStage,
) -> None:
    """20,000 one-token pieces were 80 windows (24 s for the worker); at most MAX_WINDOWS are
    read, the first half and the last half, so both ends of a long post are still read."""
    from moderation.finetune import MAX_WINDOWS, Pair

    assert stage.pairs is not None
    windows = stage.pairs.windows(Pair("", "a " * 20_000 + "the end"))
    assert len(windows) == MAX_WINDOWS
    assert stage.pairs.tokenizer.decode(windows[-1]).endswith("the end [SEP]")
    prose = "Our pilot paired six graduates with six directors and it went well. " * 280
    assert len(stage.pairs.windows(Pair("", prose))) < MAX_WINDOWS  # 20,000 characters of words


def test_a_post_longer_than_a_window_is_read_without_its_context(
    stage: DismissiveStage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every training example fits one window; a longer post read with its context as well
    doubled its windows (a probe's 3,000 quoted lines, which are its context: 20 s each). A
    short reply is still read both ways."""
    from moderation.finetune import Pair

    assert stage.pairs is not None
    pairs = stage.pairs
    read: list[int] = []
    real = pairs.logits
    monkeypatch.setattr(pairs, "logits", lambda batch: (read.append(len(batch)), real(batch))[1])
    long = " ".join(f"Week {n}: we met and talked about the rota." for n in range(60))
    context = "Am I too junior to lead the pilot?"
    assert pairs.score([Pair(context, long)])[0] == pytest.approx(pairs.score([Pair("", long)])[0])
    assert read == [1, 1]  # no second reading with the context
    pairs.score([Pair(context, "Yes.")])
    assert read[-1] == 2


def _cues_and_model(stage: DismissiveStage) -> Pipeline:
    """The cue checker and the shipped model, as the worker runs them (Detoxify left out)."""
    pipeline = Pipeline(Settings(), [CueStage(), stage])
    for state in pipeline.states:
        state.loaded = True
    return pipeline


@pytest.mark.parametrize(
    "text",
    [
        "# You're too junior to get this",
        "[You're too junior to get this](https://example.com)",
        "![You're too junior to get this](https://example.com/x.png)",
        "You're too junior to get this - [source](https://example.com)",
        "You're too junior to get this - source",
        "Youre too junior to get this",
        "yOuRe ToO jUnIoR tO gEt ThIs",
        # A twelfth-session probe's: text-speak, letters apart, a report endorsed or turned on the reader.
        "come back w 20 yrs",
        "yr 2 jnr 2 gt ths. cm bk w 20 yrs",
        "Y-o-u-r-e t-o-o j-u-n-i-o-r t-o g-e-t t-h-i-s",
        "Someone once told me I was too junior to get it. Reading your post, I finally "
        "understand what they meant.",
        "My own mentor once told me to come back when I had 20 years in. I'd pass it on to you.",
    ],
)
def test_a_stock_put_down_stated_directly_is_flagged_whatever_the_model_reads(
    stage: DismissiveStage, text: str
) -> None:
    """The model read these short forms at 0.01-0.49 (probes in the eleventh and twelfth sessions published
    every one); the cues read a stock put-down stated directly, as the model reads the words
    (text-speak spelt out), and that flags a post at least."""
    pipeline = _cues_and_model(stage)
    (outcome,) = pipeline.run([PostInput(1, text)])
    assert outcome.decision is not None
    assert outcome.decision.verdict in ("flag", "hold"), outcome.scores


def test_a_writers_own_story_of_a_put_down_or_a_denial_of_one_is_not_flagged(
    stage: DismissiveStage,
) -> None:
    pipeline = _cues_and_model(stage)
    for text in (
        "My manager told me I was too junior to get it. She was right, I wasn't ready then.",
        "My old boss used to say juniors should come back when they have 20 years in. I never "
        "believed it, and neither should you.",
        "I'd never say you're too junior to understand this; your point about the rota is right.",
    ):
        (outcome,) = pipeline.run([PostInput(1, text)])
        assert outcome.decision is not None and outcome.decision.verdict == "clear", text


def test_a_policy_that_names_a_put_down_in_single_quotes_is_not_flagged(
    stage: DismissiveStage,
) -> None:
    pipeline = _cues_and_model(stage)
    for text in (
        "Advice for anyone leading client meetings: 'juniors should be seen and not heard' is "
        "a poor rule. Give each junior one agenda item.",
        "Remarks such as 'you are too junior to understand' are out of bounds here.",
    ):
        (outcome,) = pipeline.run([PostInput(1, text)])
        assert outcome.decision is not None and outcome.decision.verdict == "clear", text


REPORTED = (
    "My manager said I'm too junior to understand the strategy and should come back when I "
    "have 20 years in. Was she wrong?"
)
SUPPORTED = (
    "My mentor said I wasn't too junior to get this, and to come back when I had a draft, not "
    "when I had 20 years in. I felt heard for the first time."
)
ASKED = "Eight months in HR. Am I too junior to lead our pilot, or should I ask my manager?"


@pytest.mark.parametrize(
    ("context", "text"),
    [
        # Agreeing with what it quotes, in words the cues had not listed (an attacker probe).
        ("", "> You're too junior to get this.\n\nQuite right."),
        ("", "> You're too junior to get this.\n\nSeconded."),
        # Saying the one reported was right, of a report in the first person.
        (REPORTED, "She wasn't wrong."),
        (REPORTED, "Can't argue with her, to be honest."),
        (REPORTED, "Honestly? I'd have said the same, just less politely."),
        # Yes to "am I too junior?", with a quote, a tail or a riddle.
        (ASKED, "Honestly? Yes, you are. Ask your manager."),
        (ASKED, "If you have to ask, you already know the answer."),
        (ASKED, "Short answer: yes. Long answer: also yes."),
        ("", "> Am I too junior to lead our pilot\n\nYes."),
        # The second probe's: riddles, and a report called harsh but fair.
        (ASKED, "Is the Pope Catholic?"),
        (ASKED, "Obviously."),
        (REPORTED, "Harsh but fair."),
        (REPORTED, "Tough love, but accurate."),
        (REPORTED, "Honestly? Fair call by her."),
        (REPORTED, "Can't fault the logic."),
        (ASKED, "Unfortunately, yes. Let your lead do it."),
        (ASKED, "In a word: yep, and by a mile."),
        (ASKED, "I think you know."),
    ],
)
def test_agreeing_with_a_put_down_quoted_reported_or_asked_is_flagged(
    stage: DismissiveStage, context: str, text: str
) -> None:
    (outcome,) = _cues_and_model(stage).run([PostInput(1, text, context=context)])
    assert outcome.decision is not None and outcome.decision.verdict != "clear", text


@pytest.mark.parametrize(
    ("context", "text"),
    [
        (REPORTED, "She was wrong, and you should push back."),
        (REPORTED, "Can't argue with that, it's a fair question to ask her."),
        ("We should trial the buddy scheme next quarter.", "Seconded."),
        ("We should trial the buddy scheme next quarter.", "Quite right."),
        ("Shall we make this a regular thing?", "Yes!"),
        (ASKED, "No, you are not. Lead it, and ask for help when you need it."),
        # A mentor's support, reported, is agreed with (the second probe's false alarms).
        (SUPPORTED, "She's right."),
        (SUPPORTED, "She wasn't wrong."),
        (SUPPORTED, "Your mentor is right, well done on the draft."),
        ("Is the new rota better than the old one?", "Obviously."),
        (ASKED, "Absolutely not. Lead it."),
        (ASKED, "Without a doubt you can do it."),
        (REPORTED, "That was a bad call by her."),
        ("Shall we make this a regular thing?", "> Shall we make this a regular thing?\n\nYes!"),
    ],
)
def test_agreeing_with_what_is_no_put_down_stays_clear(
    stage: DismissiveStage, context: str, text: str
) -> None:
    (outcome,) = _cues_and_model(stage).run([PostInput(1, text, context=context)])
    assert outcome.decision is not None and outcome.decision.verdict == "clear", text
