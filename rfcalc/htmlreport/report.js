// rfcalc report: draw the exact field of the chosen unit. Every number comes from #rfdata
// (the analysis); this script only looks them up and draws. No framework, no build step.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("rfdata").textContent);
  // 1-D inputs are drawn as a strip (one row), 3-D ones as the H x W slices of the chosen depth.
  var T = D.T, R = D.input.length - 1, H = R === 1 ? 1 : D.input[R - 2], W = D.input[R - 1];
  var layers = D.layers, byName = {};
  layers.forEach(function (l, i) { l.index = i; byName[l.name] = l; });
  var spatial = layers.filter(function (l) { return l.spatial; });
  var img = document.getElementById("input-image");
  var erfs = D.erf;  // the ERF of the centre unit of some layers; images #erf-image-0, -1, ...
  var inC = document.getElementById("input-canvas"), outC = document.getElementById("output-canvas");
  var fieldEl = document.getElementById("field");
  var rowsEl = document.querySelectorAll("#layers tbody tr");
  var state = { layer: null, unit: [0, 0], hover: null, zoom: 1 };
  if (R === 1) { inC.height = 60; outC.height = 60; }  // a signal strip

  // Unit i of an axis reads lo[i % P] + (i // P) * step .. hi[i % P] + (i // P) * step (tables from the core).
  function axisField(ax, i) {
    var p = i % ax.P, k = (i - p) / ax.P;
    return [ax.lo[p] + k * ax.step, ax.hi[p] + k * ax.step];
  }
  function fieldAll(l, u) { return l.axes.map(function (ax, a) { return axisField(ax, u[a]); }); }
  // The drawn plane: rows and columns (the last two axes; a 1-D unit's row is 0 of 1).
  function plane(v) { return R === 1 ? [0, v[0]] : [v[R - 2], v[R - 1]]; }
  function setPlane(u, rc) { var v = u.slice(); if (R === 1) v[0] = rc[1]; else { v[R - 2] = rc[0]; v[R - 1] = rc[1]; } return v; }
  function outSize(l) { return R === 1 ? [1, l.out[0]] : [l.out[R - 2], l.out[R - 1]]; }
  function fieldOf(l, u) { var f = fieldAll(l, u); return R === 1 ? [[0, 0], f[0]] : [f[R - 2], f[R - 1]]; }
  // Per axis, the runs of field offsets unit u does not read: the table of its phase.
  function gapsOf(l, u) {
    if (!l.gaps) return null;
    var g = l.gaps.map(function (phases, a) { return phases[u[a] % l.axes[a].P]; });
    return R === 1 ? [[], g[0]] : [g[R - 2], g[R - 1]];
  }
  function centre(l, u) { var f = fieldOf(l, u); return [(f[0][0] + f[0][1]) / 2, (f[1][0] + f[1][1]) / 2]; }
  function erfOf(l, u) {
    for (var i = 0; i < erfs.length; i++) if (erfs[i].layer === l.name && erfs[i].unit.join() === u.join()) return i;
    return -1;
  }
  function inside(f, n) { var a = Math.max(f[0], 0), b = Math.min(f[1], n - 1); return a > b ? null : [a, b]; }

  function drawInput(l, u) {
    var g = inC.getContext("2d"), f = fieldOf(l, u);
    var r0 = Math.min(0, f[0][0]) - 0.5, r1 = Math.max(H - 1, f[0][1]) + 0.5;
    var c0 = Math.min(0, f[1][0]) - 0.5, c1 = Math.max(W - 1, f[1][1]) + 0.5;
    // zoomed in, the view is centred on the field's centre (issue 18.17: small units can be seen)
    var s = Math.min(inC.width / (c1 - c0), inC.height / (r1 - r0)) * state.zoom, ox = 0, oy = 0;
    if (state.zoom > 1) {
      var m = centre(l, u);
      ox = inC.width / 2 - (m[1] - c0) * s; oy = R === 1 ? 0 : inC.height / 2 - (m[0] - r0) * s;
    }
    function X(c) { return (c - c0) * s + ox; }
    function Y(r) { return (r - r0) * s + oy; }
    inC.dataset.scale = s;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, inC.width, inC.height);
    g.fillStyle = "#c8c8c8";  // outside the image: the zero padding
    g.fillRect(X(c0), Y(r0), X(c1) - X(c0), Y(r1) - Y(r0));
    g.imageSmoothingEnabled = false;
    if (img) {
      g.drawImage(img, X(-0.5), Y(-0.5), W * s, H * s);
    } else {
      g.fillStyle = "#ffffff";
      g.fillRect(X(-0.5), Y(-0.5), W * s, H * s);
      if (s >= 4) {
        g.strokeStyle = "#e2e2e2"; g.lineWidth = 1; g.beginPath();
        for (var r = 0; r <= H; r++) { g.moveTo(X(-0.5), Y(r - 0.5)); g.lineTo(X(W - 0.5), Y(r - 0.5)); }
        for (var c = 0; c <= W; c++) { g.moveTo(X(c - 0.5), Y(-0.5)); g.lineTo(X(c - 0.5), Y(H - 0.5)); }
        g.stroke();
      }
    }
    var e = erfOf(l, u), key = document.getElementById("erf-legend");
    if (key) key.hidden = e < 0;
    if (e >= 0) {
      g.globalAlpha = 0.75; g.drawImage(document.getElementById("erf-image-" + e), X(-0.5), Y(-0.5), W * s, H * s); g.globalAlpha = 1;
    }
    var fx = X(f[1][0] - 0.5), fy = Y(f[0][0] - 0.5), fw = (f[1][1] - f[1][0] + 1) * s, fh = (f[0][1] - f[0][0] + 1) * s;
    if (fw > 0 && fh > 0) drawField(g, s, X, Y, f, fx, fy, fw, fh, gapsOf(l, u));
    drawCentres(g, l, u, X, Y);
  }

  function drawField(g, s, X, Y, f, fx, fy, fw, fh, gaps) {
    g.fillStyle = "rgba(255, 59, 48, 0.18)"; g.fillRect(fx, fy, fw, fh);
    // the field's padding part, darker
    g.fillStyle = "rgba(60, 60, 60, 0.35)";
    g.save(); g.beginPath(); g.rect(fx, fy, fw, fh); g.clip();
    g.beginPath(); g.rect(0, 0, inC.width, inC.height); g.rect(X(-0.5), Y(-0.5), W * s, H * s);
    g.fill("evenodd"); g.restore();
    if (gaps) {  // unread rows and columns inside the field (holes)
      g.fillStyle = "rgba(255, 255, 255, 0.55)";
      gaps[0].forEach(function (run) { g.fillRect(fx, Y(f[0][0] + run[0] - 0.5), fw, (run[1] - run[0] + 1) * s); });
      gaps[1].forEach(function (run) { g.fillRect(X(f[1][0] + run[0] - 0.5), fy, (run[1] - run[0] + 1) * s, fh); });
    }
    g.strokeStyle = "#ff3b30"; g.lineWidth = 2; g.strokeRect(fx, fy, fw, fh);
  }

  function drawCentres(g, l, u, X, Y) {
    g.fillStyle = "#ffcc00";  // neighbours' centres, a jump apart
    var p = plane(u), size = outSize(l);
    for (var di = -2; di <= 2; di++) {
      for (var dj = -2; dj <= 2; dj++) {
        var q = [p[0] + di, p[1] + dj];
        if (q[0] < 0 || q[1] < 0 || q[0] >= size[0] || q[1] >= size[1]) continue;
        var m = centre(l, setPlane(u, q));
        g.beginPath(); g.arc(X(m[1]), Y(m[0]), (di || dj) ? 2.5 : 4, 0, 7); g.fill();
      }
    }
    var m0 = centre(l, u);
    g.fillStyle = "#ff3b30"; g.beginPath(); g.arc(X(m0[1]), Y(m0[0]), 4, 0, 7); g.fill();
    if (p[1] + 1 < size[1]) {  // the jump: from this centre to the next unit's along the row
      var m1 = centre(l, setPlane(u, [p[0], p[1] + 1]));
      g.strokeStyle = "#0a58ca"; g.lineWidth = 2; g.beginPath();
      g.moveTo(X(m0[1]), Y(m0[0])); g.lineTo(X(m1[1]), Y(m1[0])); g.stroke();
    }
  }

  function drawOutput(l, u) {
    var g = outC.getContext("2d"), size = outSize(l), oh = size[0], ow = size[1], p = plane(u), sel = plane(state.unit);
    var s = Math.min(outC.width / ow, outC.height / oh);
    g.clearRect(0, 0, outC.width, outC.height);
    g.fillStyle = "#f4f6fa"; g.fillRect(0, 0, ow * s, oh * s);
    if (s >= 4) {
      g.strokeStyle = "#d0d6e0"; g.lineWidth = 1; g.beginPath();
      for (var r = 0; r <= oh; r++) { g.moveTo(0, r * s); g.lineTo(ow * s, r * s); }
      for (var c = 0; c <= ow; c++) { g.moveTo(c * s, 0); g.lineTo(c * s, oh * s); }
      g.stroke();
    }
    g.fillStyle = "#ff3b30"; g.fillRect(p[1] * s, p[0] * s, Math.max(s, 2), Math.max(s, 2));
    if (state.hover === null || state.hover.join() !== state.unit.join()) {
      g.strokeStyle = "#0a58ca"; g.lineWidth = 2;
      g.strokeRect(sel[1] * s, sel[0] * s, Math.max(s, 2), Math.max(s, 2));
    }
    outC.dataset.scale = s;
  }

  function span(lo, hi) { return lo + ".." + hi; }
  function esc(t) { return String(t).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]; }); }
  function describe(l, u, f) {
    var parts = [], names = [[T.samples], [T.rows, T.cols], [T.slices, T.rows, T.cols]][R - 1], sizes = D.input.slice(0, R);
    parts.push("<b>" + esc(l.name) + "</b> (" + esc(l.kind) + ") " + T.unit + " (" + u.join(", ") + ")");
    for (var a = 0; a < R; a++) {
      var inn = inside(f[a], sizes[a]), pad = [];
      if (f[a][0] < 0) pad.push(span(f[a][0], Math.min(f[a][1], -1)));
      if (f[a][1] > sizes[a] - 1) pad.push(span(Math.max(f[a][0], sizes[a]), f[a][1]));
      parts.push(names[a] + " " + span(f[a][0], f[a][1]) + " (" + (inn ? T.inside + " " + span(inn[0], inn[1]) : T.none_inside) +
                 (pad.length ? "; " + T.padding + " " + pad.join(", ") : "") + ")");
    }
    // on the unit's own line: the field's box keeps its height from unit to unit (issue 18.17)
    if (f.some(function (x) { return x[0] > x[1]; })) parts[0] += " &middot; " + T.empty;
    parts.push(T.rf + " " + l.rf.join("x") + ", " + T.jump + " " + l.jump.join("x") + ", " + T.start + " " + l.start.join(", "));
    if (l.rf_min[0] !== l.rf[0] || l.rf_min[1] !== l.rf[1]) parts.push(T.rf_min + " " + l.rf_min.join("x"));
    if (l.flags.indexOf("misaligned") >= 0) parts.push('<span class="warn">' + T.misaligned + "</span>");
    if (l.gaps) parts.push(T.holes + ": " + l.gaps.map(function (phases, a) { return names[a] + " +" + JSON.stringify(phases[u[a] % l.axes[a].P]); }).join(", "));
    return parts.join("<br>");
  }

  function render() {
    var t0 = performance.now(), l = state.layer, u = state.hover || state.unit;
    if (!l) return;
    var f = fieldAll(l, u), pf = fieldOf(l, u), ri = inside(pf[0], H), ci = inside(pf[1], W);
    drawInput(l, u);
    drawOutput(l, u);
    fieldEl.dataset.layer = l.name;
    fieldEl.dataset.unit = u.join(",");
    fieldEl.dataset.field = f.map(function (x) { return x.join(","); }).join(";");  // every axis
    fieldEl.dataset.rows = pf[0].join(",");  // the drawn plane
    fieldEl.dataset.cols = pf[1].join(",");
    fieldEl.dataset.rowsInside = ri ? ri.join(",") : "";
    fieldEl.dataset.colsInside = ci ? ci.join(",") : "";
    if (R === 3) document.getElementById("out-caption").textContent = T.output + " " + l.name + " (" + l.out.join("x") + "), " + T.slices + " " + u[0];
    fieldEl.innerHTML = describe(l, u, f);
    fieldEl.dataset.ms = (performance.now() - t0).toFixed(2);
  }

  function choose(name, unit) {
    var l = byName[name];
    if (!l) return;
    rowsEl.forEach(function (tr) { tr.classList.toggle("sel", tr.dataset.layer === name); });
    if (!l.spatial) { fieldEl.dataset.layer = name; fieldEl.textContent = name + ": " + T.no_spatial; return; }
    state.layer = l; state.hover = null;
    state.unit = unit || l.out.map(function (n) { return Math.floor((n - 1) / 2); });
    document.getElementById("out-caption").textContent = T.output + " " + l.name + " (" + l.out.join("x") + ")";
    var dot = document.querySelector('#growth circle[data-layer="' + CSS.escape(name) + '"]'), cur = document.getElementById("growth-cursor");
    if (dot && cur) { cur.setAttribute("x1", dot.dataset.x); cur.setAttribute("x2", dot.dataset.x); }
    render();
  }

  function unitAt(ev) {
    var rect = outC.getBoundingClientRect(), s = Number(outC.dataset.scale) * outC.clientWidth / outC.width;
    var x = ev.clientX - rect.left - outC.clientLeft, y = ev.clientY - rect.top - outC.clientTop;  // inside the border
    var q = [Math.floor(y / s), Math.floor(x / s)], l = state.layer, size = l && outSize(l);
    return l && q[0] >= 0 && q[1] >= 0 && q[0] < size[0] && q[1] < size[1] ? setPlane(state.unit, q) : null;
  }

  outC.addEventListener("mousemove", function (ev) { var u = unitAt(ev); if (u) { state.hover = u; render(); } });
  outC.addEventListener("mouseleave", function () { state.hover = null; render(); });
  outC.addEventListener("click", function (ev) { var u = unitAt(ev); if (u) { state.unit = u; state.hover = null; render(); outC.focus(); } });
  outC.addEventListener("keydown", function (ev) {
    // arrows move in the drawn plane; PageUp/PageDown change the slice of a 3-D input
    var d = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[ev.key], l = state.layer;
    var depth = { PageUp: -1, PageDown: 1 }[ev.key];
    if ((!d && !(depth && R === 3)) || !l) return;
    ev.preventDefault();
    state.hover = null;
    var v = state.unit.slice(), axes = R === 1 ? [null, 0] : [R - 2, R - 1];
    if (d) axes.forEach(function (a, k) { if (a !== null) v[a] = Math.min(Math.max(v[a] + d[k], 0), l.out[a] - 1); });
    else v[0] = Math.min(Math.max(v[0] + depth, 0), l.out[0] - 1);
    state.unit = v;
    render();
  });
  document.getElementById("layers").addEventListener("click", function (ev) {
    var tr = ev.target.closest("tr[data-layer]");
    if (tr) choose(tr.dataset.layer);
  });
  document.getElementById("layers").addEventListener("keydown", function (ev) {
    var step = { ArrowUp: -1, ArrowDown: 1 }[ev.key];
    if (!step || !spatial.length) return;
    ev.preventDefault();
    var i = state.layer ? spatial.indexOf(state.layer) + step : 0;
    choose(spatial[Math.min(Math.max(i, 0), spatial.length - 1)].name);
  });
  var growth = document.getElementById("growth");
  if (growth) growth.addEventListener("click", function (ev) { if (ev.target.dataset.layer) choose(ev.target.dataset.layer); });
  function zoom(k) {
    state.zoom = Math.min(Math.max(state.zoom * k, 1), 64);
    document.getElementById("zoom-level").textContent = state.zoom + "\u00d7";
    render();
  }
  document.getElementById("zoom-in").addEventListener("click", function () { zoom(2); });
  document.getElementById("zoom-out").addEventListener("click", function () { zoom(0.5); });
  inC.addEventListener("wheel", function (ev) { ev.preventDefault(); zoom(ev.deltaY < 0 ? 2 : 0.5); }, { passive: false });
  var erfButton = document.getElementById("erf-show");
  if (erfButton) erfButton.addEventListener("click", function () {  // the chosen layer's ERF unit, else the last one
    var e = erfs.filter(function (x) { return state.layer && x.layer === state.layer.name; })[0] || erfs[erfs.length - 1];
    choose(e.layer, e.unit.slice());
  });

  window.rfReport = { choose: choose, state: state };  // for tests and the console
  function start() {
    if (spatial.length) choose(spatial[spatial.length - 1].name);
    document.body.dataset.readyMs = performance.now().toFixed(1);  // since navigation start: the bench reads it
    document.body.dataset.ready = "1";
  }
  if (img && !img.complete) img.addEventListener("load", start); else start();
})();
