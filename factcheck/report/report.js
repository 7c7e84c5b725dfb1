// Filters, search and selection for the report; without script every claim is shown and a
// marked span links to its claim.
(function () {
  "use strict";
  var claims = Array.prototype.slice.call(document.querySelectorAll(".claim"));
  var marks = Array.prototype.slice.call(document.querySelectorAll("a.mark"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-verdict]"));
  var search = document.getElementById("search");
  var minimum = document.getElementById("min-confidence");
  var shownOut = document.getElementById("min-confidence-value");
  var countOut = document.getElementById("shown-count");
  var byId = {};
  claims.forEach(function (c) { byId[c.id] = c; c._text = (c.getAttribute("data-text") || "").toLowerCase(); });

  function apply() {
    var wanted = {};
    boxes.forEach(function (b) { wanted[b.getAttribute("data-verdict")] = b.checked; });
    var words = (search.value || "").toLowerCase().trim();
    var least = parseFloat(minimum.value) / 100;
    shownOut.textContent = least.toFixed(2);
    var shown = 0, visible = {};
    claims.forEach(function (c) {
      var confidence = parseFloat(c.getAttribute("data-confidence"));
      var keep = wanted[c.getAttribute("data-verdict")] &&
        (isNaN(confidence) || confidence >= least) && (!words || c._text.indexOf(words) >= 0);
      c.hidden = !keep;
      if (keep) { shown += 1; visible[c.id] = true; }
    });
    marks.forEach(function (m) {
      var ids = m.getAttribute("data-claims").split(" ");
      m.classList.toggle("dim", !ids.some(function (id) { return visible[id]; }));
    });
    countOut.textContent = shown + " of " + claims.length + " claims shown";
  }

  function select(id) {
    claims.forEach(function (c) { c.classList.remove("selected"); });
    var card = byId[id];
    if (!card) { return; }
    card.hidden = false;
    card.classList.add("selected");
    var details = card.querySelector("details");
    if (details) { details.open = true; }
  }

  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  minimum.addEventListener("input", apply);
  marks.forEach(function (m) {
    m.addEventListener("click", function () { select(m.getAttribute("data-claims").split(" ")[0]); });
  });
  window.addEventListener("hashchange", function () { select(location.hash.slice(1)); });
  if (location.hash) { select(location.hash.slice(1)); }
  apply();
})();
