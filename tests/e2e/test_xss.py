"""Filter-evasion payloads in every place members can write, rendered in real Chromium with the
site's Content-Security-Policy: no script runs (no dialog, no flag set on window)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DEMO_PASSWORD
from tests.e2e.test_programme_journeys import published_days_ago

pytestmark = pytest.mark.e2e

PAYLOADS = [
    "<script>window.__pwned=1;alert(1)</script>",
    '<img src=x onerror="window.__pwned=1;alert(1)">',
    "<svg onload=alert(1)><script>window.__pwned=1</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '<iframe src="javascript:alert(1)"></iframe>',
    "<body onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<details open ontoggle=alert(1)>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    "<style>@import 'javascript:alert(1)';</style>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "java\u0000script:alert(1)",
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    "<img src=x onerror=\u0061lert(1)>",
    "\u202e<script>alert(1)</script>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<!--<img src=x onerror=alert(1)>-->",
    "<base href=javascript:alert(1)//>",
]


def _client(base: str, username: str) -> tuple[httpx.Client, str]:
    c = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/login").text).group(1)  # type: ignore[union-attr]
    r = c.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrftoken": token})
    assert r.status_code == 303
    # Signing in changes the token: take this sign-in's from a page with a form.
    token = re.search(r'name="csrftoken" value="([^"]+)"', c.get("/").text).group(1)  # type: ignore[union-attr]
    return c, token


def _assert_inert(page: Page, path: str, dialogs: list[str]) -> None:
    page.goto(path)
    page.wait_for_load_state("load")
    page.wait_for_timeout(150)
    assert page.evaluate("window.__pwned === undefined"), path
    assert dialogs == [], (path, dialogs)


def test_payloads_everywhere_run_no_script(page: Page, live_server: str, viewport: str) -> None:
    if viewport != "desktop":
        pytest.skip("one viewport is enough for script execution")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    writer, token = _client(live_server, "jordan_lee")
    editor, etoken = _client(live_server, "lena_editor")
    visited: list[str] = []
    for n, payload in enumerate(PAYLOADS):
        r = writer.post("/c/mentoring/new", data={
            "title": f"XSS {n} {payload}"[:150], "body": f"{payload}\n\n> quoted {payload}",
            "csrftoken": token, "post_anyway": "1"})  # fmt: skip
        assert r.status_code in (303, 400), r.status_code
        if r.status_code == 303:
            thread_path = r.headers["location"]
            visited.append(thread_path)
            first = re.search(r'href="/t/\d+/reply\?quote=(\d+)"', writer.get(thread_path).text)
            if first:
                writer.post(f"{thread_path}/reply", data={"body": f"> {payload}", "reply_to": first.group(1),
                                                           "csrftoken": token, "post_anyway": "1"})  # fmt: skip
        writer.post(
            "/account/profile", data={"location": payload[:100], "bio": payload, "csrftoken": token}
        )
        post_id = re.search(r'href="/p/(\d+)/report"', writer.get("/t/1").text)
        if post_id:
            writer.post(
                f"/p/{post_id.group(1)}/report",
                data={"reason": "other", "note": payload, "csrftoken": token},
            )
        a = editor.post("/articles/new", data={"title": f"Article {n} {payload}"[:150],
                                               "summary": f"Summary {payload}"[:500], "body": payload,
                                               "csrftoken": etoken})  # fmt: skip
        if a.status_code == 303:
            visited.append(a.headers["location"])
    # @mentions next to every payload, a payload answer marked as accepted (shown under the
    # question) and reacted to, and the "who reacted" page.
    mentions = "\n\n".join(f"@margaret_hr{p} @{p} {p}" for p in PAYLOADS)
    r = writer.post("/c/mentoring/new", data={"title": "XSS mentions", "body": mentions[:19_000],
                                              "csrftoken": token, "post_anyway": "1"})  # fmt: skip
    assert r.status_code == 303, r.status_code
    qa_thread = r.headers["location"]
    answerer, atoken = _client(live_server, "margaret_hr")
    r = answerer.post(f"{qa_thread}/reply", data={"body": mentions[:19_000], "csrftoken": atoken,
                                                 "post_anyway": "1"})  # fmt: skip
    assert r.status_code == 303
    answer_id = re.findall(r'action="/p/(\d+)/accept"', writer.get(qa_thread).text)[-1]
    assert writer.post(f"/p/{answer_id}/accept", data={"csrftoken": token}).status_code == 303
    assert writer.post(f"/p/{answer_id}/react/thanks", data={"csrftoken": token}).status_code == 303
    assert 'id="accepted-heading"' in writer.get(qa_thread).text
    assert 'href="/u/margaret_hr"' in writer.get(qa_thread).text
    answerer.close()
    visited += [qa_thread, f"/p/{answer_id}/reactions"]
    visited += [
        "/c/mentoring",
        "/latest",
        "/u/jordan_lee",
        "/articles",
        "/search?q=XSS",
        "/search?q=" + httpx.QueryParams({"q": PAYLOADS[0]})["q"],
    ]
    for path in visited:
        _assert_inert(page, path, dialogs)
    # Moderators read report notes in the queue.
    mod, _ = _client(live_server, "morgan_mod")
    queue = mod.get("/mod").text
    page.context.add_cookies(
        [{"name": k, "value": v, "url": live_server} for k, v in mod.cookies.items()]
    )
    _assert_inert(page, "/mod", dialogs)
    for item in re.findall(r'href="(/mod/items/\d+)"', queue)[:10]:
        _assert_inert(page, item, dialogs)
    # Notifications show thread titles and names: margaret_hr answers payload threads, and
    # jordan_lee's notifications page lists them once the worker has fanned them out.
    answerer, atoken = _client(live_server, "margaret_hr")
    for thread_path in [v for v in visited if v.startswith("/t/")][:5]:
        answerer.post(f"{thread_path}/reply", data={"body": "Thanks, noted.", "csrftoken": atoken,
                                                    "post_anyway": "1"})  # fmt: skip
    answerer.close()
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": k, "value": v, "url": live_server} for k, v in writer.cookies.items()]
    )
    deadline = time.time() + 90
    while "XSS" not in writer.get("/notifications").text and time.time() < deadline:
        time.sleep(1)
    assert "XSS" in writer.get("/notifications").text
    _assert_inert(page, "/notifications", dialogs)
    for client in (writer, editor, mod):
        client.close()
    assert len(visited) >= len(PAYLOADS)


def test_message_payloads_run_no_script(page: Page, live_server: str, viewport: str) -> None:
    """Private messages (#17): subjects, bodies, quotes and report notes, as their recipient
    and the moderator reviewing them see them."""
    import time

    if viewport != "desktop":
        pytest.skip("one viewport is enough for script execution")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    writer, token = _client(live_server, "david_okafor")
    reader, rtoken = _client(live_server, "elena_ruiz")
    conversations: list[str] = []
    for n, payload in enumerate(PAYLOADS):
        r = writer.post("/messages/new", data={
            "to": "elena_ruiz", "subject": f"XSS {n} {payload}"[:200],
            "body": f"{payload}\n\n> quoted {payload}", "csrftoken": token, "post_anyway": "1"})  # fmt: skip
        assert r.status_code in (303, 400), r.status_code
        if r.status_code == 303:
            conversations.append(r.headers["location"])
    assert conversations
    deadline = time.time() + 90
    while time.time() < deadline:  # the worker scores them in its own process
        if all("messages/m/" in reader.get(path).text for path in conversations[-1:]):
            break
        time.sleep(1)
    for path in conversations:
        found = re.search(r'href="/messages/m/(\d+)/report"', reader.get(path).text)
        if found:
            reader.post(f"/messages/m/{found.group(1)}/report",
                        data={"reason": "other", "note": PAYLOADS[0], "csrftoken": rtoken})  # fmt: skip
    page.context.add_cookies(
        [{"name": k, "value": v, "url": live_server} for k, v in reader.cookies.items()]
    )
    for path in ["/messages", *conversations]:
        _assert_inert(page, path, dialogs)
    page.context.clear_cookies()
    mod, _ = _client(live_server, "morgan_mod")
    queue = mod.get("/mod").text
    page.context.add_cookies(
        [{"name": k, "value": v, "url": live_server} for k, v in mod.cookies.items()]
    )
    _assert_inert(page, "/mod", dialogs)
    for item in re.findall(r'href="(/mod/items/\d+)"', queue)[:10]:
        _assert_inert(page, item, dialogs)
    for client in (writer, reader, mod):
        client.close()


def _as(page: Page, base: str, client: httpx.Client) -> None:
    """The browser signs in as `client` does (its cookies)."""
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": k, "value": v, "url": base} for k, v in client.cookies.items()]
    )


def _until(client: httpx.Client, path: str, pattern: str, seconds: float = 90) -> str:
    """Fetch `path` until `pattern` matches (the worker pairs and scores in its own process)."""
    deadline = time.time() + seconds
    while True:
        text = client.get(path).text
        if re.search(pattern, text) or time.time() > deadline:
            return text
        time.sleep(1)


def test_programme_payloads_run_no_script(
    page: Page, live_server: str, viewport: str, request: pytest.FixtureRequest
) -> None:
    """Mentoring programmes (#18): hostile programme names and texts, topics and slots, the
    members' profiles, check-in questions and answers and pair-space messages, on every
    programme page as the lead, the participants and the moderators see them, and on the
    forms that send hostile input back."""
    import uuid

    from forum.core.text import clean_line

    def signed_in(username: str) -> tuple[httpx.Client, str]:
        client, token = _client(live_server, username)
        request.addfinalizer(client.close)  # closed even when an assertion fails
        return client, token

    if viewport != "desktop":
        pytest.skip("one viewport is enough for script execution")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    lead, ltoken = signed_in("rosa_lead")
    everything = "\n".join(PAYLOADS)
    topics = list(dict.fromkeys(t for t in (clean_line(p) for p in PAYLOADS) if t))
    # (Slots are ticked in a grid of days now: anything else is refused, so they are codes.)
    slots = ["mon-am", "tue-pm", "wed-am", "thu-pm"]
    refused = lead.post("/programmes/new", data={
        "name": "XSS slots", "kind": "reverse", "purpose": "p", "evaluation": "e",
        "pilot_size": "8", "checkin_days": "14", "slots": topics[:2], "csrftoken": ltoken})  # fmt: skip
    assert refused.status_code == 400
    r = lead.post("/programmes/new", data={
        "name": f"XSS programme {PAYLOADS[1]}", "kind": "reverse", "purpose": everything,
        "junior_learns": everything, "senior_learns": everything, "evaluation": everything,
        "ground_rules": everything, "pilot_size": "8", "checkin_days": "14",
        "topics": "\n".join(topics), "slots": slots, "csrftoken": ltoken})  # fmt: skip
    assert r.status_code == 303, r.text[-500:]
    programme = r.headers["location"].split("?")[0]
    # A new programme is a draft until its lead opens it for applications.
    opened = lead.post(f"{programme}/open", data={"confirm": "yes", "csrftoken": ltoken})
    assert opened.status_code == 303, opened.text[-500:]
    # Every payload as a programme's name too (the list, titles, the pair spaces' subjects).
    for n, payload in enumerate(PAYLOADS[::3]):
        r = lead.post("/programmes/new", data={
            "name": f"XSS {n} {payload}", "kind": "peer", "purpose": payload,
            "evaluation": payload, "pilot_size": "6", "checkin_days": "14",
            "csrftoken": ltoken})  # fmt: skip
        assert r.status_code == 303, r.status_code
    question = lead.post(f"{programme}/questions", data={
        "prompt": f"Q {PAYLOADS[0]} {PAYLOADS[2]}", "kind": "text", "side": "both",
        "csrftoken": ltoken})  # fmt: skip
    assert question.status_code == 303

    members = {"aisha_m": "junior", "noah_b": "junior", "priya_s": "senior", "tomasz_k": "senior"}
    clients: dict[str, tuple[httpx.Client, str]] = {}
    for n, (name, side) in enumerate(members.items()):
        member, token = signed_in(name)
        clients[name] = (member, token)
        applied = member.post(f"{programme}/apply", data={
            "side": side, "job_title": PAYLOADS[n][:100], "department": PAYLOADS[n + 4][:100],
            "seniority": "2" if side == "junior" else "20", "free_text": everything,
            "teaches": topics[n], "learns": [topics[n + 1], topics[n + 2]],
            "availability": slots[0], "csrftoken": token})  # fmt: skip
        assert applied.status_code == 303, applied.text[-500:]
    applications = lead.get(f"{programme}/applications").text
    for application_id in re.findall(r'action="/programmes/\d+/applications/(\d+)"', applications):
        decided = lead.post(f"{programme}/applications/{application_id}",
                            data={"decision": "accept", "csrftoken": ltoken})  # fmt: skip
        assert decided.status_code == 303
    assert lead.post(f"{programme}/propose", data={"csrftoken": ltoken}).status_code == 303
    assert 'name="pair"' in _until(lead, f"{programme}/proposal", r'name="pair"')
    _as(page, live_server, lead)
    for path in ["/programmes", programme, f"{programme}/applications", f"{programme}/proposal"]:
        _assert_inert(page, path, dialogs)
    published = lead.post(f"{programme}/publish", data={"csrftoken": ltoken, "confirm": "yes"})
    assert published.status_code == 303
    # No check-in before the first interval is over: the page says when it opens.
    early = clients["aisha_m"][0].get(f"{programme}/checkin")
    assert early.status_code == 200 and "The first check-in opens on" in early.text
    assert 'name="side"' not in early.text
    _as(page, live_server, clients["aisha_m"][0])
    _assert_inert(page, f"{programme}/checkin", dialogs)
    published_days_ago(int(programme.rsplit("/", 1)[1]), 14)  # check-in 1 opens

    # The pair spaces: each side writes every payload; the junior answers the check-in with
    # them and reports the senior's message (one click), which moderators then review.
    junior, jtoken = clients["aisha_m"]
    space = re.search(r'href="(/messages/\d+)"', junior.get(programme).text)
    assert space, "the junior has a pair space"
    text_of_space = junior.get(space.group(1)).text
    partner = next(n for n in ("priya_s", "tomasz_k") if n in text_of_space)
    senior, stoken = clients[partner]
    marker = f"pair-note-{uuid.uuid4().hex[:8]}"  # finds the reported message in the queue
    for client, token in ((junior, jtoken), (senior, stoken)):
        sent = client.post(f"{space.group(1)}/reply", data={
            "body": f"{marker}\n\n{everything}\n\n> quoted {PAYLOADS[0]}", "csrftoken": token,
            "post_anyway": "1"})  # fmt: skip
        assert sent.status_code == 303
    _until(junior, space.group(1), r'href="/messages/m/\d+/report"')
    form = junior.get(f"{programme}/checkin").text
    asked = dict.fromkeys(re.findall(r'name="(q\d+)"', form))
    answers = {q: ("3" if 'type="radio" name="' + q in form else everything) for q in asked}
    sent = junior.post(f"{programme}/checkin", data={"side": "junior", **answers,
                                                     "csrftoken": jtoken})  # fmt: skip
    assert sent.status_code == 303, sent.text[-500:]
    path = re.search(r'href="(/programmes/\d+/pairs/\d+/dismissive)"', junior.get(programme).text)
    assert path  # "This felt dismissive" opens a confirmation naming the message
    confirm = junior.get(path.group(1)).text
    message_id = re.search(r'name="message_id" value="(\d+)"', confirm)
    assert message_id
    assert (
        junior.post(
            path.group(1),
            data={"csrftoken": jtoken, "confirm": "yes", "message_id": message_id.group(1)},
        ).status_code
        == 303
    )

    _as(page, live_server, junior)
    for path_ in [programme, f"{programme}/checkin", space.group(1), "/messages"]:
        _assert_inert(page, path_, dialogs)
    # The forms send hostile input back: a check-in without its scale answer, an application
    # without a side.
    page.goto(f"{programme}/checkin")
    # Answered already: the form holds those answers (the payloads among them, inert); the
    # scale's answer is taken back here so that the form is refused and sent back.
    expect(page.get_by_text("You answered check-in")).to_be_visible()
    page.evaluate("document.querySelectorAll('input[type=radio]').forEach(r => r.checked = false)")
    for q in asked:
        if 'type="radio" name="' + q not in form:
            page.locator(f'textarea[name="{q}"]').fill(everything)
    page.get_by_role("button", name="Send check-in").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("from 1 to 5").first).to_be_visible()  # sent back, with the text
    assert page.evaluate("window.__pwned === undefined") and dialogs == []
    applicant, _ = signed_in("grace_w")
    other = re.findall(r'href="(/programmes/\d+)"', lead.get("/programmes").text)
    open_programme = next(p for p in other if p != programme and "Apply" in applicant.get(p).text)
    _as(page, live_server, applicant)
    page.goto(open_programme)
    page.get_by_label("Your role").fill(PAYLOADS[1][:100])
    page.get_by_label("Department").fill(PAYLOADS[11][:100])
    page.get_by_label("Anything else you can teach or want to learn").fill(everything)
    # (Applying again starts from the member's last answers: the side is taken back here, so
    # that the form is refused and sent back.)
    page.evaluate(
        "document.querySelectorAll('form').forEach(f => f.noValidate = true); "
        "document.querySelectorAll('input[name=side]').forEach(r => r.checked = false)"
    )
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("Choose the side you apply for.")).to_be_visible()
    assert page.evaluate("window.__pwned === undefined") and dialogs == []
    # The lead's new-programme form, sent back for a missing purpose.
    _as(page, live_server, lead)
    page.goto("/programmes/new")
    page.get_by_label("Name", exact=True).fill(f"XSS {PAYLOADS[0]}")
    page.get_by_label("Ground rules").fill(everything)
    page.get_by_label("How results will be evaluated").fill(everything)
    # (The browser itself stops a form with a required field empty: past it, the server.)
    page.evaluate("document.querySelectorAll('form').forEach(f => f.noValidate = true)")
    page.get_by_role("button", name="Create programme").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text("The purpose is required.").first).to_be_visible()
    assert page.evaluate("window.__pwned === undefined") and dialogs == []
    for path_ in [programme, f"{programme}/proposal", f"{programme}/dashboard", "/programmes"]:
        _assert_inert(page, path_, dialogs)
    dashboard = lead.get(f"{programme}/dashboard").text
    # The hostile written answer is its question's only one this round: withheld from the
    # lead (a lone answer is its writer's), so nowhere on the page, raw or escaped.
    assert "Withheld until" in dashboard and "<script>window.__pwned" not in dashboard

    mod, _ = signed_in("morgan_mod")
    items = re.findall(r'href="(/mod/items/\d+)"', mod.get("/mod").text)[:10]
    # The junior's report, wherever it sits in the queue: scored with the pair's ladder.
    reported = None
    for number in range(1, 21):
        rows = mod.get(f"/mod?page={number}").text.split("<tr>")
        found = [re.search(r'href="(/mod/items/\d+)"', r) for r in rows if marker in r]
        if found and found[0]:
            reported = found[0].group(1)
            break
    assert reported is not None
    assert "pair space (reverse)" in mod.get(reported).text
    _as(page, live_server, mod)
    for item in [reported, *items]:
        _assert_inert(page, item, dialogs)
