"""The HTML report's style and script (html.py), inlined into the page, which admits exactly these two
by their SHA-256 in its Content-Security-Policy: no other script or style can run, and nothing is
fetched. The script filters the findings (status, severity, check, account, free text; kept in the
URL's #fragment so a filtered view can be linked), lets the summary's counts and the graph's nodes
set the filter, highlights a node's edges on hover, and marks the page `data-ready="1"` when done.
It reads the page's own data-* attributes and never writes HTML."""

CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#1565c0}
*{box-sizing:border-box}[hidden]{display:none!important}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
color:var(--fg);background:var(--bg)}
.wrap{max-width:1240px;margin:0 auto;padding:0 20px}
code,.mono,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
pre{white-space:pre-wrap;word-break:break-all;margin:4px 0;background:#f0f4f8;padding:8px 10px;border-radius:6px}
.banner{color:#fff;padding:18px 0 14px}.banner.bad{background:#b71c1c}.banner.warn{background:#e65100}
.banner.good{background:#1b5e20}.banner h1{margin:4px 0;font-size:22px;line-height:1.3}
.banner .tool,.banner .db{margin:0;opacity:.9}.banner code{color:#fff}
h2{font-size:18px;margin:26px 0 10px}h3{font-size:15px;margin:0 0 8px}
h4{margin:0 0 6px;font-size:14px}h5{margin:10px 0 2px;font-size:12px;text-transform:uppercase;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;margin:14px 0}
.two{display:grid;grid-template-columns:1fr 1fr;gap:14px}.two .card{margin:0}
@media (max-width:900px){.two{grid-template-columns:1fr}}
.notes{margin:0;padding-left:18px}.alert{color:#b71c1c;font-weight:600}
.muted{color:var(--muted)}.small{font-size:12px}
.stats{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:14px}
.stat{flex:1;min-width:120px;border:1px solid var(--line);border-radius:10px;background:var(--card);
padding:10px 14px;text-align:left;cursor:pointer;border-left:6px solid #bdbdbd;font:inherit;color:inherit}
.stat .big{display:block;font-size:28px;font-weight:700}.stat.s-fail{border-left-color:#c62828}
.stat.s-error{border-left-color:#ef6c00}.stat.s-muted{border-left-color:#78909c}
.stat.s-pass{border-left-color:#2e7d32}.stat.s-skip{border-left-color:#bdbdbd}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid var(--line);
text-align:left;vertical-align:top}thead th{font-size:12px;color:var(--muted);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.z{color:#c1c7cd}
td.s-fail{color:#c62828;font-weight:700}td.s-error{color:#ef6c00;font-weight:700}td.s-muted{color:#607d8b}
tr.total th,tr.total td{font-weight:700}.bar{display:block;margin-top:4px}
.err{color:#b71c1c;font-size:12px}
button.link{background:none;border:0;padding:0;font:inherit;color:var(--accent);cursor:pointer;text-align:left}
button.link:hover{text-decoration:underline}
.sev,.st,.cst{display:inline-block;border-radius:4px;padding:0 6px;font-size:11px;font-weight:700;
text-transform:uppercase;color:#fff;min-width:58px;text-align:center}
.sev-critical{background:#6a1b9a}.sev-high{background:#c62828}.sev-medium{background:#ef6c00}
.sev-low{background:#1565c0}.sev-info{background:#607d8b}
button.sev{color:#fff;border:0;cursor:pointer;font:inherit;font-size:11px;font-weight:700;padding:0 6px}
.st.s-fail{background:#c62828}.st.s-error{background:#ef6c00}.st.s-muted{background:#78909c}
.st.s-pass{background:#2e7d32}.st.s-skip{background:#9e9e9e}
.cst{background:#9e9e9e}.cst-fail{background:#c62828}.cst-error{background:#ef6c00}.cst-pass{background:#2e7d32}
.cst-muted{background:#78909c}
.legend{display:flex;gap:16px;flex-wrap:wrap;margin:6px 0 10px;font-size:12px;color:var(--muted)}
.lg{display:inline-flex;align-items:center;gap:6px}
.graph-wrap{overflow-x:auto}
svg.graph{display:block;max-width:100%;height:auto;font-family:inherit}
.graph .colhead{font-size:12px;font-weight:700;fill:#616e7c;text-transform:uppercase;letter-spacing:.04em}
.graph .node rect.box{fill:#fff;stroke:#9aa5b1;stroke-width:1}.graph .node{cursor:pointer}
.graph .kind-owner rect.box,.graph .kind-reader rect.box{fill:#e3f2fd;stroke:#64b5f6}
.graph .kind-key rect.box{fill:#fff8e1;stroke:#ffb300}
.graph .node .label{font-size:12px;font-weight:600;fill:#1f2933}.graph .node .sub{font-size:10.5px;fill:#616e7c}
.graph .node:hover rect.box,.graph .node:focus rect.box,.graph .node.hl rect.box{stroke:#1f2933;stroke-width:2}
.graph.dim .edge{opacity:.12}.graph.dim .edge.hl{opacity:1}.graph.dim .node{opacity:.35}.graph.dim .node.hl{opacity:1}
.broken{color:#e53935}
.filters .row{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:4px 0}
.filters .lbl{width:64px;color:var(--muted);font-size:12px}
.chip{border:1px solid var(--line);border-radius:14px;padding:1px 10px 1px 6px;cursor:pointer;user-select:none}
.chip[class*=sev-]{color:#fff;border-color:transparent;font-weight:600}
.filters select,.filters input[type=search]{font:inherit;padding:3px 6px;border:1px solid #cbd2d9;border-radius:6px}
.filters .grow{flex:1;display:flex;gap:6px;align-items:center}.filters .grow input{flex:1}
.filters button{font:inherit;padding:3px 10px;border:1px solid #cbd2d9;border-radius:6px;background:#fff;cursor:pointer}
.count{margin:6px 0 0;color:var(--muted)}
.finding{background:var(--card);border:1px solid var(--line);border-radius:8px;margin:6px 0}
.finding>summary{cursor:pointer;padding:8px 12px;display:grid;grid-template-columns:78px 62px minmax(180px,260px) 1fr;
gap:2px 10px;align-items:baseline;list-style:none}
.finding>summary::-webkit-details-marker{display:none}
.finding .chk{color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.finding .res{overflow-wrap:anywhere}.finding .where{grid-column:3;color:var(--muted);font-size:12px}
.finding .why{grid-column:4;color:#3e4c59}
.finding[open]>summary{border-bottom:1px solid var(--line);background:#fafbfc}
.finding .body{padding:10px 14px}.finding .reason{white-space:pre-wrap;overflow-wrap:anywhere}
.finding .mute{color:#546e7a;font-style:italic}.finding .evidence th{width:200px;font-weight:600}
.finding .evidence pre{margin:0}.finding .refs ul{margin:2px 0;padding-left:18px}
#by-check.hide-quiet tr.quiet{display:none}.toggle{display:block;margin:0 0 8px;color:var(--muted)}
footer{color:var(--muted);padding:24px 20px 40px;font-size:12px}
"""

JS = """
(function () {
  "use strict";
  var form = document.getElementById("filters");
  if (!form) { return; }
  var items = Array.prototype.slice.call(document.querySelectorAll("#finding-list .finding"));
  var text = items.map(function (el) { return el.textContent.toLowerCase(); });
  var shown = document.getElementById("shown-count");
  var none = document.getElementById("no-match");
  var defaults = {};
  function boxes(name) { return Array.prototype.slice.call(form.querySelectorAll("input[name='" + name + "']")); }
  function picked(name) {
    var out = {};
    boxes(name).forEach(function (b) { if (b.checked) { out[b.value] = true; } });
    return out;
  }
  function set(name, values) {
    boxes(name).forEach(function (b) { b.checked = values.indexOf(b.value) >= 0; });
  }
  ["status", "severity"].forEach(function (n) {
    defaults[n] = boxes(n).filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
  });
  function apply(save) {
    var st = picked("status"), sev = picked("severity");
    var chk = form.elements.check.value, acc = form.elements.account.value;
    var q = form.elements.q.value.trim().toLowerCase();
    var n = 0;
    items.forEach(function (el, i) {
      var ok = st[el.dataset.status] && sev[el.dataset.severity] && (!chk || el.dataset.check === chk) &&
        (!acc || el.dataset.account === acc) && (!q || text[i].indexOf(q) >= 0);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
    none.hidden = n > 0;
    if (save) {
      var p = new URLSearchParams();
      p.set("status", Object.keys(st).join(","));
      p.set("severity", Object.keys(sev).join(","));
      if (chk) { p.set("check", chk); }
      if (acc) { p.set("account", acc); }
      if (q) { p.set("q", q); }
      try { history.replaceState(null, "", "#" + p.toString()); } catch (e) { /* file: URLs may refuse */ }
    }
  }
  function choose(select, value) {
    var ok = Array.prototype.some.call(select.options, function (o) { return o.value === value; });
    select.value = ok ? value : "";
  }
  function load() {
    var h = location.hash.replace(/^#/, "");
    if (h.indexOf("=") < 0) { return false; }
    var p = new URLSearchParams(h);
    if (p.has("status")) { set("status", p.get("status").split(",")); }
    if (p.has("severity")) { set("severity", p.get("severity").split(",")); }
    choose(form.elements.check, p.get("check") || "");
    choose(form.elements.account, p.get("account") || "");
    form.elements.q.value = p.get("q") || "";
    return true;
  }
  function focusFindings(instant) {
    var s = document.getElementById("findings");
    if (s && s.scrollIntoView) { s.scrollIntoView({behavior: instant ? "auto" : "smooth", block: "start"}); }
  }
  form.addEventListener("input", function () { apply(true); });
  form.addEventListener("change", function () { apply(true); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  document.getElementById("expand").addEventListener("click", function () {
    items.forEach(function (el) { if (!el.hidden) { el.open = true; } });
  });
  document.getElementById("collapse").addEventListener("click", function () {
    items.forEach(function (el) { el.open = false; });
  });
  document.getElementById("reset").addEventListener("click", function () {
    set("status", defaults.status); set("severity", defaults.severity);
    form.elements.check.value = ""; form.elements.account.value = ""; form.elements.q.value = "";
    apply(true);
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target.closest ? ev.target.closest("[data-filter]") : null;
    if (t) {
      var what = t.dataset.filter, v = t.dataset.value;
      if (what === "status") { set("status", [v]); set("severity", defaults.severity); }
      if (what === "severity") { set("severity", [v]); }
      if (what === "check") { choose(form.elements.check, v); }
      if (what === "account") { choose(form.elements.account, v); }
      apply(true); focusFindings();
      return;
    }
    var node = ev.target.closest ? ev.target.closest(".graph .node") : null;
    if (node) {
      set("status", ["fail", "error", "muted", "pass", "skip"]);
      form.elements.check.value = ""; form.elements.account.value = "";
      form.elements.q.value = (node.dataset.q || "").toLowerCase();
      apply(true); focusFindings();
    }
  });
  var quiet = document.getElementById("show-quiet");
  if (quiet) {
    quiet.addEventListener("change", function () {
      document.getElementById("by-check").classList.toggle("hide-quiet", !quiet.checked);
    });
  }
  var graph = document.getElementById("access-graph");
  if (graph) {
    var edges = Array.prototype.slice.call(graph.querySelectorAll(".edge"));
    var nodes = Array.prototype.slice.call(graph.querySelectorAll(".node"));
    var byId = {};
    nodes.forEach(function (n) { byId[n.dataset.id] = n; });
    function light(node) {
      var id = " " + node.dataset.id + " ";
      graph.classList.add("dim");
      edges.forEach(function (e) {
        if (e.dataset.n.indexOf(id) >= 0) {
          e.classList.add("hl");
          e.dataset.n.trim().split(" ").forEach(function (k) { if (byId[k]) { byId[k].classList.add("hl"); } });
        }
      });
      node.classList.add("hl");
    }
    function clear() {
      graph.classList.remove("dim");
      edges.concat(nodes).forEach(function (e) { e.classList.remove("hl"); });
    }
    nodes.forEach(function (n) {
      n.addEventListener("mouseenter", function () { light(n); });
      n.addEventListener("focus", function () { light(n); });
      n.addEventListener("mouseleave", clear);
      n.addEventListener("blur", clear);
    });
  }
  var linked = load();
  apply(false);
  if (linked) { focusFindings(true); }
  document.documentElement.setAttribute("data-ready", "1");
})();
"""
