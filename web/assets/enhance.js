// Progressive enhancement only: the pages work without this file.
// - Timeline markers and bars show their <title> as a tooltip on hover and
//   keyboard focus, without the browser's delay.
// - On a timeline, ArrowUp/ArrowDown move between lane links; Home/End jump
//   to the first and last lane.
// - A form that came back with errors scrolls its error summary into view.
(function () {
  "use strict";
  var tip = null;
  function show(el, x, y) {
    var t = el.querySelector(":scope > title");
    if (!t) { return; }
    if (!tip) {
      tip = document.createElement("div");
      tip.className = "tooltip";
      tip.setAttribute("role", "tooltip");
      document.body.appendChild(tip);
    }
    tip.textContent = t.textContent;
    tip.style.left = Math.min(x + 12, window.innerWidth - 260) + "px";
    tip.style.top = (y + 14) + "px";
    tip.hidden = false;
  }
  function hide() { if (tip) { tip.hidden = true; } }
  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest("svg.timeline use, svg.timeline rect.spell, svg.timeline .reform");
    if (el) { show(el, e.clientX, e.clientY); } else { hide(); }
  });
  document.addEventListener("focusin", function (e) {
    var a = e.target.closest && e.target.closest("svg.timeline a");
    if (a) {
      var r = a.getBoundingClientRect();
      show(a, r.left, r.bottom - 10);
    } else { hide(); }
  });
  document.addEventListener("keydown", function (e) {
    var a = e.target.closest && e.target.closest("svg.timeline a");
    if (!a) { if (e.key === "Escape") { hide(); } return; }
    var links = Array.prototype.slice.call(a.ownerSVGElement.querySelectorAll("g.lane > a"));
    var i = links.indexOf(a), next = -1;
    if (e.key === "ArrowDown") { next = Math.min(i + 1, links.length - 1); }
    if (e.key === "ArrowUp") { next = Math.max(i - 1, 0); }
    if (e.key === "Home") { next = 0; }
    if (e.key === "End") { next = links.length - 1; }
    if (e.key === "Escape") { hide(); }
    if (next >= 0) { e.preventDefault(); links[next].focus(); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var s = document.querySelector(".error-summary, #conflict");
    if (s) { s.scrollIntoView({ block: "center" }); if (s.focus) { s.focus({ preventScroll: true }); } }
  });
})();
