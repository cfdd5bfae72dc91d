// Deskpilot's small page behaviours. htmx and Alpine.js do the rest.
// Controls that only matter without JavaScript (e.g. a "Set" button beside a select that saves on
// change) hide under .js.
document.documentElement.classList.add("js");

(function () {
  "use strict";

  // Keyboard shortcuts for people who live in the inbox: "/" focuses search, "g i" goes to the
  // inbox, "j"/"k" move between rows of a ticket list, Enter opens the row, "c" focuses the reply box.
  var pending = null;
  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row-link]")); }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(document.activeElement);
    var next = list[Math.max(0, Math.min(list.length - 1, index + step))];
    next.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.metaKey || event.ctrlKey || event.altKey || typing(event.target)) return;
    if (pending === "g") {
      pending = null;
      if (event.key === "i") { window.location.href = "/inbox"; event.preventDefault(); }
      return;
    }
    if (event.key === "g") { pending = "g"; return; }
    if (event.key === "/") {
      var search = document.querySelector("[data-search-input]");
      if (search) { search.focus(); event.preventDefault(); }
    } else if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "c") {
      var reply = document.querySelector("[data-reply-input]");
      if (reply) { reply.focus(); event.preventDefault(); }
    }
  });
  document.addEventListener("keydown", function (event) {
    var row = event.target.closest && event.target.closest("[data-row-link]");
    if (row && event.key === "Enter" && event.target === row) {
      window.location.href = row.getAttribute("data-row-link");
    }
  });
})();

// SLA countdowns ([data-countdown] from the countdown filter) tick down each half minute, in the
// same words the server renders, so a page left open stays right.
(function () {
  function text(seconds) {
    var sign = seconds < 0 ? "-" : "";
    var left = Math.abs(seconds);
    var days = Math.floor(left / 86400), hours = Math.floor((left % 86400) / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    if (days) return sign + days + " d " + hours + " h";
    if (hours) return sign + hours + " h " + (minutes < 10 ? "0" : "") + minutes + " m";
    if (minutes) return sign + minutes + " m";
    return left ? sign + "<1 m" : "0 m";
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      var seconds = Math.round((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      var state = seconds < 0 ? "breached" : seconds < 3600 ? "soon" : "ok";
      el.textContent = text(seconds);
      el.className = "countdown countdown--" + state;
    });
  }
  setInterval(tick, 30000);
})();
