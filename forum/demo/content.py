"""The demo board's words: members, categories and threads about mentoring practice.

Written for Candor. Times are offsets in days before "now" so the board always looks lived-in.
"""

from __future__ import annotations

from forum.accounts.passwords import DEMO_PASSWORD  # noqa: F401  (the demo members' password)

# username, email, role, location, days since joining, points carried over from the old board
MEMBERS = [
    ("ada_admin", "ada@example.org", "admin", "Leeds, UK", 900, 0),
    ("morgan_mod", "morgan@example.org", "moderator", "Toronto, Canada", 700, 240),
    ("lena_editor", "lena@example.org", "editor", "Utrecht, Netherlands", 1100, 410),
    ("margaret_hr", "margaret@example.org", "member", "Manchester, UK", 2400, 1620),
    ("david_okafor", "david@example.org", "member", "Lagos, Nigeria", 1500, 530),
    ("priya_s", "priya@example.org", "member", "Bengaluru, India", 800, 170),
    ("tomasz_k", "tomasz@example.org", "member", "Kraków, Poland", 600, 95),
    ("elena_ruiz", "elena@example.org", "member", "Madrid, Spain", 420, 60),
    ("sam_chen", "sam@example.org", "member", "Singapore", 300, 20),
    ("jordan_lee", "jordan@example.org", "member", "Austin, USA", 200, 0),
    ("aisha_m", "aisha@example.org", "member", "Nairobi, Kenya", 120, 0),
    ("noah_b", "noah@example.org", "member", "Dublin, Ireland", 60, 0),
    ("grace_w", "grace@example.org", "member", "Melbourne, Australia", 30, 0),
    # The reverse-mentoring pilot (forum.programmes): its lead and six more participants.
    ("rosa_lead", "rosa@example.org", "programme_lead", "Lisbon, Portugal", 950, 0),
    ("kofi_a", "kofi@example.org", "member", "Accra, Ghana", 90, 0),
    ("mei_l", "mei@example.org", "member", "Taipei, Taiwan", 75, 0),
    ("ravi_p", "ravi@example.org", "member", "Pune, India", 50, 0),
    ("helen_d", "helen@example.org", "member", "Bristol, UK", 2000, 0),
    ("georg_s", "georg@example.org", "member", "Vienna, Austria", 1800, 0),
    ("carlos_v", "carlos@example.org", "member", "Bogotá, Colombia", 1600, 0),
]

# The running pilot programme: eight junior mentors and eight senior mentees, paired and
# checking in every two weeks. (username, department, seniority, teaches, learns, slot)
PROGRAMME = {
    "name": "Leadership reverse-mentoring pilot",
    "purpose": "Directors learn how our newest colleagues work, use our products and experience the company; juniors see how decisions are made and get a direct line to leadership.",
    "junior_learns": "How strategy and budgets are decided; how to make a case to leadership.",
    "senior_learns": "Social media and AI tools as our younger customers use them; what being new here is like.",
    "evaluation": "Frankness (check-ins every two weeks), meetings held, and a closing survey of both sides at twelve weeks, compared with the baseline survey.",
    "ground_rules": "The senior listens first. What is said in the pair space stays there. The junior's frankness is never held against them.",
    "topics": "AI tools\nSocial media\nRemote-first working\nBeing new here\nStrategy\nBudgeting\nInfluencing leadership",
    "slots": "mon-am\ntue-pm\nwed-am\nthu-pm",
}
PROGRAMME_JUNIORS = [
    ("jordan_lee", "Marketing", 2, "Social media", "Strategy", "mon-am"),
    ("aisha_m", "Engineering", 1, "AI tools", "Budgeting", "tue-pm"),
    ("noah_b", "Sales", 1, "Being new here", "Influencing leadership", "wed-am"),
    ("grace_w", "Design", 1, "Social media", "Strategy", "thu-pm"),
    ("sam_chen", "Operations", 3, "Remote-first working", "Budgeting", "mon-am"),
    ("kofi_a", "Engineering", 2, "AI tools", "Influencing leadership", "tue-pm"),
    ("mei_l", "Customer care", 1, "Being new here", "Strategy", "wed-am"),
    ("ravi_p", "Finance", 2, "Remote-first working", "Influencing leadership", "thu-pm"),
]
PROGRAMME_SENIORS = [
    ("margaret_hr", "People", 25, "Influencing leadership", "Social media", "mon-am"),
    ("david_okafor", "Finance", 18, "Budgeting", "AI tools", "tue-pm"),
    ("priya_s", "Engineering", 15, "Strategy", "Being new here", "wed-am"),
    ("tomasz_k", "Sales", 14, "Influencing leadership", "Social media", "thu-pm"),
    ("elena_ruiz", "Marketing", 16, "Budgeting", "Remote-first working", "mon-am"),
    ("helen_d", "Operations", 22, "Strategy", "AI tools", "tue-pm"),
    ("georg_s", "Design", 20, "Influencing leadership", "Being new here", "wed-am"),
    ("carlos_v", "Customer care", 19, "Strategy", "Remote-first working", "thu-pm"),
]

# An earlier, smaller pilot the lead has closed: six pairs from the same people, with the
# closing survey answered by most of them (grace_w has not answered yet).
CLOSED_PROGRAMME = {
    "name": "Spring reverse-mentoring trial",
    "purpose": "A first, short trial of reverse mentoring before the leadership pilot: does the format work here at all?",
    "evaluation": "A closing survey of both sides after eight weeks.",
    "ground_rules": "The senior listens first. The junior's frankness is never held against them.",
    "topics": PROGRAMME["topics"],
    "slots": PROGRAMME["slots"],
}
CLOSING_QUESTION = "Would you recommend the programme to a colleague?"

# The next cohort, open for applications (a new member has something to apply to), starting in
# a month: two applications wait for the lead's decision.
OPEN_PROGRAMME = {
    "name": "Second reverse-mentoring cohort",
    "purpose": "The pilot's format for a wider group: any member in their first three years mentors a senior colleague on how work looks from where they sit.",
    "junior_learns": "How decisions are made above you, and how to bring an idea to leadership.",
    "senior_learns": "Tools, habits and frustrations of colleagues early in their careers.",
    "evaluation": "Check-ins every two weeks and a closing survey of both sides at twelve weeks.",
    "ground_rules": PROGRAMME["ground_rules"],
    "topics": PROGRAMME["topics"],
    "slots": PROGRAMME["slots"],
}
OPEN_APPLICANTS = [
    ("kofi_a", "junior", "Engineering", 2, "AI tools", "Influencing leadership", "tue-pm"),
    ("helen_d", "senior", "Operations", 22, "Strategy", "AI tools", "tue-pm"),
]

# (name, description, children)
# Q&A categories: the person who asked marks the reply that answered the question.
QA_CATEGORIES = ("Mentoring",)

CATEGORIES = [
    (
        "Human Resources",
        "Running mentoring and development programmes inside an organisation.",
        [
            (
                "Employee Relations",
                "Trust, confidentiality and what to do when a pairing goes wrong.",
            ),
            ("Mentoring", "Starting programmes, pairing mentors and mentees, first meetings."),
            (
                "Reverse Mentoring",
                "Junior staff mentoring senior staff: pilots, feedback upward, results.",
            ),
            ("Coaching", "Coaching skills for managers and mentors, and where coaching ends."),
            ("Learning & Development", "Measuring impact, budgets and fitting mentoring into L&D."),
        ],
    ),
    (
        "Community",
        "Meet the people running and taking part in programmes.",
        [("Introductions", "Say hello and tell us about your programme.")],
    ),
]

# (category, title, days ago the thread started, [(author, hours after the start, body)])
THREADS: list[tuple[str, str, float, list[tuple[str, float, str]]]] = [
    (
        "Mentoring",
        "How do you start a mentoring programme from scratch?",
        40,
        [
            (
                "jordan_lee",
                0,
                """I've been asked to set up our first formal mentoring programme (about 400 staff, mostly engineering and customer support). There's goodwill but no budget beyond my time.

Where did you start? What would you do differently if you began again?""",
            ),
            (
                "margaret_hr",
                3,
                """Start smaller than you think. We launched with 12 pairs, not 120, and it saved us.

1. **Write down why.** Retention of new joiners? Promotion of under-represented groups? Knowledge transfer before retirements? The purpose decides everything else: who is eligible, how you match, what you measure.
2. **Find a sponsor** on the leadership team who will say in public that mentoring time is real work.
3. **Agree the basics**: six months, one hour a fortnight, a short kick-off session, a mid-point check-in, and a clean ending.
4. **Train the mentors**, even briefly. An hour on listening and asking questions beats any matching algorithm.""",
            ),
            (
                "david_okafor",
                7,
                """+1 to the written purpose. I'd add: decide early how you'll know it worked, and collect a baseline *before* launch. We didn't, and a year later we had lovely anecdotes and no numbers.""",
            ),
            (
                "jordan_lee",
                26,
                """This is really helpful, thank you both. A pilot of 10–15 pairs it is. Margaret, did you let people opt in or did managers nominate them?""",
            ),
            (
                "margaret_hr",
                30,
                """Opt in, always, for both sides. Nominated mentees feel like they are being fixed; nominated mentors feel like it is a chore. We ask managers to *encourage* people to apply, and that is all.""",
            ),
        ],
    ),
    (
        "Mentoring",
        "Pairing mentors and mentees: by skills, by personality, or let them choose?",
        33,
        [
            (
                "priya_s",
                0,
                """We have 30 mentees and 22 willing mentors for the next cohort. Last time HR matched everyone by hand from a spreadsheet of skills and it took me two weeks. Some pairs clicked, some never met twice.

Has anyone tried letting mentees choose from short mentor profiles?""",
            ),
            (
                "tomasz_k",
                5,
                """We switched to mentee choice two cohorts ago. Each mentor writes 150 words: what they can help with, what they can't, and how they like to meet. Mentees pick three in order of preference and we resolve clashes.

Meetings held per pair went up noticeably. The mentees had chosen someone, so they showed up.""",
            ),
            (
                "elena_ruiz",
                9,
                """One caution: with free choice, the same three charismatic senior people get picked by everyone. We cap mentors at two mentees and tell mentees that plainly in the form.""",
            ),
            (
                "priya_s",
                20,
                """Capping makes sense. Did anyone match across departments on purpose? I like the idea that a mentor outside your reporting line can be more candid.""",
            ),
            (
                "margaret_hr",
                22,
                """Yes, we never pair people in the same reporting line. Mentees need somewhere to talk about their manager without worrying it will travel.""",
            ),
        ],
    ),
    (
        "Reverse Mentoring",
        "Running a reverse-mentoring pilot with our leadership team",
        28,
        [
            (
                "david_okafor",
                0,
                """Our executive team has agreed to a reverse-mentoring pilot: eight directors, each mentored by someone in their first three years with the company. Topics the juniors proposed: how customers under 30 actually use our product, remote-first working, and what it is like to be new here.

My worry is the power gap. How do you make it safe for a 23-year-old to tell a director something uncomfortable?""",
            ),
            (
                "sam_chen",
                4,
                """I was a reverse mentor last year (I was 24, my mentee ran a division of 600 people). What made it work:

- The director said in our first meeting: *"I'm here to learn; if I get defensive, call it out."* And then meant it.
- We met away from his office.
- What we discussed stayed between us unless I chose to share it.
- HR checked in with **me**, not him, at the mid-point.""",
            ),
            (
                "aisha_m",
                9,
                """Also make sure the juniors are not doing it on top of a full workload with no recognition. Ours gets written into objectives and mentioned in reviews.""",
            ),
            (
                "morgan_mod",
                12,
                """Worth agreeing ground rules in writing at the kick-off, and repeating them. The most common failure we see on this board is the senior person quietly turning the sessions around so that *they* are mentoring the junior again.""",
            ),
            (
                "david_okafor",
                50,
                """Thanks all. We are adding a written agreement, a check-in with the junior mentors only, and recognition in objectives. Will report back on how it goes.""",
            ),
        ],
    ),
    (
        "Reverse Mentoring",
        "Giving feedback upward: how juniors can be frank with a director",
        21,
        [
            (
                "noah_b",
                0,
                """I've been paired with our Chief Operating Officer as her reverse mentor. Our second session is next week and I want to tell her that the monthly all-hands feels like a broadcast where questions are not welcome. How do I say that without it landing badly?""",
            ),
            (
                "priya_s",
                2,
                """Describe what you saw and how it affected people, rather than judging. Something like: *"In the last two all-hands, the Q&A was five minutes at the end and two questions were answered. Several people on my team told me they had stopped submitting questions."* Then ask what she was hoping the Q&A would do.""",
            ),
            (
                "margaret_hr",
                5,
                """Priya's approach is spot on. And remember she signed up for this. Directors who volunteer for reverse mentoring usually *want* to hear exactly this kind of thing; it's much rarer for them to hear it straight.""",
            ),
            (
                "elena_ruiz",
                8,
                """Bring one concrete suggestion as well. "Collect questions anonymously in advance and answer the top five first" gives her something to do, not just something to feel bad about.""",
            ),
            (
                "noah_b",
                170,
                """Update: it went well. She asked me to help redesign the Q&A format with her comms lead. I was nervous for nothing.""",
            ),
        ],
    ),
    (
        "Reverse Mentoring",
        "Evaluating our reverse-mentoring pilot after six months",
        12,
        [
            (
                "elena_ruiz",
                0,
                """Our pilot (10 pairs) has just finished. We ran a short survey for both sides and held a retrospective. Headlines:

| Measure | Senior mentees | Junior mentors |
|---|---|---|
| Would do it again | 9 of 10 | 10 of 10 |
| Changed something in their work | 7 of 10 | — |
| Felt safe to speak frankly | — | 8 of 10 |

The two juniors who did *not* feel safe were both paired with people two levels above their own manager. What would you look at next?""",
            ),
            (
                "david_okafor",
                6,
                """That safety number is the one I'd dig into. 8 of 10 sounds good, but those two people probably had the worst experience in the whole programme and are least likely to say so loudly. Could you talk to them one-to-one, with someone outside their line?""",
            ),
            (
                "tomasz_k",
                10,
                """I would also track whether the seniors' "changed something" claims are visible to anyone else. We asked each senior mentee to name one change, and six months later asked the junior whether they had noticed it.""",
            ),
            (
                "elena_ruiz",
                30,
                """Good ideas, both. We'll do the one-to-ones this month and add the follow-up question to the next cohort.""",
            ),
        ],
    ),
    (
        "Coaching",
        "Coaching vs mentoring: where do you draw the line?",
        18,
        [
            (
                "grace_w",
                0,
                """New to L&D here. People use "coach" and "mentor" interchangeably in our company. Is there a useful distinction, or is it just vocabulary?""",
            ),
            (
                "morgan_mod",
                3,
                """The distinction I use: a **mentor** shares their own experience ("here's what I did when…"), while a **coach** helps you find your own answer through questions and doesn't need to have done your job. Good mentors coach a lot of the time, but they can also just tell you how the promotion panel works.""",
            ),
            (
                "margaret_hr",
                6,
                """And mentoring is usually longer and broader; coaching is often tied to a specific goal over a few sessions. For a programme, the useful question is: what do the participants need? Know-how and networks point to mentoring; behaviour change points to coaching.""",
            ),
            ("grace_w", 20, """That's a clear way to put it. Thank you!"""),
        ],
    ),
    (
        "Learning & Development",
        "Measuring the impact of mentoring on retention",
        15,
        [
            (
                "tomasz_k",
                0,
                """Our CFO asked what the mentoring programme "returns". We have two years of data: 140 mentees and their 12-month retention, plus everyone else hired in the same period. What is a fair comparison?""",
            ),
            (
                "david_okafor",
                4,
                """Be careful with the naive comparison. People who opt into mentoring are probably more engaged to begin with, so they'd stay longer anyway. If you can, compare mentees with people who *applied* but were not matched because you ran out of mentors. That is much closer to a fair control.""",
            ),
            (
                "priya_s",
                7,
                """Also report more than retention. Internal moves, promotion rates and time-to-productivity for new joiners all tell part of the story. The CFO will trust a modest, honest number more than a heroic one.""",
            ),
            (
                "tomasz_k",
                25,
                """We do have about 30 applicants who were never matched. Using them as the comparison group, the retention difference shrank, but it's still there. Much more defensible, thank you.""",
            ),
        ],
    ),
    (
        "Employee Relations",
        "Ending a mentoring pairing that isn't working",
        10,
        [
            (
                "aisha_m",
                0,
                """One of our mentees has told me (privately) that her mentor cancels half their sessions and spends the rest talking about himself. She doesn't want to cause trouble. How do programmes handle a "no-fault" ending?""",
            ),
            (
                "margaret_hr",
                2,
                """Build the no-fault exit into the programme from day one: at the mid-point check-in, either side can ask to be re-matched without giving a reason, and the programme lead handles it. If it's normal and expected, nobody loses face.""",
            ),
            (
                "jordan_lee",
                5,
                """We send a short private mid-point survey to each participant separately. A pairing that scores low on both "we meet as planned" and "I find it useful" gets a quiet re-match offer.""",
            ),
            (
                "morgan_mod",
                8,
                """And give the mentor feedback separately and kindly. Often they don't realise. A mentor who talks about himself may believe he is sharing useful experience.""",
            ),
        ],
    ),
    (
        "Employee Relations",
        "Confidentiality in mentoring conversations: what should stay private?",
        7,
        [
            (
                "sam_chen",
                0,
                """In our reverse-mentoring programme, a junior mentor told her director that a team lead was making people work weekends unofficially. The director now wants to act, but she's afraid it will be traced back to her. What should the confidentiality agreement say about this kind of thing?""",
            ),
            (
                "margaret_hr",
                3,
                """Most programmes say: conversations are confidential, except where someone is at risk of harm or there is a serious breach of policy or law. Unpaid weekend work may fall into that second category. Either way, the director should talk with her *before* acting, and agree how to raise it without identifying her, e.g. through an anonymous survey or a routine hours audit.""",
            ),
            (
                "elena_ruiz",
                6,
                """This is exactly why ground rules need to be written down at the start. Everyone should know where the line is before something like this comes up.""",
            ),
        ],
    ),
    (
        "Mentoring",
        "What should the first mentoring meeting cover?",
        4,
        [
            (
                "noah_b",
                0,
                """I'm mentoring for the first time (a graduate in our finance team). First meeting is Thursday. What do you cover?""",
            ),
            (
                "priya_s",
                1,
                """My checklist: get to know each other as people; what they want from the six months (push for one or two concrete goals); practicalities (how often, where, how to reschedule); confidentiality; and how either of you can say "this isn't working". Then end on time, and let them book the next one.""",
            ),
            (
                "tomasz_k",
                3,
                """Ask them what a good outcome would look like at the end. Write it down together and look at it again at the half-way point.""",
            ),
        ],
    ),
    (
        "Introductions",
        "Introduce yourself: who is running a programme this year?",
        60,
        [
            (
                "morgan_mod",
                0,
                """Welcome to Candor! Tell us who you are, what kind of programme you run or take part in, and what you'd like to learn here.""",
            ),
            (
                "jordan_lee",
                20,
                """Hi all. I'm Jordan, L&D lead at a software company in Austin. I'm setting up our first mentoring programme and I'm here to learn from people who have done it before.""",
            ),
            (
                "aisha_m",
                48,
                """Hello from Nairobi! I coordinate a reverse-mentoring scheme at an NGO. Our younger staff mentor the board on digital fundraising, and it has been eye-opening for both sides.""",
            ),
            (
                "grace_w",
                722,
                """Hi, I'm Grace. I've just moved from recruitment into L&D in Melbourne, and I've been reading everything here.""",
            ),
        ],
    ),
]


# (author, days ago, title, summary, body)
ARTICLES = [
    (
        "lena_editor",
        50,
        "How to start a reverse-mentoring pilot",
        "A step-by-step plan for a first cohort of eight to twelve pairs: purpose, sponsor, pairing, ground rules and a clean ending.",
        """Reverse mentoring pairs a junior colleague, as mentor, with a senior one, as mentee. Done well, it gives leaders a view of the organisation they cannot get from reports, and gives junior staff visibility and confidence. Done badly, it becomes a photo opportunity or, worse, a place where juniors learn to keep quiet.

## 1. Write down the purpose

Pick one or two: digital skills, understanding younger customers, inclusion, or what it is like to be new here. The purpose decides who is eligible and what you will measure.

## 2. Find a sponsor who goes first

A member of the executive team who signs up as a mentee, talks about it in public, and protects the time.

## 3. Pair with care

- Never pair people in the same reporting line.
- Avoid gaps of more than two or three levels in the first cohort; the power gap is real.
- Ask both sides what they hope to get out of it, and match on that.

## 4. Agree ground rules in writing

Confidentiality (and its limits), how often you meet, who sets the agenda (the junior mentor), and how either side can end the pairing without blame.

## 5. Check in with the junior mentors separately

At the mid-point, ask the mentors (not the mentees) whether they feel safe to speak frankly. This is the single most useful question in the whole programme.

## 6. End cleanly and measure

Close each pairing with a short conversation about what changed. Survey both sides, and ask each senior mentee to name one thing they now do differently.""",
    ),
    (
        "lena_editor",
        35,
        "Pairing mentors and mentees: five methods compared",
        "Hand matching, mentee choice, algorithms, speed-mentoring and group circles: what each costs and when each works.",
        """There is no single best way to pair people. Here is how the common methods compare.

**Hand matching by the programme lead.** Works for up to about thirty pairs. It is slow, and it depends on one person's knowledge of the organisation.

**Mentee choice from short mentor profiles.** Mentees pick three mentors in order of preference. Engagement tends to be higher because people chose. Cap each mentor at two mentees, or the same few people are chosen by everyone.

**Algorithmic matching.** Useful at scale. Keep the inputs simple (goals, skills, availability) and let people veto a match.

**Speed-mentoring.** Short rounds of ten minutes before anyone commits. It costs an afternoon and prevents many mismatches.

**Group circles.** One mentor and four or five mentees. Good for new managers and when mentors are scarce.

Whatever you choose, make it easy to ask for a re-match, and never pair someone with their own manager.""",
    ),
    (
        "lena_editor",
        20,
        "Giving feedback upward without fear",
        "How junior staff can raise uncomfortable points with senior colleagues, and how seniors can make that safe.",
        """Feedback upward is where reverse mentoring earns its keep, and where it most often fails.

## For junior mentors

- Describe what you saw and its effect, not the person: *"In the last two town halls, questions were taken for five minutes at the end."*
- Bring one concrete suggestion.
- Ask what they were hoping for; often you share the goal.

## For senior mentees

- Say at the start that you want to hear the uncomfortable things, and mean it.
- Notice your own defensiveness. Phrases like "when you've been here as long as I have" or "you'll understand when you're older" end the conversation, whatever you intended.
- Thank people for the hard feedback, and tell them later what you did with it.

## For programme leads

Check in with junior mentors on their own. If someone says they do not feel safe, act on it quickly and quietly.""",
    ),
    (
        "lena_editor",
        8,
        "Evaluating a mentoring programme honestly",
        "What to measure, what to compare against, and how to report modest results a finance team will trust.",
        """Mentoring programmes are easy to love and hard to evaluate. A few habits make the difference.

1. **Collect a baseline before you launch**: retention, internal moves and engagement scores for the groups you will compare.
2. **Compare like with like.** People who opt in are often more engaged already. Applicants who could not be matched make a much fairer comparison group than everyone else.
3. **Measure activity as well as outcomes**: meetings held, goals set, pairings ended early and why.
4. **Ask about safety.** In reverse mentoring, the share of junior mentors who felt able to speak frankly matters as much as any outcome.
5. **Report modest numbers honestly.** A small, defensible effect is worth more than a large claim that falls apart under questions.""",
    ),
]
