// Progressive enhancement only: the pages work without this file.
// - Timeline markers and bars show their description as a tooltip on hover
//   and keyboard focus, without the browser's delay: a municipality's
//   marker the text of the list item that names it (aria-labelledby), any
//   other its <title>.
// - On a municipality's timeline, ArrowUp/ArrowDown move between the lanes'
//   titles; Home/End jump to the first and last.
// - A form that came back with errors scrolls its error summary into view.
// - "Add a partner" adds a partner row in the browser instead of sending
//   the form to draw it again (which is what happens without this file).
// - A copy button (button[data-copy], hidden without this file) copies the
//   text of the field it names, such as the research page's citation;
//   without it the read-only field's text is there to select.
(function () {
  "use strict";
  var tip = null;
  // shownBy is what showed the tooltip: "pointer" or "focus". Moving the
  // pointer off a marker hides only what the pointer showed, so that a
  // page scrolling under a still mouse as the keyboard moves the focus
  // does not take the focused marker's description away.
  var shownBy = "";
  function describe(el) {
    var by = el.getAttribute("aria-labelledby");
    var target = by && document.getElementById(by);
    if (target) { return target.textContent; }
    var t = el.querySelector(":scope > title");
    return t ? t.textContent : "";
  }
  function show(el, x, y, source) {
    var text = describe(el);
    if (!text) { return; }
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tooltip";
      tip.setAttribute("aria-hidden", "true");
      document.body.appendChild(tip);
    }
    tip.textContent = text;
    tip.style.left = Math.max(4, Math.min(x + 12, window.innerWidth - 360)) + "px";
    tip.style.top = (y + 14) + "px";
    tip.hidden = false;
    shownBy = source;
  }
  function hide() { if (tip) { tip.hidden = true; } }
  var pointed = "svg.timeline use, svg.timeline rect.spell, svg.timeline .reform, .tl-lane a, .tl-lane rect.spell, .tl-axis .reform, .tl-rules .today";
  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest(pointed);
    if (el) { show(el, e.clientX, e.clientY, "pointer"); } else if (shownBy === "pointer") { hide(); }
  });
  document.addEventListener("focusin", function (e) {
    var a = e.target.closest && e.target.closest(".tl-lane a");
    if (a) {
      var r = a.getBoundingClientRect();
      show(a, r.left, r.bottom - 10, "focus");
    } else { hide(); }
  });
  document.addEventListener("keydown", function (e) {
    var a = e.target.closest && e.target.closest("a.tl-label");
    if (!a) { if (e.key === "Escape") { hide(); } return; }
    var links = Array.prototype.slice.call(document.querySelectorAll("a.tl-label"));
    var i = links.indexOf(a), next = -1;
    if (e.key === "ArrowDown") { next = Math.min(i + 1, links.length - 1); }
    if (e.key === "ArrowUp") { next = Math.max(i - 1, 0); }
    if (e.key === "Home") { next = 0; }
    if (e.key === "End") { next = links.length - 1; }
    if (e.key === "Escape") { hide(); }
    if (next >= 0) { e.preventDefault(); links[next].focus(); }
  });
  // addRow copies the last row of the button's form, empty, with the next
  // number in its names, ids and legend, and counts it in partner_rows.
  function addRow(button) {
    var form = button.form;
    var rows = form.querySelectorAll("fieldset[data-row]");
    if (!rows.length) { return false; }
    var last = rows[rows.length - 1];
    var n = rows.length;
    if (n >= 50) { return false; } // the server's limit: it says so
    var row = last.cloneNode(true);
    var rename = function (s) { return s.replace(/partner_\d+_/, "partner_" + n + "_"); };
    Array.prototype.forEach.call(row.querySelectorAll("[name], [id], [for], [aria-describedby]"), function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (a) {
        if (el.hasAttribute(a)) { el.setAttribute(a, rename(el.getAttribute(a))); }
      });
      if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") { el.value = ""; }
      if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(row.querySelectorAll(".field-error, .req, [id$='_name-hint']"), function (el) { el.remove(); });
    Array.prototype.forEach.call(row.querySelectorAll(".field.invalid"), function (el) { el.classList.remove("invalid"); });
    Array.prototype.forEach.call(row.querySelectorAll("[aria-describedby]"), function (el) {
      if (!row.querySelector("[id='" + el.getAttribute("aria-describedby") + "']")) { el.removeAttribute("aria-describedby"); }
    });
    var legend = row.querySelector("legend");
    if (legend && row.dataset.legend) { legend.textContent = row.dataset.legend.replace("{n}", String(n + 1)); }
    last.after(row);
    var count = form.querySelector("input[name=partner_rows]");
    if (count) { count.value = String(n + 1); }
    var first = row.querySelector("input, select, textarea");
    if (first) { first.focus(); }
    return true;
  }
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-add-row]");
    if (b && addRow(b)) { e.preventDefault(); }
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("button[data-copy]");
    var field = b && document.getElementById(b.getAttribute("data-copy"));
    if (!field) { return; }
    field.select();
    var done = function () { b.textContent = b.getAttribute("data-copied"); };
    if (navigator.clipboard) { navigator.clipboard.writeText(field.value).then(done, function () {}); } else if (document.execCommand("copy")) { done(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (b) { b.hidden = false; });
    var s = document.querySelector(".error-summary, #conflict");
    if (s) { s.scrollIntoView({ block: "center" }); if (s.focus) { s.focus({ preventScroll: true }); } }
  });
})();
