// Live nudge for the composer: as the author pauses, ask the server's cue check whether the
// text may read as dismissive of junior colleagues. Without JavaScript the same check runs
// when the form is submitted.
(function () {
  "use strict";
  document.querySelectorAll("form[data-composer]").forEach(function (form) {
    var body = form.querySelector("textarea[name=body]");
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
      var text = body.value;
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
    body.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 600);
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
