// The notifications list: each notification is a link to what it is about. Following one
// (a click, a middle click, Enter) also marks it read on the server, with a POST carrying
// this page's CSRF token; without JavaScript, opening the thread or conversation marks it.
(function () {
  "use strict";
  var token = document.querySelector("form[data-read-token] input[name=csrftoken]");
  if (!token || !window.fetch) return;
  function markRead(event) {
    var link = event.target.closest ? event.target.closest("a[data-read]") : null;
    if (!link || (event.type === "auxclick" && event.button !== 1)) return;
    var body = new FormData();
    body.append("csrftoken", token.value);
    // keepalive: the request outlives this page; the answer (a redirect) is not followed.
    fetch(link.dataset.read, {
      method: "POST", body: body, credentials: "same-origin", keepalive: true,
      redirect: "manual"
    }).catch(function () {});
    link.removeAttribute("data-read");
    var item = link.closest("li");
    if (item) item.classList.remove("unread");
  }
  document.addEventListener("click", markRead);
  document.addEventListener("auxclick", markRead);
})();
