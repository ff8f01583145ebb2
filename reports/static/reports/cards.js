// Live refresh of the export-health cards: "Run export now" posts without leaving the page,
// and a card whose run is queued, running or just dispatched is re-fetched every few seconds
// until the run is over and the card shows the new cursor. Without JavaScript the form posts
// and the page reloads, which shows the same thing.
(function () {
  "use strict";
  var POLL_MS = 3000;
  var MAX_POLLS = 200;

  function replaceCard(card, html) {
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var fresh = holder.firstElementChild;
    if (!fresh) { return card; }
    card.replaceWith(fresh);
    bind(fresh);
    return fresh;
  }

  function poll(card, remaining) {
    if (!card.dataset.inFlight || remaining <= 0) { return; }
    window.setTimeout(function () {
      fetch(card.dataset.cardUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) { poll(replaceCard(card, html), remaining - 1); })
        .catch(function () { poll(card, remaining - 1); });
    }, POLL_MS);
  }

  function bind(card) {
    var form = card.querySelector("form[data-run-now]");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        if (button) { button.disabled = true; }
        fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch" }
        })
          .then(function (response) { return response.text(); })
          .then(function (html) { poll(replaceCard(card, html), MAX_POLLS); })
          .catch(function () { form.submit(); });
      });
    }
  }

  // "Record a follow-up" at the page's top opens the form it jumps to: one tap, not two.
  function openTarget(hash) {
    var target = hash && document.getElementById(hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".export-card").forEach(function (card) {
      bind(card);
      poll(card, MAX_POLLS);
    });
    document.querySelectorAll("a[data-jump]").forEach(function (link) {
      link.addEventListener("click", function () { openTarget(link.hash); });
    });
    openTarget(window.location.hash);
  });
})();
