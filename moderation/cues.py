"""Stage 1, cues: fast, explainable patterns for put-downs of junior colleagues.

Pure Python (no model), so the web process uses it for the composer's nudge. A cue is a
dismissal ("come back when…", "know your place", "too green to understand") aimed at the
reader or at juniors as a group; seniority markers ("intern", "kid", "grad") near it raise the
score. Reported speech ("my manager told me to know my place") and people speaking of
themselves ("I'm too new to judge") are what a forum for juniors must *not* flag, so those
lower the score instead.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from moderation.normalise import as_shown, fold
from moderation.signals import Evidence, Signal, own_words

STAGE = "cues"
VERSION = "cues-1"

_YOU = r"(?:you|ya|u|you guys|you lot|you people|y'?all)"
_YOURE = r"(?:you(?:'| a)?re|you are|ur|youre|u r)"
_JUNIORS = (
    r"(?:juniors?|interns?|kids?|grads?|graduates?|millennials?|gen[- ]?z(?:ers?)?|zoomers?|"
    r"youngsters?|young (?:people|ones|folks|things|guns)|newbies?|rookies?|noobs?|newcomers?|"
    r"freshers?|trainees?|apprentices?|new hires?|children|child|boys? and girls?|"
    r"junior (?:staff|people|colleagues|employees|devs?|developers|analysts)|entry[- ]level (?:staff|people|folks))"
)
SENIORITY_MARKER = re.compile(
    rf"\b(?:{_JUNIORS}|you young(?:sters| people| ones)?|sonny|little (?:girl|boy|one)|sweetie|"
    r"wet behind the ears|(?:barely|fresh|straight) out of (?:school|uni|university|college|nappies|diapers)|"
    r"entry[- ]level|first[- ]year|(?:\d+|twenty|thirty) years? (?:in|of experience))\b",
    re.I,
)
_TOO = r"(?:too|way too|far too|much too|a bit too)"
_GREEN = (
    r"(?:young|junior|green|inexperienced|new|naive|na[iï]ve|fresh|immature|wet behind the ears|"
    r"early in (?:your|their) career)"
)
_GET = (
    r"(?:understand|get|grasp|comprehend|follow|appreciate|know|judge|see|have an opinion|"
    r"comment|weigh in|have a say|be taken seriously|lead|decide|contribute|remember)"
)


@dataclass(frozen=True)
class Cue:
    name: str
    pattern: re.Pattern[str]
    weight: float


def _cue(name: str, pattern: str, weight: float) -> Cue:
    return Cue(name, re.compile(pattern, re.I), weight)


CUES = [
    _cue("too_junior_to_understand",
         rf"\b(?:{_YOURE}|they(?:'re| are)|{_JUNIORS} (?:are|is))\s+(?:(?!not\b|never\b|n't\b)\w+\s+)?{_TOO}\s+{_GREEN}\s+to\s+(?:really\s+|even\s+|possibly\s+|fully\s+)?{_GET}\b", 0.9),
    # (Not denied: "you are not too junior to get this", "nobody is too junior to …".)
    _cue("too_junior_to_understand_short",
         rf"(?<!\bnot )(?<!\bnever )(?<!\bnobody is )(?<!\bno one is )(?<!\bnobody's )\b{_TOO}\s+{_GREEN}\s+to\s+(?:really\s+|even\s+|possibly\s+|fully\s+)?{_GET}\b", 0.55),
    # (Not a kind "come back when you're ready" or "when you have a moment".)
    _cue("come_back_when",
         rf"\bcome back (?:to (?:me|us) )?(?:when|once|after)\s+{_YOU}"
         r"(?!(?:'re| are|'ve| have|'ll| will| feel)?\s*(?:ready|free|able|done|finished|back|settled|"
         r"rested|feeling (?:better|up to it)|(?:got |had )?(?:a|some) (?:moment|minute|sec|second|"
         r"chance|time)|like|want|wish)\b)"
         r"(?:'ve| have|'re| are|'ll| will| actually| finally| get| got| can|\s)", 0.9),
    # The same said of juniors or reported ("told me to come back when I had 20 years in"):
    # read about oneself unless reported, and counted when the writer endorses the report.
    _cue("come_back_when_shifted",
         r"\bcome back (?:when|once|after)\s+(?:they|I|we|he|she)(?:'ve|'d| have| had| get| got)\b[^.!?\n]{0,30}?\b(?:years?|experience)\b", 0.7),
    _cue("come_back_in_years", r"\bcome back (?:in|with|w/?) (?:\w+ )?(?:\d+|a few|ten|twenty|five) (?:more )?(?:years|yrs)\b(?! of\b| experience\b)", 0.85),
    _cue("know_your_place", rf"\b(?:know|learn|remember) {_YOU}r place\b|\bknow (?:their|its) place\b", 0.95),
    # Juniors told of their place: "should remember their place", "forgot their place".
    _cue("their_place",
         rf"\b(?:{_JUNIORS}|they|them)\b[^.!?\n]{{0,40}}?\b(?:(?:should|must|need to|ought to|have to|had better) "
         r"(?:(?:have )?remember(?:ed)?|learn|know|keep to|stay in)|forg[eo]t(?:ten)?|reminded of|put in) (?:their|its) place\b", 0.8),
    # Silencing the reader until asked: "I'll tell you when I want your view".
    _cue("when_i_want_your_view",
         rf"\b(?:I'?ll|I will|we'?ll|we will) (?:tell|let) {_YOU}(?: know)? when (?:I|we) (?:want|need|ask for) {_YOU}r "
         r"(?:view|opinion|input|thoughts|take|two cents|advice)\b", 0.8),
    # The same aimed at juniors as a class: "When I want a junior's opinion, I'll ask for it."
    _cue("when_i_want_a_juniors_view",
         rf"\bwhen (?:I|we) (?:want|need) (?:an? )?(?:{_JUNIORS}'?s?'?|{_JUNIORS}) (?:view|opinion|input|"
         r"thoughts|take|two cents|advice)s?\b,? (?:I'?ll|I will|we'?ll|we will) (?:ask(?: for (?:it|one|them))?|"
         r"tell you|let you know)\s*(?:[.!]|$)", 0.85),
    # A say rationed by tenure: "nobody under ten years' service gets a vote".
    _cue("no_vote_under_years",
         r"\b(?:nobody|no one|no-one|anyone|people) (?:under|with less than|with fewer than|below) (?:\d+|two|three|"
         r"five|ten|fifteen|twenty) (?:years?'?|yrs)(?: service| in| tenure| experience)?[^.!?\n]{0,20}?\b"
         r"(?:gets?|has|have|deserves?) (?:a |any )?(?:vote|say|voice|opinion|seat at the table)\b", 0.75),
    _cue("not_your_place", r"\b(?:it'?s|it is) not (?:your|an? (?:intern|junior|grad)'?s?) place\b", 0.8),
    _cue("leave_it_to_grownups",
         r"\bleave (?:it|this|that|the (?:thinking|decisions|big decisions|strategy)) to (?:the )?(?:grown[- ]?ups|adults|big (?:boys|girls|kids)|professionals|seniors|experts|people who know)\b", 0.9),
    _cue("adults_talking", r"\b(?:let the (?:adults|grown[- ]?ups) (?:talk|handle|decide)|(?:the )?adults are talking)\b", 0.9),
    _cue("as_long_as_i_have",
         rf"\b(?:when|once|until|till) {_YOU}(?:'ve| have) been (?:here|around|doing this|in (?:this|the) (?:business|industry|game|job|company))\s+(?:as long as|half as long as) (?:I have|me|I've|us)\b", 0.9),
    _cue("understand_when_older",
         rf"\b{_YOU}(?:'ll| will) (?:understand|get it|see|learn|realise|realize)\s+(?:when|once)\s+{_YOU}(?:'re| are)\s+(?:older|more senior|a (?:grown[- ]?up|manager|real professional))\b", 0.85),
    _cue("get_some_experience",
         rf"\b(?:wait|come back|talk to me|speak up)\s+(?:until|till|when|once)\s+{_YOU}(?:'ve| have)?\s*(?:got|get|had|have)\s+(?:some\s+)?(?:real\s+|actual\s+)?(?:experience|a few years|some years|(?:\d+|ten|twenty) years)\b", 0.85),
    _cue("what_would_you_know",
         rf"\bwhat (?:would|do|could) (?:{_YOU}|an? {_JUNIORS}|{_JUNIORS}) (?:even |possibly |actually )?know about\b", 0.8),
    _cue("years_before_opinion",
         r"\b(?:\d+|ten|twenty|thirty|a few|some) years? (?:in|of experience|under your belt)\b[^.!?\n]{0,40}\b(?:before|then) (?:you (?:can|get to|should|may)|we'?ll listen|anyone listens|your opinion)\b", 0.85),
    _cue("just_a_junior",
         rf"\b{_YOURE} (?:just|only|merely|still) (?:a|an) (?:junior|intern|grad|graduate|kid|child|newbie|rookie|trainee|apprentice|beginner|first[- ]year)\b", 0.7),
    _cue("okay_kid", r"\b(?:ok(?:ay)?|sure|cute|nice try|listen|look|sit down|calm down|relax),?\s+(?:kid|kiddo|sonny|sweetie|junior|zoomer|boomer|little one|young (?:man|lady|one))\b", 0.7),
    _cue("seen_not_heard", r"\b(?:should|must) be seen and not heard\b|\bspeak when (?:you'?re )?spoken to\b", 0.9),
    _cue("pay_your_dues",
         rf"\b(?:pay|paid) (?:{_YOU}r|their) dues\b|\bearn(?:ed)? (?:{_YOU}r|their) stripes\b|\b{_YOU} (?:haven'?t|have not|didn'?t) earned the right\b", 0.65),
    _cue("stick_to_coffee",
         r"\bstick to (?:making|fetching|getting|doing) (?:the )?(?:coffee|tea|photocopies|copies|spreadsheets)\b|\b(?:make|fetch|get) (?:me |us )?(?:a |the )?coffee,? (?:and|then) (?:let|leave)\b", 0.85),
    _cue("typical_generation",
         r"\b(?:typical|entitled|lazy|snowflake|spoilt|spoiled|soft) (?:millennials?|gen[- ]?z(?:ers?)?|zoomers?|kids|youngsters|graduates|grads|interns|juniors)\b", 0.7),
    _cue("nobody_asked",
         rf"\b(?:nobody|no one|no-one) asked (?:{_YOU}|the (?:intern|interns|junior|juniors|kid|kids|grad|grads|newbie))\b", 0.75),
    _cue("bless", r"\bbless (?:your|his|her|their) (?:little )?(?:heart|cotton socks)\b", 0.5),
    # "Who asked the intern?": a junior's contribution waved away as unasked for.
    _cue("who_asked",
         r"\bwho asked (?:you|the (?:intern|junior|grad|graduate|kid|newbie|trainee|apprentice|"
         r"new (?:girl|guy|hire|starter))s?)\b\s*[?!]", 0.6),
    # Credentials demanded as a put-down: "Remind me, how many teams have you managed?"
    _cue("credential_question",
         r"\b(?:remind me|out of curiosity|just curious|genuine question),?\s+how many (?:teams|people|"
         r"departments|budgets|projects|programmes|programs|restructures|reorgs|p&ls?|boards|hires|"
         r"direct reports|years)\b[^.?!\n]{0,25}?\b(?:have|did) you (?:actually |ever |personally |"
         r"really |even )?(?:managed|run|led|signed off|delivered|hired|sat on|built|owned|been)\b"
         r"[^.?!\n]{0,30}\?|"
         r"\bhow many (?:teams|people|departments|budgets|projects|restructures|p&ls?|boards|hires|"
         r"direct reports)\b[^.?!\n]{0,25}?\bhave you (?:actually|ever actually|even|really) "
         r"(?:managed|run|led|signed off|delivered|hired|owned)\b[^.?!\n]{0,30}\?", 0.55),
    # "Back in my day, graduates kept quiet for five years": the old silence held up to juniors.
    _cue("in_my_day_juniors_kept_quiet",
         rf"\b(?:back )?in my day\b[^.!?\n]{{0,40}}?\b{_JUNIORS}\b[^.!?\n]{{0,30}}?\b(?:kept (?:quiet|"
         r"(?:their|our) (?:heads down|mouths shut))|knew (?:their|our) place|did as (?:they were|we were) told|"
         r"(?:didn'?t|did not|never) (?:complain|question|answer back|speak up|speak))\b", 0.55),
    _cue("in_my_day", r"\b(?:back )?in my day\b", 0.25),
    _cue("cute_idea",
         rf"\b(?:cute|adorable|sweet|precious)(?: little)? (?:idea|suggestion|theory|opinion|take|that {_YOU} think)\b", 0.6),
    _cue("grown_up_job", rf"\b(?:real|grown[- ]?up|proper) (?:job|work|world)\b[^.!?\n]{{0,30}}\b{_YOU}\b|\b{_YOU}\b[^.!?\n]{{0,30}}\b(?:real|grown[- ]?up) world\b", 0.4),
    _cue("dont_know_what_you_dont_know", rf"\b{_YOU} (?:don'?t|do not) (?:even )?know what {_YOU} (?:don'?t|do not) know\b", 0.45),
    # Silencing: "let's hear from someone with actual experience" (said after a junior spoke).
    _cue("someone_with_experience",
         r"\b(?:let'?s|let us|can we|could we|I'?d (?:rather|like to)) (?:hear|get|have)\b[^.!?\n]{0,25}?"
         r"\b(?:someone|somebody|people|anyone) (?:with|who (?:has|have)) (?:some |any )?(?:actual|real|proper)\b"
         r"[^.!?\n]{0,20}?\b(?:experience|years|seniority)\b(?!\s+(?:of|in|with|on|at|to)\b)", 0.7),
    # Contempt for juniors as a class: "juniors know nothing", "grads are clueless".
    _cue("class_knows_nothing",
         r"\b(?:(?:the |our |these |you )?(?:juniors?|grads?|graduates?|interns?|apprentices?|"
         r"trainees?|newbies|youngsters|kids|millennials|gen ?z(?:ers)?)"
         r"(?: these days| nowadays)? (?:know|understand|get) (?:nothing|zilch|jack|zero)|"
         r"(?:juniors?|grads?|graduates?|interns?|apprentices?|trainees?|newbies) (?:are|r) "
         r"(?:all )?(?:clueless|useless|idiots|stupid|thick|dim|brainless))\b"
         r"(?!\s+(?:about|of|on|at|with|when|until|before)\b)", 0.7),
    _cue("out_of_your_depth", rf"\b{_YOURE} (?:way |well |completely |clearly )?out of {_YOU}r depth\b", 0.5),
    # "Still wet behind the ears, I see." (of oneself, "I was still wet…", it is damped).
    _cue("wet_behind_the_ears",
         rf"\b(?:{_YOURE}|{_JUNIORS} (?:are|is)|still|so|clearly|obviously|a bit|bit|rather|pretty)\s+"
         r"(?:still\s+|so\s+|clearly\s+)?wet behind the ears\b", 0.75),
    # "Where juniors are seen and not heard": the rule stated of them, not only prescribed.
    _cue("seen_not_heard_class", rf"\b{_JUNIORS} (?:are|were|get) (?:to be )?seen and not heard\b", 0.8),
    # A junior sent away from the grown-ups' table, and a career measured against the writer's
    # belongings or years: "Sit at the kids' table and let us finish.", "I have shoes older
    # than your career", "I've been doing this longer than you've been alive" (a probe's fresh
    # account published the first two, unflagged).
    _cue("kids_table",
         r"(?m)(?:(?:^|(?<=[.!?,:;]))\s*(?:go\s+)?(?:sit|stay|go back)|\b(?:you|juniors?|interns?|grads?|they)\s+"
         r"(?:\w+\s+){0,2}?(?:sit|stay|go back|go|belong))\b[^.!?\n]{0,40}? (?:at|to) the (?:kids'?|children'?s|little ones'?) table\b", 0.8),
    # "You're too junior." said to the reader and left there (a probe's, in regional-indicator
    # letters, the model read at 0.35); not asked, denied, supposed or feared.
    _cue("too_junior_bare",
         rf"(?<!\bif )(?<!\bthat )(?<!\bfeel )(?<!\bthink )(?<!\bworry )(?<!\bsay )(?<!\bnot saying )"
         rf"(?m:^|(?<=[.!?,:;—–-] )|(?<=@\w\w\w ))\s*{_YOURE} (?:just |simply |far |way |much |still |clearly )?"
         r"too (?:junior|green|inexperienced|young|new)\s*(?:[.!]|,\s*(?:kid|sorry|honestly|mate)\b|$)", 0.6),
    # Hindi in Latin letters, as colleagues type it in chat (moderation.language names the
    # rest of such posts for a moderator): the stock put-downs, said to the reader ("ho", not
    # "hoon": "main abhi bachcha hoon" is the writer's own modesty; a "nahi" between is a
    # denial). "What would you know", "you're still kids", "stay in your place"/"you have no
    # standing", "you only came yesterday", "juniors know nothing", "come with experience
    # first", "my hair didn't go white in the sun".
    _cue("hinglish_what_would_you_know",
         # (Not "kya pata chala" / "kya pata karna": "what did you find out", "find out".)
         r"\b(?:tum|tu|aap)(?:ko|he|hein|hen|e)?\s+(?:(?!nahi\b|nahin\b)\w+\s+){0,3}?kya\s+pata\b"
         r"(?!\s+(?:nahi|nahin|nhi|chala|chal|chalega|chalta|karo|karna|kar|laga|lagao)\b)|"
         r"\b(?:bachch?on|bacch?on|bachon|juniors?|interns?|freshers?)\s+ko\s+(?:\w+\s+){0,2}?kya\s+pata\b", 0.95),
    # (Said to the reader, "tum … ho": "mere abhi do bachche hain" is a parent's news.)
    _cue("hinglish_still_kids",
         r"\b(?:tum|tu)\b[^.!?\n]{0,25}?\b(?:bachch?e|bacch?e|bachcha|bacha|bache)\s+(?:hi\s+)?(?:ho|hai)\b", 0.95),
    _cue("hinglish_your_place",
         r"\b(?:tumhari|tumhaari|teri|aapki|inki|unki)\s+(?:koi\s+|itni\s+)?(?:aukaa?[td])\b|"
         r"\baukaa?[td]\s+(?:mein|me|main)\s+(?:raho|reh|rehna|rahiye|rehiye)\b|"
         r"\bapni\s+aukaa?[td]\s+(?:dekho|dekh|dekhiye|samjho|samjh|pehchano|mat bhulo|yaad rakho)\b", 0.95),
    _cue("hinglish_came_yesterday", r"\bkal\s+(?:hi\s+)?ke\s+(?:aaye|aye|aae)\s+(?:ho|hain|hue)\b", 0.95),
    _cue("hinglish_know_nothing",
         rf"\b(?:{_JUNIORS}|bachch?e|bacch?e|naye)\s+(?:log\s+)?(?:\w+\s+)?kuch\s+(?:bhi\s+)?(?:nahi|nahin|nhi)\s+"
         r"(?:jaante|jante|jaanta|janta|samajhte|samajhta|aata|aati)\b", 0.95),
    _cue("hinglish_experience_first",
         r"\bexperience\s+(?:lao|le\s*ke\s+aao|le\s+kar\s+aao|leke\s+aao)\b", 0.9),
    # "Work ten years first, then talk": a brush-off. ("Work two years first, then ask for a
    # promotion" is advice: only "then talk / speak / give an opinion" makes it one.)
    _cue("hinglish_years_first",
         r"\b(?:pehle|pahle)\s+(?:\w+\s+){0,2}?(?:saal|saalon)\s+(?:\w+\s+){0,2}?kaam\s+karo\b"
         r"[^.!?\n]{0,20}?\bphir\s+(?:baat|bolna|bolo|opinion|raay|rai|gyaan)\b", 0.9),
    _cue("hinglish_white_hair", r"\bbaal\s+(?:\w+\s+){0,2}?(?:dhoop|dhup|dhoop)\s+(?:mein|me)\s+(?:safed|safaid)\b", 0.9),
    _cue("hinglish_lecturing_us",
         r"\b(?:humein|hamein|humko|hamko|seniors?\s+ko|senior\s+logon\s+ko)\s+(?:\w+\s+){0,2}?"
         r"(?:mat\s+sikhao|sikhane\s+(?:chale|aaye|aye|chala|aaya)|gyaan\s+(?:mat\s+do|de\s+rahe|baant))\b", 0.85),
    # "Too junior" said to the reader in French, Spanish, Italian, German, Dutch or
    # Portuguese, as a put-down mixing languages says it ("Franchement, t'es trop junior pour
    # get it. Come back dans vingt ans.": the language stage is unsure of so mixed a line).
    _cue("too_junior_other_language",
         # (Not after "que", "dass", "che", "no", "non", "nicht", "niet": "ne pense pas que tu es
         # trop junior pour parler" encourages.)
         r"(?<!\bque )(?<!\bqu')(?<!\bdass )(?<!\bche )(?<!\bno )(?<!\bnon )(?<!\bnicht )(?<!\bniet )"
         r"(?:\bt'es|\btu es|\bvous [êe]tes|\beres|\best[áa]s|\bsei|\bbist du|\bdu bist|\bben je|\bje bent|"
         # (No denial after the verb, "du bist nicht zu jung", "ne … pas", "no eres"; and
         # "muy", "muito" are "very", not "too": "eres muy joven, which is brilliant".)
         r"\bvoc[êe] [ée]|\bsois|\bseas)\s+"
         r"(?:(?!(?:nicht|pas|no|não|nao|non|niet|not|never|nie|jamais|nunca|mai|nooit|kein|keineswegs)\b)\w+\s+){0,2}?"
         r"(?:trop|demasiado|troppo|zu|te|demais)\s+"
         r"(?:junior|jeune|joven|giovane|jung|jong|jovem|novato|nuevo|nouveau|nuovo|neu|nieuw|"
         r"inexp[ée]riment[ée]e?|inexperto|inesperto|unerfahren|onervaren|vert|verde|grün|groen)\b", 0.95),
    _cue("hinglish_be_quiet", r"\bchup\s*(?:chaap\s+)?(?:raho|baitho|rehna|karo|kar)\b", 0.6),
    _cue("older_than_your_career",
         r"\b(?:I(?:'ve| have)(?: got)?|I own|my)\s+(?:\w+\s+){0,3}?(?:older|longer) than "
         rf"{_YOU}r (?:whole |entire )?(?:career|experience|time here|tenure|time in (?:the|this) (?:job|industry|company))\b|"
         rf"\blonger than {_YOU}(?:'ve| have) been (?:alive|born|out of (?:school|nappies|diapers|uni|university|college))\b", 0.8),
    # A reader called "kid" at the end of what is said to them: "don't bother me, kid."
    _cue("vocative_kid", r",\s*(?:kid|kiddo|sonny|sweetie|little one|young (?:man|lady))\b(?=\s*(?:[.!?]|$))", 0.6),
]  # fmt: skip

# "my manager told me to know my place": reported, not uttered.
_REPORTED = re.compile(
    r"\b(?:told|tells|telling|said|says|saying|(?:used to|would|always|often|liked? to) say|"
    r"asked|called|replied|responded|wrote|emailed|"
    r"snapped|answered|informed|lectured)\b[^.!?\n]{0,60}$|"
    r"\b(?:was|were|got|been|being) (?:told|called|asked)\b[^.!?\n]{0,60}$|"
    r"\b(?:heard|hearing) (?:things like|phrases like|comments like|that)\b[^.!?\n]{0,40}$|"
    r"\b(?:phrases?|comments?|lines?|remarks?|things?) (?:like|such as)\s*$|"
    # In Hindi written in Latin letters: "usne kaha ki …", "manager ne bola …".
    r"\b(?:kaha|bola|boli|bole|bolte|kehte|kehta|kehti|likha|poocha)\b[^.!?\n]{0,60}$",
    re.I,
)
_QUOTE_CHARS = '"“”«»'
# Words after a quotation, in its sentence, that make it reported after all ("Jordan — "know
# your place" is what my boss said").
_SAID_AFTER = re.compile(r"[\"”»]?[ \t,]*[A-Za-z]+[ \t]+[A-Za-z]+")


def _quote_end(doc: _Text, end: int) -> int:
    """Where the quotation holding a phrase ending at `end` closes (its closing mark), or
    `end` when none follows."""
    after = bisect.bisect_left(doc.quotes, end)
    return doc.quotes[after] if after < len(doc.quotes) else end


# A quotation that is the writer's own answer, not someone else's words: opened after "my
# answer to your question, @jo:", "here's my honest feedback on your idea:", "Quick reply to
# the intern above:", "Response:" opening the sentence, or a member's @name. Probes published
# each with a stock put-down inside (the quotation marks read it as reported speech).
_DELIVERED = re.compile(
    r"(?:\b(?:my|our)\s+(?:\w+\s+){0,2}?(?:answer|reply|response|feedback|advice|verdict|take|"
    r"view|opinion|message|comment|thoughts?|two cents|word)\b(?:\s+(?:to|for|on)\s+(?:you|your|"
    r"the\s+\w+|this|that|@[\w.-]+)\b[^.!?\n\"“”«»]{0,40})?"
    r"|\b(?:answer|reply|response|feedback|note|message|word|verdict)\s+(?:to|for)\s+(?:you|your\b"
    r"[^.!?\n\"“”«»]{0,30}|(?:the|that|this)\s+(?:\w+\s+)?(?:intern|junior|grad|graduate|"
    r"newbie|new ?hire|kid|trainee|apprentice|poster|person)s?(?:\s+(?:above|below|here))?|@[\w.-]+)"
    r"|^\W*(?:reply|response|answer|feedback|verdict|short answer|tl;?dr|in short|my answer)"
    r"|\bwhat I(?:'d| would|'ll| will) (?:say|tell)\b[^.!?\n\"“”«»]{0,40}?\bis(?: simply| just| this)?"
    r"|\bhere(?:'s| is) what I (?:think|have to say)\b[^.!?\n\"“”«»]{0,40}"
    r"|^\W*[A-Z][a-z]{1,20}\s*[—–]"
    r"|@[\w.-]+)"
    r"\W{0,3}[:,\-—–]?\s*\W{0,2}[\"“«]\s*$",
    re.I,
)
_YOU_IN = re.compile(r"\byou", re.I)
_QUOTE = re.compile(f"[{_QUOTE_CHARS}]")
_SENTENCE_END = re.compile(r"[.!?\n]")
# Self-description: "I'm too new to judge", "we were too junior to understand".
_SELF = re.compile(
    r"\b(?:I(?:'m| am| was|'ve been)|we(?:'re| are| were)|me|myself)\b[^.!?\n]{0,25}$", re.I
)
# "Not saying you're too junior to get it. Just saying…": the put-down said while denying it
# (apophasis) is said, when "just saying" or the like follows; not when it is quoted.
_APOPHASIS = re.compile(
    r"(?:\bnot|\bnever|n't|\bwon'?t|\bwouldn'?t)\s+(?:gonna\s+|going to\s+)?"
    r"(?:saying|say|suggesting|implying)\b(?:\s+that)?[^.!?\n]{0,25}$",
    re.I,
)
_APOPHASIS_GOES_ON = re.compile(r"\b(?:just saying|all I'?m saying)\b", re.I)
# A reported or quoted put-down the writer then endorses, or one applied to the reader:
# "Someone once told me I was too junior to get it. Reading your post, I finally understand
# what they meant." The report is the vehicle, so it counts as said. Two kinds: the speaker
# was right ("he had a point", "I see what they meant"), which endorses a report about
# juniors in general but not one about the writer ("told me I was too junior… she was right,
# I wasn't ready") unless its sentence turns on the reader ("your post", "for you"); and the
# phrase applied to the reader ("it fits this thread", "I'd pass it on to you"), which
# endorses any report, and advice against the phrase too.
_SPEAKER_RIGHT = re.compile(
    r"\b(?:(?:he|she|they|my \w+)\s+(?:was|were|had)\s+(?:(?:a|a good|a fair) point|"
    r"(?:quite |absolutely |dead |so )?right|not wrong|on ?to something|spot on)|"
    r"couldn'?t (?:have )?(?:agreed?|said it) (?:more|better)(?! with)|"
    r"truer words|hard to argue with (?:that|it)|(?:best|wisest) advice I (?:ever )?got|"
    r"wise words|words to live by|worth (?:remembering|bearing in mind|keeping in mind)|"
    r"(?:still )?(?:holds|rings) true)\b",
    re.I,
)
# "I see what they meant" is an endorsement only when its sentence turns on the reader
# ("Reading your post, I finally understand what they meant."): alone it is as often the
# writer's judgement of the speaker ("I see what they meant now: they were scared of being
# shown up").
_UNDERSTOOD = re.compile(
    r"\b(?:understand|see|get|know|realise|realize)\s+(?:now\s+)?(?:exactly\s+)?(?:what|why)"
    r"(?:\s+(?:he|she|they|people)\s+(?:meant|said|was saying|were saying))?\b",
    re.I,
)
_APPLIED = re.compile(
    r"\b(?:(?:fits|suits|applies to|describes)\s+(?:you|this thread|your (?:post|case|idea)|"
    r"the (?:thread|post) above)|"
    r"(?:pass(?:ing)?|giv(?:e|ing))\s+(?:it|that|this|the same)\s+(?:advice\s+|wisdom\s+)?"
    r"(?:(?:on|along)\s+)?to\s+you|(?:relevant|apt)\s+(?:to|for|here)\s*(?:you|this (?:reply|thread|post))?|"
    r"(?:true|the case)\s+(?:for|of)\s+you)\b",
    re.I,
)
# Applied to the reader in looser words, which after advice or a rule ("We banned 'X'. It
# applies here too.") apply the rule: for reports and quotes only.
_APPLIED_REPORT = re.compile(
    r"\b(?:appl(?:y|ies)\s+(?:here|to\s+(?:you|this thread|this discussion))|"
    r"same\s+(?:goes|applies)\s+(?:for|to)\b[^.!?\n]{0,40}?\b(?:you|this thread|here)|"
    r"(?:wise|good|true)\s+words\s+for\s+(?:you|this thread|this discussion))\b",
    re.I,
)
# The writer disowning what was said: no endorsement after it counts.
_DISOWNED = re.compile(
    r"(?<!not )(?<!n't )\b(?:wrong|mistaken|nonsense|rubbish|out of line|unfair|unkind|hurtful|awful|terrible|"
    r"not (?:right|true|fair|ok(?:ay)?)|(?:isn|wasn)'?t (?:true|right|fair|ok(?:ay)?))\b",
    re.I,
)
# A report about the writer ("told me I was…").
_FIRST_PERSON = re.compile(r"\b(?:I|me|my|we|us)\b", re.I)
# A sentence that turns on the reader: not a bare "you" ("you know?", "you can ask").
_AIMED = re.compile(
    r"\b(?:(?:for|to|at|with|of) you|your (?:post|posts|idea|question|plan|stage|level|age|"
    r"generation|reply)|this (?:thread|post|discussion))\b",
    re.I,
)
# The shifted cue said of the writer ("come back when I have…"), unless reported.
_SHIFTED_SELF = re.compile(r"\b(?:I|we)\b")
# How far after a damped cue an endorsement is looked for (the next sentence or two).
ENDORSE_REACH = 200
# Cues weaker than this ("in my day") are not made a put-down by an endorsement.
ENDORSE_MIN = 0.5
# Advice against the behaviour: "never tell a junior to come back when…"
_ADVICE = re.compile(
    r"\b(?:never|don'?t|do not|avoid|stop|instead of|rather than|shouldn'?t|should not|refuse to|won'?t|"
    r"ban(?:s|ned)?|forbid(?:s|den)?|prohibit(?:s|ed)?)\b"
    r"[^.!?\n]{0,50}$",
    re.I,
)


# The context rules look back at most this far from a cue (their patterns are bounded: a verb
# then up to 60 characters), so the text before a cue is cut to this window. Every cue is
# then checked in constant time, and a post is scored in time linear in its length.
CONTEXT = 200
# A cue repeated more often than this adds nothing (its score has long saturated): further
# repeats are neither checked nor reported, which bounds the work on a post of repetitions.
MAX_REPEATS = 50


class _Text:
    """`text` with what the context rules ask of it precomputed once: sentence bounds, quote
    counts and, per sentence, whether it holds a seniority marker. Looking any of these up
    for each cue by scanning the text again made a post of repeated phrases quadratic."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
        self.quotes = [m.start() for m in _QUOTE.finditer(text)]
        self._marked: dict[tuple[int, int], bool] = {}
        self.covered = bytearray(len(text))  # spans a stronger cue already took

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """From the start of the sentence `start` is in to the end of the one `end` is in."""
        i = bisect.bisect_right(self.starts, start) - 1
        j = bisect.bisect_right(self.starts, max(start, end - 1))
        right = self.starts[j] - 1 if j < len(self.starts) else len(self.text)
        return self.starts[i], right

    def in_quotes(self, start: int, left: int, end: int) -> bool:
        """Whether start sits inside a quotation opened in its sentence (before `left`…`start`
        an odd number of quotation marks) that is closed somewhere after the phrase (`end`): a
        stray mark in front ('<img src=x>"\'> juniors are…', a title opening with one) quotes
        nothing. Single quotes are left out: they are mostly apostrophes ("I'm", "don't")."""
        before = bisect.bisect_left(self.quotes, start)
        inside = before - bisect.bisect_left(self.quotes, left)
        return inside % 2 == 1 and bisect.bisect_left(self.quotes, end) < len(self.quotes)

    def has_marker(self, left: int, right: int) -> bool:
        found = self._marked.get((left, right))
        if found is None:
            found = bool(SENIORITY_MARKER.search(self.text, left, right))
            self._marked[(left, right)] = found
        return found

    def take(self, start: int, end: int) -> bool:
        """Claim a span for a cue, unless a stronger cue already holds part of it."""
        if any(self.covered[start:end]):
            return False
        self.covered[start:end] = b"\x01" * (end - start)
        return True


@dataclass(frozen=True)
class CueMatch:
    cue: str
    start: int
    end: int
    text: str
    score: float
    damped_by: str = ""
    endorsed: bool = False  # reported or quoted, then endorsed or applied to the reader


def _asserted(text: str, found: re.Match[str] | None) -> bool:
    """Whether an endorsement was found and is said, not asked ("Wise words? No.")."""
    return found is not None and not text[found.end() : found.end() + 3].lstrip().startswith("?")


def _endorsed(doc: _Text, start: int, end: int, reported: str, damped: str) -> bool:
    """Whether the writer endorses the damped cue at start:end, or applies it to the reader,
    in what follows it (within ENDORSE_REACH). `reported` is what stands between the report's
    verb and the cue ("told me I was")."""
    reach = min(len(doc.text), end + ENDORSE_REACH)
    disowned = _DISOWNED.search(doc.text, end, reach)
    if disowned is not None:
        reach = disowned.start()  # "he was wrong, and the same goes for this thread"
    if _asserted(doc.text, _APPLIED.search(doc.text, end, reach)):
        return True
    if damped != "reported speech":
        return False  # advice against a phrase ("that advice still holds") stays advice
    if _asserted(doc.text, _APPLIED_REPORT.search(doc.text, end, reach)):
        return True
    found = _SPEAKER_RIGHT.search(doc.text, end, reach)
    found = found if _asserted(doc.text, found) else None
    about_writer = _FIRST_PERSON.search(reported) or _FIRST_PERSON.search(doc.text, start, end)
    if found is not None and not about_writer:
        return True
    found = found or _UNDERSTOOD.search(doc.text, end, reach)
    if found is None:
        return False
    # A report about the writer, or "I see what they meant": only when the endorsement's
    # sentence turns on the reader.
    left, right = doc.sentence(found.start(), found.end())
    left = max(left, found.start() - ENDORSE_REACH)
    right = min(right, found.end() + ENDORSE_REACH)
    return _AIMED.search(doc.text, left, right + 1) is not None


def find_cues(text: str) -> list[CueMatch]:
    """Every cue in `text` with its span and its score after context adjustments. Cues are
    matched on the text with its disguises undone (characters that show as nothing taken out,
    look-alike letters, digits for letters; moderation.normalise.fold keeps every offset), and
    report what was written, where it was written."""
    written = text
    compact, where = as_shown(text)
    text = fold(compact)
    doc = _Text(text)
    matches: list[CueMatch] = []
    for cue in CUES:
        for n, m in enumerate(cue.pattern.finditer(text)):
            if n == MAX_REPEATS:
                break
            start, end = m.span()
            if not doc.take(start, end):
                continue  # a stronger cue already covers this span
            left, right = doc.sentence(start, end)
            score = cue.weight
            prefix = text[max(left, start - CONTEXT) : start]
            damped = ""
            report = _REPORTED.search(prefix)
            quoted = doc.in_quotes(start, left, end)
            if (
                quoted
                and not report
                and _DELIVERED.search(text, max(left, start - CONTEXT), start)
                and not _SAID_AFTER.match(text, _quote_end(doc, end))
            ):
                quoted = False  # the writer's own answer in quotation marks
            shifted = cue.name == "come_back_when_shifted"
            if (
                not quoted
                and _APOPHASIS.search(prefix)
                and _APOPHASIS_GOES_ON.search(text, end, min(len(text), end + ENDORSE_REACH))
            ):
                pass  # "not saying you're…, just saying": said while denying it
            elif quoted and not report and _ADVICE.search(prefix):
                score *= 0.3  # "never say 'you're too junior to get this'"
                damped = "advice against it"
            elif report or quoted:
                score *= 0.3
                damped = "reported speech"
            elif (
                _SELF.search(prefix) or (shifted and _SHIFTED_SELF.search(text, start, end))
            ) and not (_YOU_IN.search(text, start, end) or cue.name in _ADDRESSED):
                score *= 0.2
                damped = "speaking of oneself"
            elif _ADVICE.search(prefix) and cue.name not in _ADDRESSED:
                score *= 0.3
                damped = "advice against it"
            endorsed = (
                bool(damped)
                and cue.weight >= ENDORSE_MIN
                and _endorsed(
                    doc, start, end, prefix[report.start() :] if report else prefix[-40:], damped
                )
            )
            if endorsed:
                score, damped = max(cue.weight, STOCK), ""
            elif not damped and cue.weight < 0.95 and doc.has_marker(left, right):
                score = min(1.0, score + 0.1)
            if where is not None:
                start, end = _written_span(where, start, end, len(written))
            matches.append(
                CueMatch(cue.name, start, end, written[start:end], round(score, 3), damped,
                         endorsed)
            )  # fmt: skip
    return sorted(matches, key=lambda c: c.start)


def _written_span(where: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """A span of the text without its invisible characters as a span of what was written: up
    to the next kept character, so marks dropped after the span's last letter stay with it.
    (An upside-down line was read back: its span is where its characters were written.)"""
    if end - start > 1 and where[end - 1] < where[start]:
        written = where[start:end]
        return min(written), max(written) + 1
    return where[start], where[end] if end < len(where) else length


def find_watched(text: str, phrases: Iterable[str]) -> list[CueMatch]:
    written = text
    compact, where = as_shown(text)
    text = fold(compact)
    found = []
    for phrase in phrases:
        phrase = fold(as_shown(phrase.strip())[0])
        if not phrase:
            continue
        pattern = re.compile(
            r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)", re.I
        )
        for m in pattern.finditer(text):
            start, end = m.span()
            if where is not None:
                start, end = _written_span(where, start, end, len(written))
            found.append(CueMatch("watched_phrase", start, end, written[start:end], 0.7))
    return found


def combine(scores: Iterable[float]) -> float:
    """Noisy-OR: several independent cues are stronger evidence than the strongest alone."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - s
    return round(1.0 - remaining, 4)


# A cue reading this high is a stock put-down stated directly: quotes, reports, questions and
# advice against a phrase read far lower ("Never tell a junior to know their place" 0.28).
STOCK = 0.95
# How much of a stock put-down's sentence, either side of the phrase, `stock_sentences` keeps.
SENTENCE_REACH = 160


# A single quotation mark opening a quote (not an apostrophe: nothing of a word before it) and
# one closing it (nothing of a word after it).
_SINGLE_OPEN = re.compile(r"(?<![\w'’])['‘](?=\w)")
_SINGLE_CLOSE = re.compile(r"(?<=[\w.!?,])['’](?![\w'’])")


def stated_plainly(text: str, minimum: float = STOCK) -> bool:
    """Whether `text` states a stock put-down directly (a cue scoring `minimum` or more, not
    damped) outside single quotation marks too, which the cues leave out of their quote rule
    because most are apostrophes: "a poor rule: 'juniors should be seen and not heard'" names
    a put-down; "# You're too junior to get this" makes one."""
    doc = _Text(fold(text))
    for c in find_cues(text):
        if c.score < minimum or c.damped_by:
            continue
        if c.endorsed:
            return True  # a report the writer endorses: its quotation marks are the vehicle
        left, right = doc.sentence(c.start, c.end)
        # (Within SENTENCE_REACH of the phrase: a long run of quoted phrases in one sentence
        # would otherwise be scanned from its start for each.)
        left, right = max(left, c.start - SENTENCE_REACH), min(right, c.end + SENTENCE_REACH)
        opened = any(m.start() < c.start for m in _SINGLE_OPEN.finditer(doc.text, left, c.end))
        closed = _SINGLE_CLOSE.search(doc.text, c.end, right + 1) is not None
        if not (opened and closed):
            return True
    return False


# At most this many of a post's sentences are read alone (the first, each once however it is
# numbered or punctuated): a probe's post of 570 stock put-downs, each numbered, cost the model
# 570 more readings, 15 s of the worker's time. One is enough to settle the post.
MAX_ALONE = 8
_LETTERS_ONLY = re.compile(r"[^a-z]+")


def stock_sentences(text: str) -> list[str]:
    """The sentences of `text` in which a stock put-down is stated directly (a cue scoring
    STOCK or more, not damped), each at most SENTENCE_REACH characters either side of its
    phrase, for the model to read alone: however the post around it is padded, the sentence
    reads as itself."""
    doc = _Text(fold(text))
    found: dict[str, str] = {}
    for c in find_cues(text):
        if c.score >= STOCK and not c.damped_by:
            left, right = doc.sentence(c.start, c.end)
            left, right = max(left, c.start - SENTENCE_REACH), min(right, c.end + SENTENCE_REACH)
            sentence = text[left:right].strip()
            found.setdefault(_LETTERS_ONLY.sub("", sentence.lower()), sentence)
            if len(found) == MAX_ALONE:
                break
    return list(found.values())


# A reply whose own words only agree ("Exactly this.", "+1", "Well said!") says what it
# agrees with: under a put-down it is a put-down too (a probe quoted one already posted in the
# thread, then wrote "Exactly this.", four times unflagged: the model had learnt that a reply
# to a put-down is mostly pushback).
_AGREE = (
    r"(?:exactly(?: this| that| right)?|this(?: so much| x ?\d+| right here)?|so much this|"
    r"\+ ?1|i agree|agreed?|so true|too true|well said|hear,? hear|\d{3,4} ?%|spot on|"
    r"nailed it|preach|truth|(?:i )?couldn'?t agree more|(?:i )?could not agree more|"
    r"bingo|ditto|facts|amen|say it louder|"
    # (A probe's "Seconded." and "Quite right." under a quoted put-down, unflagged.)
    r"seconded|i second (?:this|that)|(?:quite|so|dead|absolutely) right|right you are|"
    r"(?:sound|good|wise) (?:advice|words)|well put|precisely|co-?signed?|this is the way)"
)
_AGREES_ONLY = re.compile(rf"^[\W_]*{_AGREE}(?:[\W_]+{_AGREE})*[\W_]*$", re.I)
# A bare yes answers a question as often as it agrees: it agrees with what a post quotes (a
# statement), not with whatever post it answers ("> I am too junior to get the strategy
# side\n\nYep.", an attacker probe's).
_YES = r"(?:yes|yeah|yep|yup|true|correct|indeed|absolutely|same|word)"
_YES_ONLY = re.compile(rf"^[\W_]*(?:{_YES}|{_AGREE})(?:[\W_]+(?:{_YES}|{_AGREE}))*[\W_]*$", re.I)


def agrees_only(text: str) -> bool:
    """Whether `text` (a post's own words) does nothing but agree."""
    return len(text) <= 80 and bool(_AGREES_ONLY.match(fold(as_shown(text)[0]).strip()))


# A junior asking whether they are too junior ("Am I too junior to contribute to the strategy
# review?") and a reply that only says yes ("Short answer: yes.", "You answered your own
# question."): the put-down is the question's own words, confirmed. A probe's fresh account
# published both under such a question, unflagged (the model reads a short yes as agreement).
# (Asked in so many words, "am I …": not "should I apply even though I am too junior?", to
# which yes encourages, nor a statement beside another question.)
_SELF_DOUBT = re.compile(
    r"\b(?:am i|are we|is it (?:because|that) i'?m|do you think i'?m|would i be)\b[^?.!\n]{0,25}?"
    r"\b(?:too (?:junior|new|green|young|inexperienced|naive|early in my career)|"
    r"not (?:senior|experienced|qualified) enough|out of my depth|overstepping|"
    r"(?:just|only) an? (?:intern|grad|graduate|junior|apprentice))\b[^?\n]{0,120}(?:\?|$)",
    re.I,
)
_CONFIRMS = re.compile(
    r"^[\W_]*(?:(?:short|honest|the) answer(?: is)?:?\s*|honestly[,?!.]?\s*|sadly,?\s*|frankly[,?!.]?\s*|"
    r"in a word:?,?\s*|probably,?\s*|unfortunately,?\s*|well[.,\s]*|let'?s just say:?,?\s*|"
    r"bless[.,!]?\s*)?"
    r"(?:yes|yep|yeah|yup|correct|right|i'?m afraid so|afraid so|pretty much|exactly|bingo|"
    r"absolutely|without a doubt|no question|definitely|100 ?%|i think you know|"
    r"spot on|you answered your own question|you'?ve answered your own question|"
    r"you just answered your own question|that about sums it up|you said it|"
    r"(?:yes,? )?you are|(?:yes,? )?you were|you tell me|obviously|of course|clearly|"
    r"is the pope catholic|does a bear \w+ in the woods|is water wet|"
    r"if you (?:have|need) to ask,? (?:you already know(?: the answer)?|the answer is yes))"
    r"(?:[\W_]+(?:yes|you are|sorry|sadly|mate|kid|unfortunately|no question|and by a mile|"
    r"long answer:? (?:also )?yes))*"
    # ("Yes, you are. Ask your manager.": passed on to someone senior.)
    r"(?:[.!]\s+(?:ask|let|leave it (?:to|with)) (?:your|a|the|someone|somebody) "
    r"(?:manager|boss|lead|director|senior|more senior|grown-?up|adult)[\w ]{0,30})?[\W_]*$",
    re.I,
)


def confirms_self_doubt(text: str, context: str = "") -> bool:
    """Whether a post's own words only say yes to a question whose writer asks if they are
    too junior (the text it quotes, else what it answers)."""
    quote, own = own_words(text)
    asked = quote or own_words(context)[1]
    read = fold(as_shown(own)[0]).strip()
    return (
        bool(asked)
        and len(read) <= 60
        and bool(_CONFIRMS.match(read))
        and bool(_SELF_DOUBT.search(fold(as_shown(asked)[0])))
    )


def agreed_with(text: str, context: str = "") -> str:
    """What a post that only agrees agrees with: the words it quotes, else what it answers
    (`context`); "" when its own words say more than agreement, or it answers nothing."""
    quote, own = own_words(text)
    if not agrees_only(own) and not (
        quote and len(own) <= 80 and _YES_ONLY.match(fold(as_shown(own)[0]).strip())
    ):
        return ""
    # What it answers, in that post's own words (not what that post quoted to push back on).
    return quote or own_words(context)[1]


# A reply endorsing what the post it answers reports was said to its writer: under "my
# manager said 'you are too junior to get this'", "Your manager is right.", "Honestly? Your
# manager got it in one.", "I'd have told you exactly the same thing." (a probe's fresh account
# published each; within one post the report and its endorsement were already read together).
# Not when the endorsement is about something else ("is right that you should…").
_ROLE = (
    r"(?:manager|boss|lead|director|senior|mentor|supervisor|head|exec|executive|vp|ceo|cto|"
    r"colleague|teammate|elder|partner)s?"
)
_REPLY_ENDORSES = re.compile(
    # Who: "your manager", "the boss", a role opening a sentence ("Manager's right."), or
    # he/she/they; then that they were right, or hit it.
    rf"(?:(?:\b(?:your|the|that|this)\s+(?:\w+\s+)?|^|(?<=[.!?]\s))(?P<who>{_ROLE})|\b(?:he|she|they))"
    r"(?:(?:\s+(?:is|was|are|were)|'s|'re)\s+(?:(?:quite|absolutely|dead|so|totally|completely|100%)\s+)?"
    r"(?:right|correct|spot[ -]on|not wrong|on the money)|\s+(?:has|had|have)\s+a\s+(?:good\s+|fair\s+)?point|"
    r"\s+(?:got it in one|nailed it|hit the nail on the head)|"
    r"\s+(?:wasn'?t|was not|isn'?t|is not|weren'?t|were not|aren'?t|are not)\s+wrong)\b"
    # (Not when the endorsement is of something else: "is right that you should…", "right to
    # be careful"; "right about you" is the put-down's own.)
    r"(?![ \t]+(?:that|on how|to|in|when|if|for)\b|[ \t]+about\b(?![ \t]+(?:you|it|this|that)\b))|"
    r"\b(?:can'?t|cannot|could(?:n'?t| not))\s+argue\s+with\s+(?:her|him|them)\b|"
    r"\b(?:harsh|blunt|brutal|tough|hard(?:\s+to\s+hear)?),?\s+(?:but|yet)\s+"
    r"(?:fair|true|accurate|right|honest)\b|\btough love\b|"
    r"\b(?:fair|good|right|correct|the right) call\b|\bcan'?t fault (?:the logic|her|him|them)\b|"
    r"\b(?:he|she|they) (?:was|were|is|are) (?:just |only )?being (?:honest|realistic)\b|"
    r"\bI(?:'d| would)(?: have)?\s+(?:told|said|tell|say)\s+(?:you\s+)?(?:exactly\s+|much\s+)?the same"
    r"(?:\s+thing)?\b|"
    r"\b(?:because|cause|'cause|cos|since)\s+(?:they|he|she)\s+(?:are|is|were|was)\s*[.!]*\s*$",
    re.I,
)
_ROLE_NAMED = re.compile(rf"\b{_ROLE}\b", re.I)
_WEIGHTS = {c.name: c.weight for c in CUES}
# The longest reply read as only endorsing a report (a longer one says more than that), and
# the weakest cue whose report it makes a put-down (the stock phrases').
ENDORSING_REPLY_MAX = 200
REPORTED_MIN = 0.85


def endorsed_report(text: str, context: str = "") -> str:
    """The put-down a reply endorses: a stock phrase that what it answers (`context`) reports
    as said to its writer, when the reply's own words, short, say the speaker was right; ""
    otherwise."""
    if not context:
        return ""
    own = fold(as_shown(own_words(text)[1])[0]).strip()
    found = _REPLY_ENDORSES.search(own) if len(own) <= ENDORSING_REPLY_MAX else None
    if found is None:
        return ""
    # The one named right must be the one reported ("Your mentor is right" under "my manager
    # said …; my mentor said to ask anyway" agrees with the mentor: an attacker probe).
    who = (found.group("who") or "").lower().rstrip("s")
    answered = own_words(context)[1]
    for c in find_cues(answered):
        # (A stock phrase reported in the first person, "told me to come back when I have
        # 20 years in", is its `_shifted` cue, weighted lower as it may be the writer's own.)
        # (Not one that turns on a negation: "to come back when I had a draft, not when I had
        # 20 years in" is a mentor's support, which "She's right." agrees with.)
        shifted = c.cue.endswith("_shifted") and not _NEGATED.search(c.text)
        weight = _WEIGHTS.get(c.cue, 0.0) + (0.2 if shifted else 0.0)
        if c.damped_by != "reported speech" or weight < REPORTED_MIN:
            continue
        left, _right = _Text(fold(answered)).sentence(c.start, c.end)
        speakers = {
            m.group(0).lower().rstrip("s") for m in _ROLE_NAMED.finditer(answered, left, c.start)
        }
        if not who or who in speakers:
            # Endorsed, the reported words are said to the reader: "come back when I have
            # 20 years" is "come back when you have 20 years".
            return _SHIFTED.sub(lambda m: _TO_READER[m[0].lower()], c.text)
    return ""


_NEGATED = re.compile(r"\b(?:not|never|no)\b|n't\b", re.I)
_TO_READER = {"i": "you", "i'm": "you're", "i am": "you are", "me": "you", "my": "your"}
_SHIFTED = re.compile(r"\b(?:i'm|i am|i|me|my)\b", re.I)


def reading(text: str) -> float:
    """The cues' dismissiveness reading of `text` alone (the "dismissive" signal of `score`)."""
    return combine(c.score for c in find_cues(text))


def score(text: str, watched: Iterable[str] = ()) -> list[Signal]:
    cues = find_cues(text)
    signals = [
        Signal(
            STAGE,
            "dismissive",
            combine(c.score for c in cues),
            [Evidence(STAGE, c.cue, c.start, c.end, c.text) for c in cues if not c.damped_by],
        )
    ]
    watched_hits = find_watched(text, watched)
    signals.append(
        Signal(
            STAGE,
            "watched_phrase",
            0.7 if watched_hits else 0.0,
            [Evidence(STAGE, "watched_phrase", c.start, c.end, c.text) for c in watched_hits],
        )
    )
    return signals


# Cues that name the reader whatever the sentence says of the writer ("leave me alone, kid").
_ADDRESSED = frozenset({"vocative_kid"})
# A put-down run together as one word, as a username writes it ("youretoojuniortogetthis",
# "shush_intern", "listen_to_your_elders" without their separators): read on the name in
# lower case with its separators out and digits read as letters (forum.accounts).
_SQUASHED_JUNIOR = (
    r"(?:juniors?|jnrs?|interns?|kids?|grads?|newbies?|rookies?|trainees?|apprentices?|noobs?|"
    r"mentees?|youngsters?|youngins?)"
)
_SILENCING = (
    r"(?:bequiet|stayquiet|keepquiet|staysilent|silence|shush|hush|shutup|shutit|zipit|"
    r"pipedown|sitdown|knowyourplace|listenup)"
)
SQUASHED_PUT_DOWN = re.compile(
    r"too(?:junior|young|green|inexperienced|naive)|knowyourplace|comeback(?:when|once)|"
    r"seen(?:and)?notheard|grownups|adultsaretalking|nobodyasked|(?:listento|respect|obey)yourelders|"
    r"wetbehind(?:the)?ears|payyourdues|earnyourstripes|outofyourdepth|(?:stick|back)tothecoffee|"
    r"(?:yrs|years)or(?:quiet|silent|shush|shutup|silence)|noob(?:s|ies|mentees?)|"
    rf"(?:shush|hush|shutup|sitdown|silence|ok|okay|dumb|stupid|clueless|useless){_SQUASHED_JUNIOR}|"
    rf"{_SQUASHED_JUNIOR}(?:knownothing|areclueless|areuseless|shouldlisten|shutup|sitdown|"
    r"(?:dont|donot|never|cant|shouldnt|mustnt)(?:speak|talk|think|count|matter|vote))|"
    # Silencing a junior, told to them ("zip_it_junior", "stay_quiet_newbie") or said of them
    # ("newbies_just_listen", "junior_means_silent", "youngsters_be_quiet").
    rf"{_SILENCING}[a-z]{{0,6}}?{_SQUASHED_JUNIOR}|"
    rf"{_SQUASHED_JUNIOR}s?(?:just|must|should|shall|better|be|stay|keep|means|equals|is)?"
    r"(?:bequiet|besilent|quiet(?!ly)|silent(?!ly)|silence|shush|hush|shutup|pipedown|listen(?:up)?$|"
    r"listenonly|seenandnotheard)|"
    # "ur2junior2getit" (its digits dropped), "wait_20_years_kid", "wait_your_turn_kid".
    r"(?:ur|youre|u)(?:too|to)?(?:junior|young|green|new)(?:too|to)?(?:get|understand|grasp)|"
    rf"(?:wait(?:your)?turn|wait[a-z]{{0,6}}(?:years|yrs)){_SQUASHED_JUNIOR}|"
    # Juniors as a class sneered at or shut out: "gen_z_lazy", "kids_these_days",
    # "no_juniors_allowed".
    r"(?:genz|millennials?|zoomers?|juniors|grads|interns|kids|youngsters)(?:are)?"
    r"(?:lazy|entitled|snowflakes?|useless|clueless|thick)|"
    r"(?:lazy|entitled|useless|clueless)(?:genz|millennials|zoomers|juniors|grads|interns|kids)|"
    r"(?:kids|youngsters|millennials|genz|juniors)thesedays|"
    rf"no{_SQUASHED_JUNIOR}(?:allowed|please|wanted|here)|"
    # A probe's names that passed: "know_ur_place", "WhoAskedYouKid", "stfu_intern",
    # "ur_2_green_kid", "go_fetch_coffee_intern", "GetSomeYearsFirst", "NeverListenToJuniors",
    # "junior_opinions_lol", "kids_table_only", "Back2Kindergarten", "tum_bahut_junior_ho".
    rf"know(?:ur|yer|yo|ya)place|whoasked|^stfu|stfu$|stfu{_SQUASHED_JUNIOR}|"
    rf"(?:ur|youre|u)(?:too|to)?(?:junior|young|green|new|naive)(?:kid|sonny|{_SQUASHED_JUNIOR})|"
    r"fetch(?:the|me|my|some|us|our)?coffee|getsome(?:years|experience)|"
    r"(?:years|experience)first|"
    rf"(?:never|dont|donot|stop|nobody)listen(?:s)?to{_SQUASHED_JUNIOR}|(?:ignore|mute)(?:the|all)?{_SQUASHED_JUNIOR}|"
    rf"{_SQUASHED_JUNIOR}opinions?(?:lol|lmao|rofl|dontcount|dontmatter|worthless|irrelevant|lmfao)|"
    r"kidstable|back(?:to)?(?:kindergarten|nursery|daycare|preschool|playschool)|"
    r"(?:tum|tu|aap)(?:bahut|abhi|toh)*(?:junior|bachch?e|bacch?e|bachcha|naye|naya)(?:ho|hai)|"
    r"aukaa?[td]|(?:tumhe|tumko|aapko)kyapata|"
    # The next probe's: "SeniorsKnowBest", "AdultsSpeaking", "your_manager_knows_best",
    # "wet_ears_analyst", "babyanalyst", "OKZoomer", "ur_2_jnr_lol".
    r"(?:seniors?|elders?|managers?|bosse?s?|grownups?|adults?)(?:always)?knows?best|"
    r"adults?(?:are)?(?:speaking|talking)|wetears|okzoomer|"
    r"baby(?:analysts?|interns?|juniors?|grads?|associates?|managers?|hr)|"
    r"(?:ur|youre|u)(?:too|to)?jnr"
)  # fmt: skip
# A cue reading this high makes the composer point its phrase out before posting.
NUDGE = 0.5


def nudge_phrases(text: str, threshold: float = NUDGE) -> list[str]:
    """The phrases the composer should point out before posting (empty: no nudge), each
    once, as first written (a phrase pasted a thousand times is named once)."""
    seen: dict[str, str] = {}
    for c in find_cues(text):
        if c.score >= threshold:
            seen.setdefault(" ".join(c.text.lower().split()), c.text)
    return list(seen.values())
