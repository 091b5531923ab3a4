/* Report charts drawn as SVG on the page (no chart library, no inline style:
 * colours are SVG presentation attributes). */
(function () {
  "use strict";
  var holder = document.getElementById("report-data");
  if (!holder) { return; }
  var data = JSON.parse(holder.textContent || "{}");
  var NS = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, text) {
    var node = document.createElementNS(NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function colour(value, max) {
    if (!value) { return "#eef2f6"; }
    var t = Math.min(1, value / (max || 1));
    /* light blue to dark blue: readable numbers stay dark on light, light on dark */
    var r = Math.round(222 - t * 211), g = Math.round(235 - t * 143), b = Math.round(247 - t * 74);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  function heatmap(el) {
    var rows = data.calls || [];
    var max = 0;
    rows.forEach(function (row) { row.forEach(function (v) { max = Math.max(max, v); }); });
    var cell = 30, left = 90, top = 20;
    var root = svg("svg", { viewBox: "0 0 " + (left + 24 * cell + 4) + " " + (top + 7 * cell + 4), "data-max": max });
    for (var h = 0; h < 24; h++) {
      root.appendChild(svg("text", { x: left + h * cell + cell / 2, y: 14, "text-anchor": "middle" }, String(h)));
    }
    rows.forEach(function (row, d) {
      root.appendChild(svg("text", { x: left - 6, y: top + d * cell + cell / 2 + 4, "text-anchor": "end" }, (data.weekdays || [])[d] || ""));
      row.forEach(function (v, h) {
        var rect = svg("rect", { x: left + h * cell, y: top + d * cell, width: cell - 2, height: cell - 2, rx: 3, fill: colour(v, max), "data-value": v });
        rect.appendChild(svg("title", {}, ((data.weekdays || [])[d] || "") + " " + h + ":00 — " + v));
        root.appendChild(rect);
        if (v >= 1) {
          root.appendChild(svg("text", { x: left + h * cell + cell / 2 - 1, y: top + d * cell + cell / 2 + 3, "text-anchor": "middle",
                                         fill: v / (max || 1) > 0.55 ? "#ffffff" : "#1a1f24" }, String(Math.round(v))));
        }
      });
    });
    el.appendChild(root);
  }

  function hourly(el) {
    var totals = [];
    for (var h = 0; h < 24; h++) {
      totals.push((data.calls || []).reduce(function (sum, row) { return sum + (row[h] || 0); }, 0));
    }
    var max = Math.max.apply(null, totals.concat([1]));
    var width = 24 * 34 + 50, height = 170, base = 140, left = 40;
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height });
    root.appendChild(svg("line", { x1: left, y1: base, x2: width - 4, y2: base, "class": "axis" }));
    root.appendChild(svg("text", { x: 4, y: 14 }, window.cbx ? window.cbx.t("calls_per_hour") : ""));
    totals.forEach(function (v, h) {
      var barHeight = Math.round((v / max) * 110);
      var bar = svg("rect", { x: left + h * 34 + 4, y: base - barHeight, width: 26, height: barHeight, "class": "bar", "data-value": v });
      bar.appendChild(svg("title", {}, h + ":00 — " + v.toFixed(1)));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: left + h * 34 + 17, y: base + 16, "text-anchor": "middle" }, String(h)));
    });
    el.appendChild(root);
  }

  heatmap(document.getElementById("heatmap"));
  hourly(document.getElementById("hourly"));
})();
