// Sample viewer and side-by-side comparison. Model text is only ever inserted with textContent, never as HTML.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("payload").textContent);
  var rowPick = document.getElementById("row-pick");
  var genPick = document.getElementById("gen-pick");
  var byId = {};
  data.rows.forEach(function (r) { byId[r.id] = r; });
  document.getElementById("task-pick").addEventListener("change", function (e) { window.location.href = e.target.value; });
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function option(sel, value, label) {
    var o = el("option", "", label);
    o.value = value; sel.appendChild(o);
  }
  // Diffusion rows first: their finalization order is what the viewer is for.
  data.rows.forEach(function (r) { option(rowPick, r.id, r.name + " [" + r.type + "]"); });
  var hash = decodeURIComponent(window.location.hash.slice(1));
  if (hash && byId[hash]) { rowPick.value = hash; }
  function colour(frac) {  // viridis-like ramp: early dark purple -> blue -> green -> late yellow
    var stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    var x = Math.max(0, Math.min(1, frac)) * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
    var c = stops[i].map(function (v, k) { return Math.round(v + (stops[i + 1][k] - v) * f); });
    return "rgb(" + c.join(",") + ")";
  }
  function f(x, d) { return x === null || x === undefined ? "-" : Number(x).toFixed(d); }
  function verdict(badge, g) {
    badge.textContent = g.score === null ? "no score" : g.score >= 1 ? "correct" : "incorrect";
    badge.className = "badge " + (g.score === null ? "" : g.score >= 1 ? "correct" : "incorrect");
  }
  function tokens(box, g) {  // coloured pieces when traced, the plain answer otherwise
    box.textContent = "";
    if (!g.pieces.length) { box.textContent = g.response; return; }
    var steps = g.steps, lo = Math.min.apply(null, steps), hi = Math.max.apply(null, steps);
    g.pieces.forEach(function (p, i) {
      var frac = hi > lo ? (steps[i] - lo) / (hi - lo) : 0;
      var s = el("span", "", p);
      s.style.background = colour(frac);
      s.style.color = frac < 0.55 ? "#fff" : "#000";
      s.title = "position " + i + ", finalized at step " + steps[i];
      box.appendChild(s);
    });
  }
  function timeline(box, g, width) {
    box.textContent = "";
    if (!g.steps.length) { return; }
    var steps = g.steps, lo = Math.min.apply(null, steps), hi = Math.max.apply(null, steps), counts = {};
    steps.forEach(function (s) { counts[s] = (counts[s] || 0) + 1; });
    var maxCount = Math.max.apply(null, Object.keys(counts).map(function (k) { return counts[k]; }));
    for (var st = lo; st <= hi; st++) {
      var bar = el("div");
      bar.style.height = (100 * (counts[st] || 0) / maxCount) + "%";
      bar.style.background = colour(hi > lo ? (st - lo) / (hi - lo) : 0);  // the tokens' colour for that step
      bar.style.width = Math.max(2, Math.floor(width / (hi - lo + 1))) + "px";
      bar.title = "step " + st + ": " + (counts[st] || 0) + " token(s) finalized";
      box.appendChild(bar);
    }
  }
  function stats(g) {
    if (g.pieces.length) {
      return g.steps.length + " counted tokens, NFE " + f(g.nfe, 0) + ", AFP " + f(g.afp, 2) + ", tau-b " + f(g.tau_b, 3);
    }
    var type = byId[g.row].type;
    return type === "AR" ? "Autoregressive backend: left to right by construction (AFP = tau = 1 assumed); no trace."
      : type === "unknown" ? "No trace and a backend not known to decode left to right: order unknown." : "No trace for this generation.";
  }
  function fillGens() {
    genPick.textContent = "";
    data.gens.forEach(function (g, idx) {
      if (g.row === rowPick.value) { option(genPick, idx, "doc " + g.doc + (g.repeat ? " / repeat " + g.repeat : "") + (g.score === null ? "" : " (score " + g.score + ")")); }
    });
    show();
  }
  function show() {
    var g = data.gens[parseInt(genPick.value, 10)];
    if (!g) { return; }
    document.getElementById("prompt").textContent = data.prompts[g.prompt_hash] || "";
    document.getElementById("target").textContent = g.target;
    document.getElementById("filtered").textContent = g.filtered;
    verdict(document.getElementById("verdict"), g);
    tokens(document.getElementById("tokens"), g);
    timeline(document.getElementById("timeline"), g, 600);
    document.getElementById("trace-widgets").style.display = g.pieces.length ? "" : "none";  // AR: nothing to show
    document.getElementById("stats").textContent = stats(g);
    compare(g.doc);
  }
  function compare(doc) {
    var box = document.getElementById("compare");
    box.textContent = "";
    document.getElementById("compare-doc").textContent = doc;
    var gens = data.gens.filter(function (g) { return g.doc === doc && g.repeat === 0; });
    var hashes = {};
    gens.forEach(function (g) { hashes[g.prompt_hash] = true; });
    var distinct = Object.keys(hashes), hashNote = document.getElementById("compare-hash");
    hashNote.textContent = distinct.length === 1
      ? "All " + gens.length + " saw the identical prompt, sha256 " + distinct[0].slice(0, 16) + "."
      : "The prompts differ between models (" + distinct.length + " hashes): the answers are not comparable.";
    hashNote.className = "hash" + (distinct.length === 1 ? "" : " mismatch");
    data.rows.forEach(function (r) {
      gens.filter(function (g) { return g.row === r.id; }).forEach(function (g) {
        var card = el("div", "card " + r.type);
        card.setAttribute("data-row", r.id);
        var head = el("h3", "", r.name + " ");
        head.appendChild(el("span", "badge " + r.type, r.type));
        head.appendChild(document.createTextNode(" "));
        var badge = el("span");
        verdict(badge, g);
        head.appendChild(badge);
        card.appendChild(head);
        var body = el("div", "tokens");
        tokens(body, g);
        card.appendChild(body);
        if (g.pieces.length) {
          var line = el("div", "timeline");
          timeline(line, g, 300);
          card.appendChild(line);
        }
        card.appendChild(el("p", "note", stats(g) + " Filtered: " + g.filtered + " | prompt " + g.prompt_hash.slice(0, 12)));
        box.appendChild(card);
      });
    });
  }
  rowPick.addEventListener("change", fillGens);
  genPick.addEventListener("change", show);
  fillGens();
})();
