/* Dashboard and wallboard: render the core's snapshot as it arrives.
 * Wait times tick locally between snapshots (wait_s + time since the snapshot).
 */
(function () {
  "use strict";
  var cbx = window.cbx;
  var root = document.getElementById("live-root");
  if (!root) { return; }
  var view = root.getAttribute("data-view");
  var el = cbx.el;
  var snapshotAt = 0;
  var lastSnapshot = null;

  function waitFor(seconds) {
    return seconds + (Date.now() - snapshotAt) / 1000;
  }

  function renderStatus(s) {
    var trunk = s.trunk || {};
    var modem = s.modem || {};
    var trunkEl = document.getElementById("trunk-state");
    trunkEl.textContent = cbx.t("trunk." + (trunk.state || "disabled"));
    trunkEl.className = "value state-" + (trunk.state || "disabled");
    trunkEl.title = trunk.detail || "";
    var trunkDetail = document.getElementById("trunk-detail");  // why it is down (e.g. a refused certificate)
    if (trunkDetail) {
      trunkDetail.textContent = trunk.state === "down" ? (trunk.detail || "") : "";
      trunkDetail.hidden = !trunkDetail.textContent;
    }
    var modemEl = document.getElementById("modem-state");
    var modemText = cbx.t("modem." + (modem.state || "disabled"));
    if (modem.operator) { modemText += " · " + modem.operator; }
    modemEl.textContent = modemText;
    modemEl.className = "value state-" + (modem.state || "disabled");
    var bars = document.getElementById("modem-bars");
    var count = Math.max(0, Math.min(5, modem.bars || 0));
    bars.setAttribute("data-bars", String(count));
    bars.setAttribute("aria-label", cbx.t("signal") + ": " + count + "/5");
    Array.prototype.forEach.call(bars.children, function (bar, i) { bar.classList.toggle("on", i < count); });
    var route = (s.failover || {}).route || "none";
    var routeEl = document.getElementById("route");
    routeEl.textContent = cbx.t("route." + route);
    routeEl.className = "value route-" + route;
    var cap = s.capacity || {};
    document.getElementById("capacity").textContent = (cap.in_use || 0) + " / " + (cap.allowed || 0);
    var flags = [];
    var box = s.box || {};
    if (route === "gsm") { flags.push(el("span", { className: "flag warn", text: cbx.t("failover_active") })); }
    if (box.night_mode) { flags.push(el("span", { className: "flag", text: cbx.t("night_mode") })); }
    if (box.reminders_paused) { flags.push(el("span", { className: "flag", text: cbx.t("reminders_paused") })); }
    cbx.replaceChildren(document.getElementById("box-flags"), flags);
    var night = document.getElementById("night-mode");
    if (night) { night.setAttribute("aria-pressed", box.night_mode ? "true" : "false"); }
    var paused = document.getElementById("reminders-paused");
    if (paused) { paused.setAttribute("aria-pressed", box.reminders_paused ? "true" : "false"); }
  }

  function callerText(caller) { return caller ? caller : cbx.t("unknown_caller"); }

  function renderQueues(queues) {
    var container = document.getElementById("queues");
    var cards = (queues || []).map(function (q) {
      var waiting = q.waiting || [];
      var longest = waiting.reduce(function (m, w) { return Math.max(m, w.wait_s || 0); }, 0);
      var header = el("div", { className: "queue-head" }, [
        el("h3", { text: q.name || q.id }),
        el("span", { className: "count", "data-testid": "queue-waiting-" + q.id, text: String(waiting.length) }),
        el("span", { className: "muted", text: cbx.t("waiting") }),
        el("span", { className: "avail", text: (q.agents_available || 0) + " " + cbx.t("agents_available") })
      ]);
      var list = el("ol", { className: "callers" }, waiting.map(function (w) {
        return el("li", { "data-testid": "waiting-caller", "data-call-id": w.call_id, className: w.virtual ? "virtual" : "" }, [
          el("span", { className: "pos", text: "#" + (w.position || "") }),
          el("span", { className: "caller", text: callerText(w.caller) }),
          el("span", { className: "wait", "data-wait": String(w.wait_s || 0), text: cbx.duration(waitFor(w.wait_s || 0)) }),
          w.virtual ? el("span", { className: "tag", text: cbx.t("callback_keeps_place") }) : null,
          w.priority ? el("span", { className: "tag", text: "P" + w.priority }) : null
        ]);
      }));
      var card = el("article", { className: "queue-card" + (waiting.length ? " busy" : ""), "data-testid": "queue-" + q.id }, [header]);
      if (view === "wallboard") {
        card.appendChild(el("p", { className: "longest" }, [
          el("span", { className: "wait", "data-wait": String(longest), text: waiting.length ? cbx.duration(waitFor(longest)) : "–" })
        ]));
      }
      card.appendChild(waiting.length ? list : el("p", { className: "muted", text: cbx.t("no_callers") }));
      return card;
    });
    if (!cards.length) { cards = [el("p", { className: "muted", text: cbx.t("no_callers") })]; }
    cbx.replaceChildren(container, cards);
  }

  function sinceText(iso) {
    if (!iso) { return ""; }
    var started = Date.parse(iso);
    if (isNaN(started)) { return ""; }
    return cbx.duration((Date.now() - started) / 1000);
  }

  function renderAgents(agents) {
    var container = document.getElementById("agents");
    var rows = (agents || []).map(function (a) {
      var state = el("span", { className: "state state-" + a.state, "data-testid": "agent-state-" + a.station, text: cbx.t("agent." + a.state) });
      var extra = [];
      if (a.reason) { extra.push(el("span", { className: "muted", text: " " + a.reason })); }
      if (a.on_hold) { extra.push(el("span", { className: "tag", text: cbx.t("on_hold") })); }
      if (a.reachable === false) { extra.push(el("span", { className: "tag warn", text: cbx.t("unreachable") })); }
      var since = el("span", { className: "since", "data-since": a.since || "", text: sinceText(a.since) });
      if (view === "wallboard") {
        return el("li", { className: "agent state-" + a.state, "data-testid": "agent-" + a.station }, [
          el("strong", { text: a.name || a.station }), state, since
        ].concat(extra));
      }
      return el("tr", { "data-testid": "agent-" + a.station }, [
        el("td", { text: a.name || a.station }),
        el("td", null, [state].concat(extra)),
        el("td", null, [since]),
        el("td", { text: a.caller || "" })
      ]);
    });
    if (!rows.length) {
      rows = [view === "wallboard" ? el("li", { className: "muted", text: cbx.t("no_agents") })
                                   : el("tr", null, [el("td", { colspan: "4", className: "muted", text: cbx.t("no_agents") })])];
    }
    cbx.replaceChildren(container, rows);
  }

  function render(s) {
    lastSnapshot = s;
    snapshotAt = Date.now();
    root.setAttribute("data-updated", String(snapshotAt));
    renderStatus(s);
    renderQueues(s.queues);
    renderAgents(s.agents);
    noteSnapshot(s);
  }

  function clear() {
    ["trunk-state", "modem-state", "route", "capacity"].forEach(function (id) {
      var node = document.getElementById(id);
      if (node) { node.textContent = "–"; }
    });
    var q = document.getElementById("queues");
    cbx.replaceChildren(q, [el("p", { className: "notice error", "data-testid": "core-down", text: cbx.t("core_down_detail") })]);
    cbx.replaceChildren(document.getElementById("agents"), []);
  }

  /* Tick waits and durations every second without a new snapshot. */
  window.setInterval(function () {
    Array.prototype.forEach.call(root.querySelectorAll("[data-wait]"), function (node) {
      node.textContent = cbx.duration(waitFor(parseFloat(node.getAttribute("data-wait")) || 0));
    });
    Array.prototype.forEach.call(root.querySelectorAll("[data-since]"), function (node) {
      node.textContent = sinceText(node.getAttribute("data-since"));
    });
  }, 1000);

  /* Today's figures come from the call log, which the core writes as calls
   * start, queue, are answered and end. They are fetched again shortly after
   * anything that changes them: a snapshot whose calls, queues or agents
   * differ in a way that matters (not the ticking wait times), or an event.
   * A burst of changes costs one request: the fetch waits for a quiet
   * TODAY_QUIET_MS, never more than TODAY_MAX_MS after the first change,
   * and only one request is in flight at a time. The core's store writer
   * may commit a moment after its snapshot, so one more fetch follows
   * TODAY_SETTLE_MS after a burst. /dashboard/today is a passive endpoint:
   * this never keeps an idle session alive. */
  var TODAY_QUIET_MS = 250;
  var TODAY_MAX_MS = 600;
  var TODAY_SETTLE_MS = 3000;
  var todayTimer = null;
  var todayFirst = 0;
  var todaySettle = null;
  var todayBusy = false;
  var todayAgain = false;
  var lastKey = null;

  function refreshToday() {
    var url = root.getAttribute("data-today-url");
    if (!url) { return; }
    if (todayBusy) { todayAgain = true; return; }
    todayBusy = true;
    cbx.get(url).then(function (reply) {
      if (reply.html !== undefined && reply.ok) {
        var box = document.getElementById("today");
        box.innerHTML = reply.html;
        box.setAttribute("data-updated", String(Date.now()));
      }
    }).catch(function () {}).then(function () {
      todayBusy = false;
      if (todayAgain) { todayAgain = false; refreshToday(); }
    });
  }
  function refreshTodaySoon() {
    var now = Date.now();
    if (todayTimer) { window.clearTimeout(todayTimer); } else { todayFirst = now; }
    var delay = Math.max(0, Math.min(TODAY_QUIET_MS, todayFirst + TODAY_MAX_MS - now));
    todayTimer = window.setTimeout(function () {
      todayTimer = null;
      refreshToday();
      if (todaySettle) { window.clearTimeout(todaySettle); }
      todaySettle = window.setTimeout(function () { todaySettle = null; refreshToday(); }, TODAY_SETTLE_MS);
    }, delay);
  }
  /* What in a snapshot can change today's figures: which calls exist and
   * their state, who waits in which queue, open callbacks, agents' states
   * and calls. Wait times and "since" stamps tick and are left out. */
  function kpiKey(s) {
    var parts = [];
    (s.calls || []).forEach(function (c) {
      parts.push("c" + c.call_id + ":" + (c.state || "") + ":" + (c.queue || "") + ":" + (c.agent || ""));
    });
    (s.queues || []).forEach(function (q) {
      parts.push("q" + q.id + ":" + (q.callbacks || 0));
      (q.waiting || []).forEach(function (w) {
        parts.push("w" + q.id + ":" + w.call_id + ":" + (w.state || "") + (w.virtual ? ":v" : ""));
      });
    });
    (s.agents || []).forEach(function (a) {
      parts.push("a" + a.station + ":" + a.state + ":" + (a.call_id || ""));
    });
    return parts.join("|");
  }
  function noteSnapshot(s) {
    var key = kpiKey(s);
    if (lastKey !== null && key !== lastKey) { refreshTodaySoon(); }
    lastKey = key;
  }
  refreshToday();
  window.setInterval(refreshToday, 60000);

  function toggle(id, param) {
    var button = document.getElementById(id);
    if (!button) { return; }
    button.addEventListener("click", function () {
      var on = button.getAttribute("aria-pressed") !== "true";
      var params = {};
      params[param] = on ? "1" : "0";
      var message = document.getElementById("box-message");
      cbx.post(button.getAttribute("data-url"), params).then(function (reply) {
        message.textContent = reply.ok ? cbx.t("saved") : reply.message;
      }).catch(function (err) { message.textContent = String(err.message || err); });
    });
  }
  toggle("night-mode", "on");
  toggle("reminders-paused", "paused");

  cbx.live(view, {
    snapshot: render,
    core: function (state) { if (!state.up) { clear(); } },
    "agent.state": refreshTodaySoon,
    "call.ended": refreshTodaySoon,
    "callback.new": refreshTodaySoon,
    "voicemail.new": refreshTodaySoon
  });
  window.cbxLive = { last: function () { return lastSnapshot; } };
})();
