// memprobe-daemon plot: draws the run embedded in this page (#memprobe-data) as SVG, with the
// legend's check boxes toggling series, hover showing the values under the pointer, and a drag
// across the plot zooming on that time range (double-click or "reset zoom" to undo).
// The page's address may preset the view: #zoom=X0,X1 (axis units) and #hide=key,key.
// Self-contained on purpose: no fetch, no external script, no font download.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("memprobe-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var W = 1100, H = 560, M = { left: 90, right: 20, top: 16, bottom: 50 };
  var PW = W - M.left - M.right, PH = H - M.top - M.bottom;
  var hidden = {};
  var view = { x0: data.x_range[0], x1: data.x_range[1] };

  var BIN = ["B", "KiB", "MiB", "GiB", "TiB"];
  function byteUnit(max) {
    var i = 0;
    while (i + 1 < BIN.length && Math.abs(max) >= Math.pow(1024, i + 1)) i++;
    return { label: BIN[i], scale: Math.pow(1024, i) };
  }
  function xUnit(span) {
    if (data.axis === "iterations") return { label: "it", scale: 1 };
    if (span <= 300) return { label: "s", scale: 1 };
    if (span <= 5 * 3600) return { label: "min", scale: 60 };
    return { label: "h", scale: 3600 };
  }
  // Round ticks (1, 2 or 5 x 10^k), as the SVG's (src/plot/units.rs).
  function ticks(lo, hi, target) {
    if (!(isFinite(lo) && isFinite(hi)) || hi <= lo) return [];
    var raw = (hi - lo) / target, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; })
      .find(function (s) { return s >= raw; });
    var out = [];
    for (var k = Math.ceil(lo / step); k <= Math.floor(hi / step); k++) out.push(k * step);
    out.step = step;
    return out;
  }
  function fmt(v, step, unit) {
    var d = step >= 1 ? 0 : Math.min(6, -Math.floor(Math.log10(step)));
    return v.toFixed(d) + " " + unit;
  }
  function bytes(v) {
    var u = byteUnit(v);
    return (u.scale === 1 ? v.toFixed(0) : (v / u.scale).toFixed(2)) + " " + u.label;
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  function text(parent, x, y, s, attrs) {
    var t = el("text", Object.assign({ x: x, y: y }, attrs || {}), parent);
    t.textContent = s;
    return t;
  }
  // The index of the last x <= v (binary search; xs ascending).
  function below(xs, v) {
    var lo = 0, hi = xs.length - 1;
    if (hi < 0 || v < xs[0]) return -1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (xs[mid] <= v) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
  function visible(s) { return !hidden[s.key]; }

  function yRange() {
    var lo = Infinity, hi = -Infinity;
    data.series.filter(visible).forEach(function (s) {
      var a = Math.max(0, below(s.x, view.x0)), b = below(s.x, view.x1);
      for (var i = a; i <= Math.min(b + 1, s.x.length - 1); i++) {
        lo = Math.min(lo, s.lo[i]); hi = Math.max(hi, s.hi[i]);
      }
    });
    if (!(hi > lo)) { lo = data.y_range[0]; hi = data.y_range[1]; }
    if (lo <= 4 * (hi - lo)) return [0, hi * 1.05];
    var pad = (hi - lo) * 0.1;
    return [lo - pad, hi + pad];
  }

  var svg = el("svg", { id: "plot", viewBox: "0 0 " + W + " " + H, width: W, height: H,
    role: "img", "aria-label": data.title });
  document.getElementById("chart").appendChild(svg);
  var tip = document.getElementById("tip");

  function render() {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var yr = yRange();
    var xu = xUnit(view.x1 - view.x0), yu = byteUnit(Math.max(Math.abs(yr[0]), Math.abs(yr[1])));
    var X = function (x) { return M.left + (x - view.x0) / (view.x1 - view.x0) * PW; };
    var Y = function (y) { return M.top + PH - (y - yr[0]) / (yr[1] - yr[0]) * PH; };
    svg.setAttribute("data-x0", view.x0);
    svg.setAttribute("data-x1", view.x1);
    var defs = el("defs", {}, svg);
    var clip = el("clipPath", { id: "area" }, defs);
    el("rect", { x: M.left, y: M.top, width: PW, height: PH }, clip);
    var back = el("g", { "clip-path": "url(#area)" }, svg);
    data.phases.forEach(function (p, i) {
      el("rect", { class: "phase", "data-phase": p.label, x: X(p.x0), y: M.top,
        width: Math.max(0, X(p.x1) - X(p.x0)), height: PH,
        fill: i % 2 ? "#faf3e6" : "#eef3fa" }, back);
    });
    if (data.warmup) {
      var w = data.warmup;
      el("rect", { id: "warmup", x: X(w.x0), y: M.top, width: Math.max(0, X(w.x1) - X(w.x0)),
        height: PH, fill: "#dddddd" }, back);
      text(back, X(w.x0) + 4, M.top + 32, w.label, { class: "label", fill: "#444" });
    }
    data.phases.forEach(function (p) {
      text(back, X(Math.max(p.x0, view.x0)) + 4, M.top + 14, "phase " + p.label,
        { class: "label phase-label", fill: "#334466" });
    });
    // Grid and axes.
    var axes = el("g", { class: "axes" }, svg);
    var xt = ticks(view.x0 / xu.scale, view.x1 / xu.scale, 10);
    xt.forEach(function (v) {
      var x = X(v * xu.scale);
      el("line", { x1: x, x2: x, y1: M.top, y2: M.top + PH, stroke: "#0000001f" }, axes);
      text(axes, x, M.top + PH + 18, fmt(v, xt.step, xu.label), { class: "tick x", "text-anchor": "middle" });
    });
    var yt = ticks(yr[0] / yu.scale, yr[1] / yu.scale, 8);
    yt.forEach(function (v) {
      var y = Y(v * yu.scale);
      el("line", { x1: M.left, x2: M.left + PW, y1: y, y2: y, stroke: "#0000001f" }, axes);
      text(axes, M.left - 8, y + 4, fmt(v, yt.step, yu.label), { class: "tick y", "text-anchor": "end" });
    });
    el("rect", { x: M.left, y: M.top, width: PW, height: PH, fill: "none", stroke: "#000" }, axes);
    text(axes, M.left + PW / 2, H - 8, data.axis === "iterations" ? "iterations" : "time (" + xu.label + ")",
      { "text-anchor": "middle", class: "desc" });
    text(axes, 16, M.top + PH / 2, "memory (" + yu.label + ")",
      { "text-anchor": "middle", class: "desc", transform: "rotate(-90 16 " + (M.top + PH / 2) + ")" });

    var front = el("g", { "clip-path": "url(#area)" }, svg);
    function drawSeries(s) {
      var env = "", line = "";
      for (var i = 0; i < s.x.length; i++) {
        line += (i ? "L" : "M") + X(s.x[i]).toFixed(1) + "," + Y(s.y[i]).toFixed(1);
        env += (i ? "L" : "M") + X(s.x[i]).toFixed(1) + "," + Y(s.hi[i]).toFixed(1);
      }
      for (var j = s.x.length - 1; j >= 0; j--) env += "L" + X(s.x[j]).toFixed(1) + "," + Y(s.lo[j]).toFixed(1);
      el("path", { class: "envelope", d: env + "Z", fill: s.color, "fill-opacity": 0.15, stroke: "none" }, front);
      el("path", { class: "series" + (s.judged ? " judged" : ""), "data-series": s.key, d: line,
        fill: "none", stroke: s.color, "stroke-width": s.judged ? 3 : 1.2 }, front);
    }
    data.series.filter(function (s) { return visible(s) && !s.judged; }).forEach(drawSeries);
    if (data.fit && !hidden.fit) {
      var f = data.fit, at = function (sl, x) { return Y(f.pivot_y + sl * (x - f.pivot_x)); };
      var px = X(f.pivot_x);
      el("path", { id: "fit-band", fill: "#222", "fill-opacity": 0.18, d:
        "M" + X(f.x0) + "," + at(f.slope.low, f.x0) + "L" + px + "," + at(0, f.pivot_x) +
        "L" + X(f.x1) + "," + at(f.slope.high, f.x1) + "L" + X(f.x1) + "," + at(f.slope.low, f.x1) +
        "L" + px + "," + at(0, f.pivot_x) + "L" + X(f.x0) + "," + at(f.slope.high, f.x0) + "Z" }, front);
      el("line", { id: "fit", x1: X(f.x0), y1: at(f.slope.value, f.x0), x2: X(f.x1),
        y2: at(f.slope.value, f.x1), stroke: "#222", "stroke-width": 2, "stroke-dasharray": "10 5" }, front);
    }
    // The judged series over the fit: the data show where the two coincide.
    data.series.filter(function (s) { return visible(s) && s.judged; }).forEach(drawSeries);
    data.steps.forEach(function (s, i) {
      if (s.x0 < view.x0 || s.x0 > view.x1) return;
      el("line", { class: "step", x1: X(s.x0), x2: X(s.x0), y1: M.top, y2: M.top + PH,
        stroke: "#c00030", "stroke-width": 2, "stroke-dasharray": "6 4" }, front);
      var right = X(s.x0) > M.left + PW * 0.67;
      text(front, X(s.x0) + (right ? -4 : 4), M.top + PH * (0.88 - 0.06 * (i % 3)), "step " + s.label,
        { class: "label", fill: "#c00030", "text-anchor": right ? "end" : "start" });
    });
    if (data.period) {
      var p = data.period, py = M.top + PH * 0.9;
      el("path", { id: "period", stroke: "#552288", "stroke-width": 2, fill: "none", d:
        "M" + X(p.x0) + "," + (py - 6) + "V" + (py + 6) + "M" + X(p.x0) + "," + py + "H" + X(p.x1) +
        "M" + X(p.x1) + "," + (py - 6) + "V" + (py + 6) }, front);
      text(front, Math.max(X(p.x0), M.left + 4), py - 10, p.label, { class: "label", fill: "#552288" });
    }
    if (data.plateau) {
      var q = data.plateau;
      el("line", { id: "plateau", x1: X(q.x0), x2: X(q.x1), y1: Y(q.y), y2: Y(q.y), stroke: "#555",
        "stroke-dasharray": "4 4" }, front);
      text(front, Math.max(X(q.x0), M.left + 4), Y(q.y) - 6, q.label, { class: "label", fill: "#333" });
    }

    // Hover and zoom.
    var cross = el("line", { y1: M.top, y2: M.top + PH, stroke: "#000", "stroke-opacity": 0, id: "cross" }, svg);
    var sel = el("rect", { y: M.top, height: PH, width: 0, fill: "#0072b2", "fill-opacity": 0.15, id: "selection" }, svg);
    var overlay = el("rect", { x: M.left, y: M.top, width: PW, height: PH, fill: "transparent", id: "overlay" }, svg);
    var toX = function (evt) {
      var r = svg.getBoundingClientRect();
      var px = (evt.clientX - r.left) * W / r.width;
      return { px: px, x: view.x0 + (px - M.left) / PW * (view.x1 - view.x0) };
    };
    var dragFrom = null;
    overlay.addEventListener("mousemove", function (evt) {
      var p = toX(evt);
      cross.setAttribute("x1", p.px); cross.setAttribute("x2", p.px);
      cross.setAttribute("stroke-opacity", 0.4);
      if (dragFrom !== null) {
        sel.setAttribute("x", Math.min(dragFrom.px, p.px));
        sel.setAttribute("width", Math.abs(p.px - dragFrom.px));
      }
      showTip(p.x, evt);
    });
    overlay.addEventListener("mouseleave", function () {
      cross.setAttribute("stroke-opacity", 0); tip.hidden = true;
    });
    overlay.addEventListener("mousedown", function (evt) { dragFrom = toX(evt); evt.preventDefault(); });
    overlay.addEventListener("mouseup", function (evt) {
      var to = toX(evt);
      if (dragFrom !== null && Math.abs(to.px - dragFrom.px) > 4) {
        zoom(Math.min(dragFrom.x, to.x), Math.max(dragFrom.x, to.x));
      }
      dragFrom = null;
      sel.setAttribute("width", 0);
    });
    overlay.addEventListener("dblclick", function () { zoom(data.x_range[0], data.x_range[1]); });
    document.body.setAttribute("data-rendered", String(Number(document.body.getAttribute("data-rendered") || 0) + 1));
  }

  function showTip(x, evt) {
    var rows = [(data.axis === "iterations" ? "iteration " + x.toFixed(0) : x.toFixed(2) + " s")];
    data.series.filter(visible).forEach(function (s) {
      var i = below(s.x, x);
      if (i < 0) return;
      if (i + 1 < s.x.length && Math.abs(s.x[i + 1] - x) < Math.abs(s.x[i] - x)) i++;
      rows.push(s.name + ": " + bytes(s.y[i]) +
        (s.hi[i] > s.lo[i] ? " (" + bytes(s.lo[i]) + " to " + bytes(s.hi[i]) + ")" : ""));
    });
    tip.textContent = rows.join("\n");
    tip.hidden = false;
    tip.style.left = (evt.pageX + 14) + "px";
    tip.style.top = (evt.pageY + 14) + "px";
  }

  function zoom(x0, x1) {
    if (!(x1 > x0)) return;
    view.x0 = x0; view.x1 = x1;
    document.getElementById("reset").disabled =
      x0 === data.x_range[0] && x1 === data.x_range[1];
    render();
  }

  // Legend: one check box per series, and the fit.
  var legend = document.getElementById("legend");
  function toggle(key, name, color, judged) {
    var label = document.createElement("label");
    label.className = "toggle" + (judged ? " judged" : "");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.setAttribute("data-series", key);
    box.checked = !hidden[key];
    if (box.checked) box.setAttribute("checked", "");
    box.addEventListener("change", function () { hidden[key] = !box.checked; render(); });
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color;
    label.appendChild(box);
    label.appendChild(swatch);
    label.appendChild(document.createTextNode(name + (judged ? " (judged)" : "")));
    legend.appendChild(label);
  }

  var hash = new URLSearchParams(location.hash.slice(1));
  (hash.get("hide") || "").split(",").filter(Boolean).forEach(function (k) { hidden[k] = true; });
  data.series.slice().reverse().forEach(function (s) { toggle(s.key, s.name, s.color, s.judged); });
  if (data.fit) toggle("fit", data.fit_label, "#222", false);
  document.getElementById("reset").addEventListener("click", function () {
    zoom(data.x_range[0], data.x_range[1]);
  });
  var z = (hash.get("zoom") || "").split(",").map(Number);
  if (z.length === 2 && z[1] > z[0]) zoom(z[0], z[1]); else render();
  // #hover=X shows what hovering at X shows (for a link to a moment, and for the tests).
  var h = Number(hash.get("hover"));
  if (hash.has("hover") && isFinite(h)) showTip(h, { pageX: 0, pageY: 0 });
})();
