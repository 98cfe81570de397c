// Keyboard shortcuts of the desk: j/k move through the queue, o opens the chosen case, a approves
// (the chosen case in the queue, or the case on screen), r goes to the reject form's reason,
// / focuses the search, ? shows the help. None fires while typing in a field.
(function () {
  "use strict";
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable], dialog[open]") !== null;
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-case]")); }
  function current() { return document.querySelector("tr[data-case].keyboard-focus"); }
  function choose(row) {
    rows().forEach(function (r) { r.classList.remove("keyboard-focus"); });
    if (row) {
      row.classList.add("keyboard-focus");
      row.scrollIntoView({block: "nearest"});
    }
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(current());
    choose(all[Math.max(0, Math.min(all.length - 1, index < 0 ? 0 : index + step))]);
  }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"]; }
    catch (error) { return ""; }
  }
  function approve() {
    var row = current();
    if (row) {
      if (!row.dataset.approveUrl) return;
      fetch(row.dataset.approveUrl, {method: "POST", headers: {"X-CSRFToken": csrf()}, credentials: "same-origin"})
        .then(function () { window.location.reload(); });
      return;
    }
    var button = document.querySelector('button[data-action="approve"]');
    if (button) button.click();
  }
  function reject() {
    var row = current();
    if (row) { window.location.href = row.dataset.caseUrl + "#action-reject"; return; }
    focusReject();
  }
  function focusReject() {
    var form = document.getElementById("action-reject");
    if (!form) return;
    form.open = true;
    var field = form.querySelector("textarea, input[type=text]");
    if (field) field.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("shortcuts-help");
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o":
        if (!current()) return;
        window.location.href = current().dataset.caseUrl; break;
      case "a": approve(); break;
      case "r": reject(); break;
      case "/":
        var search = document.querySelector("[data-shortcut-search]");
        if (!search) return;
        search.focus(); break;
      case "?": if (help && help.showModal) help.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });
  if (window.location.hash === "#action-reject") document.addEventListener("DOMContentLoaded", focusReject);
})();
