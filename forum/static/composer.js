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
