// Live countdowns to deadlines, the language switch, and small helpers. No build step.
(function () {
  "use strict";
  var body = document.body;
  var units = (body.dataset.units || "d|h|min").split("|");
  var overdueWord = body.dataset.overdue || "overdue";
  // Countdowns run on the server's clock: the page says what time the server had when it was
  // rendered, and the device's clock (which may be off by hours or days) only measures the time
  // elapsed since then.
  var serverNow = Date.parse(body.dataset.now || "");
  var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
  function format(ms) {
    var minutes = Math.floor(Math.abs(ms) / 60000);
    var days = Math.floor(minutes / 1440);
    var hours = Math.floor((minutes % 1440) / 60);
    var mins = minutes % 60;
    var parts = [];
    if (days) parts.push(days + units[0]);
    if (days || hours) parts.push(hours + units[1]);
    parts.push(mins + units[2]);
    return parts.join(" ");
  }
  function tick() {
    var now = Date.now() + skew;
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var left = new Date(el.getAttribute("datetime")).getTime() - now;
      el.classList.toggle("overdue", left < 0);
      el.classList.toggle("urgent", left >= 0 && left < 12 * 3600 * 1000);
      el.textContent = left < 0 ? overdueWord + " " + format(left) : format(left);
    });
  }
  tick();
  setInterval(tick, 30000);
  document.addEventListener("htmx:afterSwap", tick);
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });
  document.addEventListener("click", function (event) {
    var all = event.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll("input[name=case]").forEach(function (box) { box.checked = all.checked; });
    }
  });
})();
