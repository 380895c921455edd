// Live nudge for the composer: as the author pauses, ask the server's cue check whether the
// text may read as dismissive of junior colleagues. Without JavaScript the same check runs
// when the form is submitted.
(function () {
  "use strict";
  document.querySelectorAll("form[data-composer]").forEach(function (form) {
    var body = form.querySelector("textarea[name=body]");
    // A thread's title or a message's subject is checked with the body, as the server does.
    var title = form.querySelector("input[name=title], input[name=subject]");
    var box = form.querySelector("[data-nudge]");
    var token = form.querySelector("input[name=csrftoken]");
    var endpoint = form.dataset.composer; // the cue check's address, from its route's name
    if (!body || !box || !token || !endpoint) return;
    var list = box.querySelector(".nudge-phrases");
    var timer = null;
    var last = "";
    function show(phrases) {
      if (box.querySelector("button[name=post_anyway]")) return; // server already nudged
      list.textContent = "";
      phrases.forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = "\u201c" + p + "\u201d";
        list.appendChild(li);
      });
      box.hidden = phrases.length === 0;
    }
    function check() {
      var text = title && title.value ? title.value + "\n\n" + body.value : body.value;
      if (text === last) return;
      last = text;
      fetch(endpoint, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token.value },
        body: JSON.stringify({ text: text })
      }).then(function (r) { return r.ok ? r.json() : { phrases: [] }; })
        .then(function (data) { show(data.phrases || []); })
        .catch(function () {});
    }
    [body, title].forEach(function (field) {
      if (!field) return;
      field.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(check, 600);
      });
    });
  });
})();

// Drafts: what the member types is kept on the server (the form's data-draft address) every
// 15 seconds while it changes and when the page is hidden or left, so a half-typed post
// survives navigating away. Without JavaScript the form's "Save draft" and "Preview" buttons
// keep it. Sending the form itself (posting it) stops the saving: posting deletes the draft.
(function () {
  "use strict";
  document.querySelectorAll("form[data-draft]").forEach(function (form) {
    var body = form.querySelector("textarea[name=body]");
    var title = form.querySelector("input[name=title]");
    var token = form.querySelector("input[name=csrftoken]");
    var status = form.querySelector("[data-draft-status]");
    var endpoint = form.dataset.draft;
    if (!body || !token || !endpoint) return;
    function current() { return (title ? title.value : "") + "\u0000" + body.value; }
    var saved = current();
    var sending = false;
    function save(leaving) {
      var now = current();
      if (sending || now === saved) return;
      var data = new URLSearchParams();
      data.set("body", body.value);
      if (title) data.set("title", title.value);
      saved = now;
      fetch(endpoint, {
        method: "POST",
        credentials: "same-origin",
        keepalive: leaving === true,
        headers: { "X-CSRFToken": token.value },
        body: data
      }).then(function (r) {
        if (!r.ok) { saved = ""; return; }
        if (status) status.textContent = "Draft saved at " + new Date().toLocaleTimeString() + ".";
      }).catch(function () { saved = ""; });
    }
    form.addEventListener("submit", function () { sending = true; });
    setInterval(save, 15000);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") save(true);
    });
    window.addEventListener("pagehide", function () { save(true); });
  });
})();

// @mention typeahead: typing "@" and the start of a name offers matching members (the form's
// data-mentions address: active members only, a few at a time). Arrow keys move, Enter or Tab
// picks, Escape closes. Without JavaScript an @name is typed as plain text and links all the same.
(function () {
  "use strict";
  var BEFORE = /(^|[^\w@\/.+-])@([A-Za-z0-9][A-Za-z0-9_.-]{0,29})$/;
  document.querySelectorAll("form[data-mentions]").forEach(function (form, n) {
    var body = form.querySelector("textarea[name=body]");
    var endpoint = form.dataset.mentions;
    if (!body || !endpoint) return;
    // The list goes after the textarea and is drawn at its place without taking room (CSS).
    // The textarea itself is never moved: moving a focused element blurs it, and what the
    // member types while the page is still loading would go nowhere.
    var list = document.createElement("ul");
    list.className = "mention-suggestions";
    list.id = "mention-suggestions-" + n;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Members to mention");
    list.hidden = true;
    body.insertAdjacentElement("afterend", list);
    // Said aloud when suggestions come (the list itself is not announced while typing).
    var said = document.createElement("span");
    said.className = "visually-hidden";
    said.setAttribute("role", "status");
    list.insertAdjacentElement("afterend", said);
    body.setAttribute("aria-autocomplete", "list");
    body.setAttribute("aria-controls", list.id);
    var timer = null;
    var active = -1;
    var asked = "";
    function close() {
      list.hidden = true;
      list.textContent = "";
      said.textContent = "";
      active = -1;
      body.removeAttribute("aria-activedescendant");
    }
    function typed() {
      var match = BEFORE.exec(body.value.slice(0, body.selectionStart));
      return match ? match[2] : null;
    }
    function pick(name) {
      var end = body.selectionStart;
      var prefix = typed();
      if (prefix === null) return close();
      var start = end - prefix.length;
      // (One space after the name: none added before one already there.)
      var rest = body.value.slice(end);
      var gap = /^\s/.test(rest) ? "" : " ";
      body.value = body.value.slice(0, start) + name + gap + rest;
      body.selectionStart = body.selectionEnd = start + name.length + 1;
      close();
      body.focus();
      body.dispatchEvent(new Event("input"));
    }
    function highlight(i) {
      var items = list.querySelectorAll("li");
      if (!items.length) return;
      active = (i + items.length) % items.length;
      items.forEach(function (li, j) { li.setAttribute("aria-selected", j === active ? "true" : "false"); });
      body.setAttribute("aria-activedescendant", items[active].id);
    }
    function show(names) {
      list.textContent = "";
      active = -1;
      if (!names.length) return close();
      names.forEach(function (name, j) {
        var li = document.createElement("li");
        li.id = list.id + "-" + j;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.textContent = name;
        li.addEventListener("mousedown", function (e) { e.preventDefault(); pick(name); });
        list.appendChild(li);
      });
      list.hidden = false;
      highlight(0);
      said.textContent = names.length + (names.length === 1 ? " member" : " members") +
        " to mention: arrow keys to choose, Enter to pick.";
    }
    function ask() {
      var prefix = typed();
      if (prefix === null || prefix.length < 2) return close();
      if (prefix === asked && !list.hidden) return;
      asked = prefix;
      fetch(endpoint + "?q=" + encodeURIComponent(prefix), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { names: [] }; })
        .then(function (data) { if (typed() === prefix) show(data.names || []); })
        .catch(close);
    }
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    body.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); highlight(active + 1); }
      else if (e.key === "ArrowUp") { e.preventDefault(); highlight(active - 1); }
      else if (e.key === "Escape") { e.preventDefault(); close(); }
      else if ((e.key === "Enter" || e.key === "Tab") && active >= 0) {
        e.preventDefault();
        pick(list.querySelectorAll("li")[active].textContent);
      }
    });
    body.addEventListener("blur", function () { setTimeout(close, 150); });
  });
})();

// A new thread's title, as it is typed: threads the member may read that share its words,
// linked under the title ("These threads may already answer it"). Without JavaScript, nothing.
(function () {
  "use strict";
  document.querySelectorAll("[data-similar]").forEach(function (box) {
    var form = box.closest("form");
    var title = form && form.querySelector("input[name=title]");
    var list = box.querySelector("ul");
    if (!title || !list || !window.fetch) return;
    var timer = null;
    var asked = "";
    function show(threads) {
      list.textContent = "";
      threads.forEach(function (t) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = t.url;
        a.textContent = t.title;
        a.target = "_blank";
        a.rel = "noopener";
        li.appendChild(a);
        list.appendChild(li);
      });
      box.hidden = threads.length === 0;
    }
    function ask() {
      var text = title.value.trim();
      if (text === asked) return;
      asked = text;
      if (text.split(/\s+/).length < 3) return show([]);
      fetch(box.dataset.similar + "?title=" + encodeURIComponent(text), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { threads: [] }; })
        .then(function (data) { if (title.value.trim() === text) show(data.threads || []); })
        .catch(function () { show([]); });
    }
    title.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 600);
    });
    if (title.value.trim()) ask();
  });
})();

// A reply opened with a quote in it: the caret goes after the quote, on a line of its own, so
// the member types their answer under it.
(function () {
  "use strict";
  var box = document.querySelector("textarea[data-caret-end]");
  if (!box) return;
  if (!/\n\n$/.test(box.value)) box.value = box.value.replace(/\s*$/, "") + "\n\n";
  box.focus();
  box.selectionStart = box.selectionEnd = box.value.length;
})();

// Length: a textarea's maxlength cut a pasted post short without a word (newcomer probe). With
// JavaScript the limit is shown instead, as the text nears it, and a text over it is kept
// whole for the member to shorten (the server refuses it with the same numbers).
(function () {
  "use strict";
  document.querySelectorAll("textarea[maxlength]").forEach(function (area) {
    var most = parseInt(area.getAttribute("maxlength"), 10);
    if (!most || area.readOnly) return;
    area.removeAttribute("maxlength");
    var note = document.createElement("p");
    note.className = "length-note";
    note.id = (area.id || area.name) + "-length";
    note.setAttribute("aria-live", "polite");
    note.hidden = true;
    area.insertAdjacentElement("afterend", note);
    function update() {
      var n = area.value.length;
      if (n < most * 0.9) { note.hidden = true; return; }
      note.hidden = false;
      note.classList.toggle("over", n > most);
      note.textContent = n.toLocaleString("en-GB") + " of " + most.toLocaleString("en-GB") +
        " characters" + (n > most ? ": " + (n - most).toLocaleString("en-GB") +
        " too many to send" : "");
    }
    area.addEventListener("input", update);
    update();
  });
})();
