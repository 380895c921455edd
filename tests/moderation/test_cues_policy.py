"""The cue stage and the policy: pure Python, no database."""

from __future__ import annotations

import pytest

from forum.core.settings import Settings
from moderation import cues
from moderation.policy import DISMISSIVE, MAX_GAP_STEPS, decide, ladder_steps, likelihood
from moderation.signals import PostInput

DISMISSIVE_TEXTS = [
    "You're too junior to get this.",
    # A fifteenth-session probe's: an idiom, the rule stated of juniors, a reader called "kid".
    "Still wet behind the ears, I see. Give it a decade.",
    "Where juniors are seen and not heard",
    "Don't bother messaging me, kid.",
    "Back in my day, graduates kept quiet for the first five years and learned something.",
    "Jordan, the juniors on this pilot should remember their place.",
    "Listen first, Grace; I'll tell you when I want your view.",
    "The grads forgot their place at the offsite.",
    "Nobody under ten years' service gets a vote on this.",
    "Juniors know nothing.",
    "Our grads are useless, frankly.",
    "Come back when you have 20 years in.",
    "Honestly, know your place, intern.",
    "Leave it to the grown-ups, kid.",
    "When you've been here as long as I have, you'll understand.",
    "You'll understand when you're older.",
    "Sit down, junior. The adults are talking.",
    "What would a graduate know about running a department?",
    "Typical millennial, wants a promotion after six months.",
]
NOT_DISMISSIVE = [
    "My manager told me to know my place and it hurt.",
    "I was still wet behind the ears when I joined, and my mentor never made me feel it.",
    "My boss said interns should know their place, which hurt.",
    "The kid, who is fourteen, joined the work-experience week.",
    "I'm too new to judge whether this works.",
    'He said "come back when you have real experience" in front of everyone.',
    "Never tell a junior to come back when they have more experience.",
    "We paired juniors with directors and it went well.",
    "Come back and tell us how the pilot goes!",
    "Know your audience: directors want a one-page summary.",
    "It's too early to judge whether the pilot worked.",
]


# A put-down reported, quoted or advised against, then endorsed or turned on the reader (a
# twelfth-session probe published each of these unflagged), beside the writer's own stories.
ENDORSED = [
    "Someone once told me I was too junior to get it. Reading your post, I finally understand "
    "what they meant.",
    "My old boss used to say juniors should come back when they have 20 years in. Your post "
    "makes me think he had a point.",
    "Our guideline says never tell a mentee they are too junior to get it. Shame, because it "
    "fits this thread perfectly.",
    "My old boss said juniors should come back with 20 years in. He was right",
    "My own mentor once told me to come back when I had 20 years in. I'd pass it on to you.",
    "Not saying you're too junior to get it. Just saying the adults already figured this out.",
    # The second twelfth-session probe's, after the first fixes.
    "They said juniors should come back with 20 years in. Couldn't agree more.",
    "My old boss said juniors should come back with 20 years in. Truer words were never spoken.",
    "I was told on day one: come back when you have 20 years in. Best advice I ever got, and "
    "I'm giving it to you now.",
    # The thirteenth session's probe: reports applied to the thread in looser words, and a
    # put-down behind a stray quotation mark.
    '"You\'re too junior to get this," my first director told me. Same goes for the graduates '
    "in this thread.",
    "My old boss used to say: let's hear from someone with actual experience. He said it "
    "whenever a graduate spoke up, and it applies here too.",
    '"Cute idea, but leave the strategy to the grown-ups," as our CEO put it to the interns. '
    "Wise words for this thread.",
    '"Cute idea, but leave the strategy to the grown-ups," as our CEO put it to the interns '
    "last year. Worth remembering before our next session, Jordan.",
    "<img src=x onerror=alert(1)>\"'><svg/onload=alert(3)> juniors are too junior to get this",
    # "Not wrong" agrees (the first draft of the disowning rule read "wrong" in it).
    "He told her she was too junior to get this. He was not wrong.",
]
OWN_STORIES = [
    "My manager told me I was too junior to get it. She was right, I wasn't ready then.",
    "My manager told me I was too junior to get it. He was right about the budget, not me.",
    "My old boss used to say juniors should come back when they have 20 years in. I never "
    "believed it, and neither should you.",
    "I'd never say you're too junior to understand this; your point about the rota is right.",
    "I'll come back when I have more experience with the tool.",
    # A review's fair posts, which an earlier draft of the endorsement rule read as stock:
    # advice agreed with, a quote then unrelated agreement, a report about the writer.
    "Never tell a junior they're too green to understand the architecture. That advice "
    "still holds.",
    "Don't tell new hires to come back when they have 20 years in. Words to live by.",
    'My old manager used to say "come back when you have 10 years". Not helpful! Your point '
    "about code review still applies, though.",
    "My first lead told juniors to know their place. That's exactly the culture we want to "
    "avoid, and your post sums up this thread nicely.",
    "I was told I'm too junior to understand the roadmap. Looking back, he had a point - but "
    "you can ask for the context.",
    "My mentor told me to come back when I had more experience. Honestly she was right, you know?",
    "You should never say “know your place” to an intern, however frustrated you are.",
    "I'm not saying you're too junior to get this - you clearly get it. But the numbers need "
    "checking.",
    "We hope our graduates come back after a few years to mentor the next cohort.",
    "Lots of our former interns come back with 10 years of experience and lead teams.",
    # A junior's judgement of the speaker (the second probe's only fair post flagged).
    "Someone once said grads should come back with 20 years in. I see what they meant now: "
    "they were scared of being shown up. Sad, honestly.",
    "My boss told me to know my place. Couldn't agree more with the people saying that's toxic.",
    "Juniors should come back when they have five years' experience? No, that rule loses us "
    "good people.",
    # Beside the thirteenth session's: a rule applied, a report disowned or questioned.
    'We banned "you\'re too junior to get this" from our meetings. It applies here too: no '
    "pulling rank.",
    "My old boss said juniors should come back with 20 years in. He was wrong, and the same "
    "goes for anyone in this thread who thinks so.",
    'Our CEO told the interns "cute idea, but leave the strategy to the grown-ups". Wise '
    "words? No. It was the day two of them resigned.",
    'A director once said "let\'s hear from someone with actual experience" after I spoke. It '
    "still stings.",
    # A review's fair posts for the thirteenth session's cues: a topic after them.
    "Can we get someone with actual experience of Kafka to weigh in? I have none.",
    "Our juniors know nothing about the deploy process on day one, so we document it.",
]


@pytest.mark.parametrize("text", ENDORSED)
def test_a_report_the_writer_endorses_or_turns_on_the_reader_is_a_put_down(text: str) -> None:
    assert cues.reading(text) >= cues.STOCK
    assert cues.stated_plainly(text)
    assert any(c.endorsed or not c.damped_by for c in cues.find_cues(text))


@pytest.mark.parametrize("text", OWN_STORIES)
def test_a_writers_own_story_or_denial_is_not_made_a_put_down(text: str) -> None:
    assert cues.reading(text) < cues.STOCK, cues.find_cues(text)
    assert not cues.stated_plainly(text)


@pytest.mark.parametrize("text", DISMISSIVE_TEXTS)
def test_cues_find_put_downs_with_spans(text: str) -> None:
    found = cues.find_cues(text)
    assert found and max(c.score for c in found) >= 0.5, text
    for c in found:
        assert text[c.start : c.end] == c.text
    assert cues.nudge_phrases(text)


@pytest.mark.parametrize("text", NOT_DISMISSIVE)
def test_cues_leave_reports_self_talk_and_advice_alone(text: str) -> None:
    assert cues.nudge_phrases(text) == [], text
    signal = cues.score(text)[0]
    assert signal.score < 0.5


def test_watched_phrases_match_case_and_spacing() -> None:
    signals = cues.score("That is SO   typical of HR.", watched=["so typical"])
    watched = next(s for s in signals if s.label == "watched_phrase")
    assert watched.score > 0 and watched.evidence[0].text == "SO   typical"
    assert (
        next(
            s for s in cues.score("Nothing here.", ["so typical"]) if s.label == "watched_phrase"
        ).score
        == 0
    )


def test_combine_is_noisy_or() -> None:
    assert cues.combine([]) == 0
    assert cues.combine([0.5, 0.5]) == 0.75


def test_policy_thresholds_and_reason_codes() -> None:
    s = Settings(secret_key="x")
    post = PostInput(post_id=1, text="x")
    assert decide({"cues": {"dismissive": 0.2}}, post, s).verdict == "clear"
    flagged = decide({"cues": {"dismissive": 0.6}}, post, s)
    assert flagged.verdict == "flag" and flagged.reasons == [DISMISSIVE]
    assert decide({"cues": {"dismissive": 0.95}}, post, s).verdict == "hold"
    # When the model ran, it decides: a cue phrase in advice against it ("never tell a junior
    # they're too green") does not flag on its own. The cues still mark the evidence.
    advice = {"cues": {"dismissive": 0.9}, "dismissive": {"dismissive": 0.1}}
    assert decide(advice, post, s).verdict == "clear"
    # A stock put-down stated directly (cue 1.0) settles a post the model flags: held, where
    # the model's 0.89 alone would leave it on view. A weaker cue, or a model that does not
    # flag the post, leaves the model's verdict as it was.
    stock = {"cues": {"dismissive": 1.0}, "dismissive": {"dismissive": 0.89}}
    said = PostInput(post_id=1, text="@jo You're too junior to understand this. Know your place.")
    assert decide(stock, said, s).verdict == "hold"
    # In the writer's own words only: a reply quoting one is weighed by the model alone.
    quoting = PostInput(post_id=1, text="> **bob** wrote:\n> Know your place, junior.\n\nUnfair.")
    assert decide(stock, quoting, s).verdict == "flag"
    weaker = {"cues": {"dismissive": 0.9}, "dismissive": {"dismissive": 0.89}}
    assert decide(weaker, post, s).verdict == "flag"
    unflagged = {"cues": {"dismissive": 1.0}, "dismissive": {"dismissive": 0.29}}
    assert decide(unflagged, post, s).verdict == "clear"
    # A phrase the composer points out (cues at NUDGE or more) in a post the model reads as a
    # maybe (0.6 of the flag or more) is flagged: its author posted it after the note.
    for cue, model, verdict in ((0.5, 0.3, "flag"), (0.49, 0.49, "clear"), (0.5, 0.29, "clear")):
        read = {"cues": {"dismissive": cue}, "dismissive": {"dismissive": model}}
        assert decide(read, post, s).verdict == verdict, (cue, model)
    tox = decide({"toxicity": {"insult": 0.61, "toxicity": 0.5}}, post, s)
    assert tox.verdict == "flag" and tox.reasons == ["INSULT"]
    assert decide({"toxicity": {"insult": 0.59}}, post, s).verdict == "clear"
    assert decide({"toxicity": {"threat": 0.9}}, post, s).verdict == "hold"
    # Thresholds come from settings.
    strict = Settings(secret_key="x", toxicity_flag={"insult": 0.3}, dismissive_flag=0.15)
    assert decide({"toxicity": {"insult": 0.35}}, post, strict).verdict == "flag"
    assert decide({"cues": {"dismissive": 0.2}}, post, strict).verdict == "flag"


def test_policy_weighs_who_answers_whom_and_exempts_nobody() -> None:
    s = Settings(secret_key="x")
    scores = {"cues": {"dismissive": 0.4}, "dismissive": {"dismissive": 0.45}}
    peer = PostInput(1, "x", writer_level=2, target_level=2)
    director_to_newcomer = PostInput(1, "x", writer_level=4, target_level=0)
    assert decide(scores, peer, s).verdict == "clear"
    down = decide(scores, director_to_newcomer, s)
    assert down.verdict == "flag" and down.context["seniority_gap"] == 3
    # Moderators are scored like everyone else (and their role counts as seniority).
    moderator = PostInput(1, "x", writer_level=0, writer_role="moderator", target_level=0)
    assert decide(scores, moderator, s).verdict == "flag"
    # A sharp reply up the ladder is flagged, never held; a clear put-down to a peer is held
    # (naming a peer's post must not keep a put-down of a junior on view).
    upward = PostInput(1, "x", writer_level=0, target_level=4)
    assert decide({"cues": {"dismissive": 0.97}}, upward, s).verdict == "flag"
    # ... from a member with a history: a fresh account naming a senior's post is held.
    fresh = PostInput(1, "x", writer_level=0, target_level=4, established=False)
    assert decide({"cues": {"dismissive": 0.97}}, fresh, s).verdict == "hold"
    assert decide({"cues": {"dismissive": 0.97}}, peer, s).verdict == "hold"
    mod_peer = PostInput(1, "x", writer_level=4, target_level=1, target_role="moderator")
    assert decide({"cues": {"dismissive": 0.97}}, mod_peer, s).verdict == "hold"


def test_a_programme_pairs_seniority_gap_counts_as_rank_steps_capped_as_ranks_are() -> None:
    assert [ladder_steps(y) for y in (-4, 0, 1, 5, 6, 10, 11, 40)] == [0, 0, 1, 1, 2, 2, 3, 3]
    assert ladder_steps(60) == MAX_GAP_STEPS
    s = Settings(secret_key="x")
    scores = {"cues": {"dismissive": 0.85}}
    ladder = {"source": "programme", "pair_id": 7, "gap_years": 18, "steps": 3}
    down = PostInput(1, "x", writer_level=ladder_steps(18), target_level=0, ladder=ladder)
    up = PostInput(1, "x", writer_level=0, target_level=ladder_steps(18), ladder=ladder)
    senior, junior = decide(scores, down, s), decide(scores, up, s)
    assert senior.dismissive > junior.dismissive == 0.85
    assert senior.verdict == "hold" and junior.verdict == "flag"
    # The decision records the ladder it was given (and nothing when there was none).
    assert senior.context["ladder"] == ladder and senior.context["seniority_gap"] == 3
    assert ladder is not senior.context["ladder"]  # a copy: the input is not shared
    assert "ladder" not in decide(scores, PostInput(1, "x"), s).context
    # However large, a gap weighs no more than the policy's cap on rank steps.
    far = PostInput(1, "x", writer_level=40, target_level=0)
    capped = PostInput(1, "x", writer_level=MAX_GAP_STEPS, target_level=0)
    assert decide(scores, far, s).dismissive == decide(scores, capped, s).dismissive


def test_likelihood_words() -> None:
    assert [likelihood(v, 0.5) for v in (0.9, 0.35, 0.1)] == ["Likely", "Maybe", "Unlikely"]


def test_a_title_counts_when_the_model_and_the_cues_both_read_it_as_a_put_down() -> None:
    s = Settings(secret_key="x")
    post = PostInput(1, "Juniors are too green...\n\nAgenda for next week.", title="Juniors...")

    def verdict(model_title: float, cue_title: float, body: float = 0.01) -> str:
        scores = {"dismissive": {"dismissive": body, "title": model_title},
                  "cues": {"dismissive": 1.0, "title": cue_title}}  # fmt: skip
        return decide(scores, post, s).verdict

    assert verdict(0.44, 1.0) == "flag"  # sqrt(0.44): a put-down title over a harmless body
    assert verdict(0.92, 1.0) == "hold"
    assert verdict(0.83, 0.0) == "clear"  # "Why juniors should chair meetings": the model alone
    assert verdict(0.01, 0.65) == "clear"  # "Am I too junior to lead the pitch?": cues alone
    # "Know your place, junior": a stock put-down the model misreads alone (0.08) is flagged.
    assert verdict(0.08, 0.95) == "flag"
    assert verdict(0.01, 0.0, body=0.97) == "hold"  # the body still counts on its own
    # Without the model, the cues' reading of the title alone, as for the body.
    cues_only = {"cues": {"dismissive": 0.0, "title": 0.95}}
    assert decide(cues_only, post, s).verdict == "hold"


def test_a_fresh_accounts_title_stating_a_stock_put_down_is_held() -> None:
    # A probe's title went public with a flag only: the model read the label before the
    # phrase as harmless ("Juniors: you're too junior to get this" 0.11).
    s = Settings(secret_key="x")
    title = "Juniors: you're too junior to get this"
    scores = {"dismissive": {"dismissive": 0.01, "title": 0.11},
              "cues": {"dismissive": 1.0, "title": 1.0}}  # fmt: skip
    body = f"{title}\n\nAgenda for next week."
    fresh = PostInput(1, body, title=title, established=False)
    assert decide(scores, fresh, s).verdict == "hold"
    # An established member's is flagged (on view while a moderator looks), as before; a
    # title naming the phrase in quotation marks is not stating it.
    assert decide(scores, PostInput(1, body, title=title), s).verdict == "flag"
    named = "Handling 'you're too junior to get this'"
    quoted = PostInput(1, f"{named}\n\nAgenda.", title=named, established=False)
    assert decide(scores, quoted, s).verdict == "flag"


def test_a_fresh_accounts_stock_put_down_the_model_misreads_is_held() -> None:
    # "# You're too junior to get this" as a heading: the model 0.05. An established member's
    # is flagged (on view while a moderator looks); a fresh account's is held.
    s = Settings(secret_key="x")
    text = "# You're too junior to get this"
    scores = {"dismissive": {"dismissive": 0.05}, "cues": {"dismissive": 1.0}}
    assert decide(scores, PostInput(1, text), s).verdict == "flag"
    assert decide(scores, PostInput(1, text, established=False), s).verdict == "hold"
    # Named in single quotation marks, a policy's words: flagged at most, whoever writes.
    named = "Our rule: never say 'you're too junior to get this' to anyone."
    assert decide(scores, PostInput(1, named, established=False), s).verdict != "hold"


def test_the_nudge_names_each_phrase_once() -> None:
    text = "Know your place. " * 300 + "know   YOUR place, and come back when you have 20 years in."
    phrases = cues.nudge_phrases(text)
    assert len(phrases) == 2 and phrases[0] == "Know your place"


def test_a_stock_put_down_split_across_two_posts_is_found_only_across_them() -> None:
    from moderation.policy import split_put_down

    assert split_put_down("You're too", "junior to get this.")
    assert split_put_down("Come back when", "you have 20 years in.")
    assert not split_put_down("Thanks for the notes.", "See you Friday.")
    # Each post answers for what it says alone; a report stays a report.
    assert not split_put_down("You're too junior to get this.", "Sorry, that was rude.")
    assert not split_put_down("I was told I'm too", "junior to get this. It hurt.")


@pytest.mark.parametrize(
    ("text", "agrees"),
    [("Exactly this.", True), ("+1", True), ("Well said!! 💯", True), ("This is why juniors leave.", False),
     ("So much this. Agreed.", True), ("Not this.", False), ("Exactly this, but kinder.", False),
     ("Agreed, though I'd ask the graduates first.", False), ("Yes.", False)],
)  # fmt: skip
def test_a_reply_that_only_agrees(text: str, agrees: bool) -> None:
    assert cues.agrees_only(text) is agrees


def test_agreeing_with_a_put_down_is_one() -> None:
    """A reply that only agrees says what it agrees with: with a quoted stock put-down, the
    phrase counts as said (a probe's "Exactly this." under one passed four times); with a post
    moderation flagged, it is flagged too. Disagreeing, or agreeing with a fair post, is not."""
    s = Settings(secret_key="x")
    quoted = "> You're too junior to get this. Come back when you have 20 years in.\n\n"
    stock = {"cues": {"dismissive": 1.0}, "dismissive": {"dismissive": 0.02}}
    agreeing = PostInput(post_id=1, text=quoted + "Exactly this.")
    assert decide(stock, agreeing, s).verdict == "flag"
    assert decide(stock, PostInput(post_id=1, text=quoted + "Unfair."), s).verdict == "clear"
    plain = {"cues": {"dismissive": 0.0}, "dismissive": {"dismissive": 0.02}}
    flagged = PostInput(post_id=1, text="+1", context="Graduates should sit quietly.",
                        context_flagged=True)  # fmt: skip
    assert decide(plain, flagged, s).verdict == "flag"
    fair = PostInput(post_id=1, text="+1", context="Graduates should chair the retro.")
    assert decide(plain, fair, s).verdict == "clear"
    # Agreeing with pushback that quoted a put-down agrees with the pushback.
    pushback = "> You're too junior to get this.\n\nThat is out of line, and you know it."
    agreeing_pushback = PostInput(post_id=1, text="Exactly this.", context=pushback)
    assert decide(stock, agreeing_pushback, s).verdict == "clear"
    more = PostInput(post_id=1, text="+1, and I'd ask them what they need.",
                     context="Graduates should sit quietly.", context_flagged=True)  # fmt: skip
    assert decide(plain, more, s).verdict == "clear"


def test_saying_yes_to_a_junior_asking_if_they_are_too_junior_is_flagged() -> None:
    """A probe's fresh account answered "Am I too junior to contribute to the strategy
    review?" with "Short answer: yes." and "You answered your own question.": published."""
    s = Settings(secret_key="x")
    plain = {"cues": {"dismissive": 0.0}, "dismissive": {"dismissive": 0.01}}
    asked = "Am I too junior to contribute to the strategy review? I have been here six months."
    for reply in ("Short answer: yes.", "You answered your own question.", "Correct.", "Yep"):
        post = PostInput(post_id=1, text=reply, context=asked, established=False)
        assert decide(plain, post, s).verdict == "flag", reply
    quoting = PostInput(post_id=1, text=f"> {asked}\n\nHonestly, yes.")
    assert decide(plain, quoting, s).verdict == "flag"
    # Reassurance, a fuller answer, and a yes to another question are not.
    for reply, context in (
        ("No! Your view matters.", asked),
        ("Yes, contribute: we need that view.", asked),
        ("Yes.", "Is it normal to feel nervous before a first session?"),
        ("Yes.", "Should I bring notes to my first reverse-mentoring session?"),
    ):
        post = PostInput(post_id=1, text=reply, context=context)
        assert decide(plain, post, s).verdict == "clear", (reply, context)


def test_a_name_holding_contempt_for_juniors_is_refused() -> None:
    # A thirteenth-session probe registered juniors_know_nothing, shown on every post.
    from forum.accounts.services import AccountError, validate_username

    with pytest.raises(AccountError, match="reads as a put-down"):
        validate_username("juniors_know_nothing")
    assert validate_username("junior_knows_python") == "junior_knows_python"


def test_a_phrase_stated_plainly_is_flagged_unless_the_model_reads_the_post_as_fair() -> None:
    """A probe's "Still wet behind the ears, I see." under a quote of the junior's post (the
    context read it down) and a profile's "Where juniors are seen and not heard" passed."""
    s = Settings(secret_key="x")
    said = PostInput(post_id=1, text="Still wet behind the ears, I see. Give it a decade.")
    for model, verdict in ((0.02, "flag"), (0.25, "flag"), (0.019, "clear")):
        read = {"cues": {"dismissive": 0.85}, "dismissive": {"dismissive": model}}
        assert decide(read, said, s).verdict == verdict, model
    # Quoted, reported or advised against, it is left to the model.
    for fair in ('He said "still wet behind the ears" about me and it stung.',
                 "Never tell a junior they're 'still wet behind the ears'."):  # fmt: skip
        read = {"cues": {"dismissive": 0.9}, "dismissive": {"dismissive": 0.25}}
        assert decide(read, PostInput(post_id=1, text=fair), s).verdict == "clear", fair
    # A title that states one, whatever the model read of it.
    titled = PostInput(
        post_id=1, text="Fine body.", title="Still wet behind the ears and mentoring?"
    )
    read = {"cues": {"dismissive": 0.0, "title": 0.85}, "dismissive": {"dismissive": 0.01}}
    assert decide(read, titled, s).verdict == "flag"


def test_a_stock_put_down_written_backwards_is_read_back() -> None:
    s = Settings(secret_key="x")
    backwards = PostInput(post_id=1, text="siht teg ot roinuj oot er'uoy", established=False)
    read = {"cues": {"dismissive": 0.0}, "dismissive": {"dismissive": 0.01}}
    assert decide(read, backwards, s).verdict == "hold"
    assert decide(read, PostInput(post_id=1, text="olleh dlrow"), s).verdict == "clear"


def test_kind_words_the_cues_once_read_as_put_downs() -> None:
    """A probe's new members had "…you are not too junior to get this." held, and fair lines
    from established members were flagged."""
    for kind in ("Honestly, you are not too junior to get this.",
                 "Nobody is too junior to get this.", "You are never too junior to get this.",
                 "Come back when you're ready, no rush.",
                 "Come back when you have a moment and we'll go through it.",
                 "When we need juniors' input, we'll ask them in the quarterly survey."):  # fmt: skip
        assert cues.reading(kind) < cues.NUDGE, kind
    for put_down in ("You're too junior to get this.", "Come back when you have 20 years in.",
                     "When I want a junior's opinion, I'll ask for it."):  # fmt: skip
        assert cues.reading(put_down) >= cues.STOCK, put_down
    # A yes encourages a member asking whether to apply though junior.
    asked = "Should I apply to the programme even though I am too junior?"
    assert not cues.confirms_self_doubt("Yes!", asked)
    assert cues.confirms_self_doubt("Yes.", "Am I too junior to chair the retro?")


def test_a_quotation_that_is_the_writers_own_answer_counts_as_said() -> None:
    """An eighteenth-session probe published stock put-downs in double quotation marks as its
    own answer to a member ("My answer to your question, @grace_w: "You're too junior to get
    this.""): the quote rule read each as reported speech."""
    for said in (
        'My answer to your question, @grace_w: "You\'re too junior to get this."',
        'Quick reply to the intern above: "Know your place."',
        "Response: “You are far too green to understand any of this.”",
        '@grace_w here\'s my honest feedback on your idea: "come back when you have 20 years in."',
        '@grace_w: "you\'re too junior to get this"',
        # A second probe's: a name and a dash, "what I'd say … is", "here is what I think".
        'Grace — "You\'re too junior to get this."',
        "What I'd say to @grace_w is simply \"you're too junior to get this\"",
        'Here is what I think of your post: "you are too junior to get this"',
    ):
        assert cues.reading(said) >= cues.STOCK - 0.1, said
        assert cues.stated_plainly(said, cues.NUDGE), said
    for reported in (
        "My manager's response was \"you're too junior to get this\" and I quit.",
        'He told me: "You\'re too junior to get this."',
        'Their response: "You\'re too junior to get this."',
        'My advice: never tell a junior "you\'re too junior to get this".',
        'My least favourite line from my old boss: "know your place".',
        'Jordan — "know your place" is what my boss said.',
    ):
        assert cues.reading(reported) < 0.5, reported


def test_the_eighteenth_sessions_put_downs_are_cues() -> None:
    for said in (
        "I have shoes older than your career, so forgive me if I don't take notes.",
        "Sit at the kids' table and let us finish.",
        "Interns can go back to the kids' table.",
        "I've been doing this longer than you've been alive.",
        "Go sit with the interns at the children's table, Grace.",
    ):
        assert cues.reading(said) >= 0.8, said
    # "You're too junior." said and left there: a phrase the composer points out.
    for said in ("You're too junior.", "YOU'RE TOO JUNIOR", "Honestly? You're too new."):
        assert cues.reading(said) >= cues.NUDGE, said
    for fair in ("If you think you're too junior, apply anyway.", "No, you're not too junior.",
                 "I worry you're too junior.", 'He said "you\'re too junior" and walked off.'):  # fmt: skip
        assert cues.reading(fair) < cues.NUDGE, fair
    for fair in (
        "My kids still sit at the kids' table at Christmas and love it.",
        "I have been mentoring longer than my mentee has been alive, and she taught me a lot.",
    ):
        assert cues.reading(fair) == 0.0, fair


def test_a_post_of_many_numbered_put_downs_is_read_alone_a_few_times_only() -> None:
    """A probe's post of 570 numbered stock put-downs had each sentence read alone by the
    model: 15 s of the worker's time for one post."""
    post = " ".join(
        f"You are too junior to get this {i}. Know your place, kid {i}. "
        f"Come back when you have {i} years in."
        for i in range(200)
    )
    assert len(cues.stock_sentences(post)) == 3  # the same sentences, however numbered
    varied = " ".join(f"Know your place, {name}." for name in map(str, range(1000, 1100)))
    assert len(cues.stock_sentences(varied.replace("1", "a"))) <= cues.MAX_ALONE


def test_a_reply_up_the_ladder_that_names_a_junior_is_not_spared_the_hold() -> None:
    """A probe's established newcomer replied to a Director's post with "@kofi_a you are too
    junior to get this": the reply "up the ladder" kept the put-down of a third member on
    view."""
    s = Settings(secret_key="x")
    stock = {"cues": {"dismissive": 1.0}, "dismissive": {"dismissive": 0.99}}
    up = PostInput(1, "@kofi_a you are too junior to get this.", writer_level=0, target_level=4)
    assert up.aimed_up and decide(stock, up, s).verdict == "flag"
    at_junior = PostInput(1, up.text, writer_level=0, target_level=4, mentioned_levels=(0,))
    assert not at_junior.aimed_up and decide(stock, at_junior, s).verdict == "hold"
    # Naming another senior keeps it a reply up the ladder.
    at_senior = PostInput(1, up.text, writer_level=0, target_level=4, mentioned_levels=(3,))
    assert at_senior.aimed_up


def test_a_fresh_account_is_held_sooner_and_a_juniors_frank_line_is_never_held() -> None:
    s = Settings(secret_key="x")
    likely = {"cues": {"dismissive": 0.0}, "dismissive": {"dismissive": 0.88}}
    fresh = PostInput(1, "This is what happens when we let graduates in.", established=False)
    member = PostInput(1, fresh.text, writer_level=2)
    assert decide(likely, fresh, s).verdict == "hold"
    assert decide(likely, member, s).verdict == "flag"
    # An established member on the first rank, no stock put-down: flagged, not hidden ("With
    # respect, you're out of touch with how juniors experience these meetings", 0.92).
    strong = {"cues": {"dismissive": 0.0}, "dismissive": {"dismissive": 0.95}}
    junior = PostInput(1, "With respect, you're out of touch with how juniors experience it.")
    assert decide(strong, junior, s).verdict == "flag"
    assert decide(strong, member, s).verdict == "hold"
    # ... but a stock put-down from the same junior is held, as is a fresh account's line.
    said = {"cues": {"dismissive": 1.0}, "dismissive": {"dismissive": 0.95}}
    assert decide(said, junior, s).verdict == "hold"
    assert decide(strong, PostInput(1, junior.text, established=False), s).verdict == "hold"
    # Not a newcomer's put-down of another newcomer (an attacker probe's established newcomer
    # kept one on view): answering or naming a member at the writer's level, or a phrase the
    # composer points out ("kids' table", 0.8), and it is held as anyone's.
    at_peer = PostInput(1, junior.text, target_level=0)
    naming_peer = PostInput(1, junior.text, mentioned_levels=(0,))
    assert decide(strong, at_peer, s).verdict == "hold"
    assert decide(strong, naming_peer, s).verdict == "hold"
    phrase = {"cues": {"dismissive": 0.8}, "dismissive": {"dismissive": 0.95}}
    assert decide(phrase, junior, s).verdict == "hold"


def test_another_members_post_is_read_with_the_next_only_when_it_broke_off() -> None:
    from datetime import timedelta

    from moderation.policy import broken_off, split_put_down

    assert broken_off("Honestly @grace_w, you are far too", timedelta(seconds=1))
    # An ellipsis, a comma or a dash leaves a sentence open (a probe split at "...").
    for end in ("you're way too...", "you're way too…", "you are far too,", "you are far too -"):
        assert broken_off(end, timedelta(seconds=1)), end
    assert split_put_down("you're way too...", "...junior to get any of this")
    assert not broken_off("Honestly @grace_w, you are far too", timedelta(hours=1))
    assert not broken_off("Thanks, that helps.", timedelta(seconds=1))
    assert not broken_off("", timedelta(seconds=1))


HINGLISH_PUT_DOWNS = [
    "Tum abhi bahut junior ho, tumhe kya pata strategy ke baare mein.",
    "Abhi toh tum bachche ho, senior logon ko mat sikhao.",
    "Tumhari aukaat nahi hai humein sikhane ki.",
    "Aukaat mein raho, intern.",
    "Kal ke aaye ho aur humein gyaan de rahe ho?",
    "Yeh intern log kuch nahi jaante, inki baat mat suno.",
    "Bachchon ko kya pata budgeting ke baare mein.",
    "Apni aukaat dekho.",
]
HINGLISH_FAIR = [
    "Main abhi bachcha hoon, mujhe kya pata.",  # the writer's own modesty
    "Tum bachche nahi ho, tumhari baat important hai.",  # denied
    "Mujhe sikhao please, main seekhna chahta hoon.",  # "teach me, please"
    "Aapko kya pata nahi hai? Main samjha deta hoon.",  # "what don't you know? I'll explain"
    "Junior ne accha point diya, hum isko try karenge.",
    "Kal ka session bahut accha tha, dhanyavaad.",
    # The second attacker probe's: a parent's news, "what did you find out", advice.
    "mere abhi do bachche hain, isliye late aaunga",
    "Tumhe kya pata chala meeting mein?",
    "pehle do saal kaam karo, phir promotion ki baat karna",
]


def test_stock_put_downs_in_hindi_written_in_latin_letters_are_cues() -> None:
    s = Settings(secret_key="x")
    for said in HINGLISH_PUT_DOWNS:
        assert cues.reading(said) >= cues.STOCK and cues.stated_plainly(said), said
        # The model cannot read them: a fresh account's is held, an established member's
        # flagged for a moderator.
        scores = {"dismissive": {"dismissive": 0.01}, "cues": {"dismissive": cues.reading(said)}}
        assert decide(scores, PostInput(1, said, established=False), s).verdict == "hold", said
        assert decide(scores, PostInput(1, said), s).verdict == "flag", said
    for fair in HINGLISH_FAIR:
        assert cues.reading(fair) < cues.NUDGE, fair
    # Reported: "he said that you are kids; it hurt".
    reported = "Usne kaha ki tum bachche ho, bahut bura laga."
    assert 0 < cues.reading(reported) < cues.NUDGE


def test_a_reply_endorsing_a_put_down_the_answered_post_reports_is_one() -> None:
    s = Settings(secret_key="x")
    asked = (
        'When I asked about the budget process my manager said "you are too junior to get '
        'this". How should I respond next time?'
    )
    scores = {"dismissive": {"dismissive": 0.01}, "cues": {"dismissive": 0.0}}
    for reply in (
        "Your manager is right.",
        "Honestly? Your manager got it in one.",
        "I'd have told you exactly the same thing.",
        "Next time, respond with: 'You're right, sorry.' Because they are.",
        # The second attacker probe's.
        "Your manager is right about you.",
        "Manager's right.",
        "Your manager is spot-on.",
    ):
        post = PostInput(1, reply, context=asked, established=False)
        assert decide(scores, post, s).verdict == "hold", reply
        assert decide(scores, PostInput(1, reply, context=asked), s).verdict == "flag", reply
        # Under a post that reports nothing, the same words are nothing.
        plain = PostInput(1, reply, context="We moved the budget review to Friday.")
        assert decide(scores, plain, s).verdict == "clear", reply
    for fair in (
        "Your manager is right that you should ask for the budget training first.",
        "Your manager is wrong. Ask again, and ask what you would need to know.",
        "Sorry that happened. Your manager was out of line.",
        "He is right to be careful with budget numbers, but not like that.",
    ):
        post = PostInput(1, fair, context=asked, established=False)
        assert decide(scores, post, s).verdict == "clear", fair
    # Agreeing with someone else the post names (an attacker probe's was held).
    both = ('My manager said "you are too junior to get this". My mentor said to ask for a '
            "walkthrough anyway.")  # fmt: skip
    mentor = PostInput(1, "Your mentor is right, ask for the walkthrough.", context=both,
                       established=False)  # fmt: skip
    assert decide(scores, mentor, s).verdict == "clear"
    manager = PostInput(1, "Your manager is right.", context=both, established=False)
    assert decide(scores, manager, s).verdict == "hold"


def test_too_junior_said_in_another_language_within_english_is_a_cue() -> None:
    for said in (
        "Franchement, t'es trop junior pour get it. Come back dans vingt ans.",
        "Mira, eres demasiado junior para get this, ok? Come back en veinte años.",
        "Du bist zu jung, um das zu verstehen.",
        "Sei troppo giovane per capire.",
    ):
        assert cues.reading(said) >= cues.STOCK and cues.stated_plainly(said), said
    for fair in (
        "Je suis trop junior pour ça, mais j'essaie.",  # the writer of themselves
        "Ne pense pas que tu es trop junior pour parler.",  # "don't think you're too junior"
        "No eres demasiado joven para liderar.",
        "Non sei troppo giovane per capire.",
        # The second attacker probe's: a denial after the verb, and "very" for "too".
        "du bist nicht zu jung, um Feedback zu geben",
        "Tu n'es pas trop junior pour parler.",
        "Je bent niet te jong om mee te praten.",
        "Eres muy joven for a team lead, which is brilliant.",
    ):
        assert cues.reading(fair) < cues.NUDGE, fair
