/* Agent console: follows this station in the core's snapshot, drives the call
 * controls, and loads the screen pop the moment the station rings.
 *
 * Stable hooks for end-to-end tests: #console[data-station], #agent-state
 * [data-state], #screen-pop[data-call-id] containing [data-testid=pop-card]
 * [data-patient-id] / [data-testid=pop-name], buttons [data-testid=btn-*].
 */
(function () {
  "use strict";
  var cbx = window.cbx;
  var root = document.getElementById("console");
  if (!root || !root.getAttribute("data-station")) { return; }
  var station = root.getAttribute("data-station");
  var stateEl = document.getElementById("agent-state");
  var reasonEl = document.getElementById("agent-reason");
  var sinceEl = document.getElementById("agent-since");
  var callLine = document.getElementById("call-line");
  var message = document.getElementById("console-message");
  var pop = document.getElementById("screen-pop");
  var wrapup = document.getElementById("wrapup");
  var note = document.getElementById("wrapup-note");
  var dialog = document.getElementById("transfer-dialog");
  var agent = { state: "unknown" };
  var popCallId = "";
  var noteCallId = "";

  function button(action) { return root.querySelector('[data-action="' + action + '"]'); }

  var ENABLED = {
    "logged-out": ["login"],
    "available": ["pause", "logout"],
    "paused": ["unpause", "logout"],
    "ringing": ["answer"],
    "on-call": ["hold", "unhold", "transfer", "hangup"],
    "wrap-up": ["logout"],
    "unavailable": ["logout"],
    "unknown": []
  };

  function say(text, kind) {
    message.textContent = text || "";
    message.className = "console-message " + (kind || "");
  }

  function updateButtons() {
    var allowed = ENABLED[agent.state] || [];
    ["answer", "hold", "unhold", "transfer", "hangup", "login", "pause", "unpause", "logout"].forEach(function (action) {
      var b = button(action);
      if (b) { b.disabled = allowed.indexOf(action) < 0; }
    });
    button("hold").hidden = !!agent.on_hold;
    button("unhold").hidden = !agent.on_hold;
    button("pause").hidden = agent.state === "paused";
    button("unpause").hidden = agent.state !== "paused";
    document.getElementById("pause-reason").disabled = agent.state === "paused";
  }

  function sinceText(iso) {
    var started = Date.parse(iso || "");
    return isNaN(started) ? "" : cbx.duration((Date.now() - started) / 1000);
  }

  function loadPop(callId, caller) {
    if (!callId || callId === popCallId) { return; }
    popCallId = callId;
    noteCallId = callId;
    pop.setAttribute("data-call-id", callId);
    pop.setAttribute("data-loading", "true");
    var url = root.getAttribute("data-pop-url") + "?call_id=" + encodeURIComponent(callId) +
              "&caller=" + encodeURIComponent(caller || "");
    cbx.get(url).then(function (reply) {
      if (popCallId !== callId) { return; }
      pop.innerHTML = reply.html || "";
      pop.removeAttribute("data-loading");
      bindPop();
    }).catch(function (err) { say(String(err.message || err), "error"); });
  }

  function bindPop() {
    Array.prototype.forEach.call(pop.querySelectorAll('[data-testid="pop-choose"]'), function (choice) {
      choice.addEventListener("click", function () {
        Array.prototype.forEach.call(pop.querySelectorAll('[data-testid="pop-choose"]'), function (other) {
          other.setAttribute("aria-pressed", other === choice ? "true" : "false");
        });
        cbx.get(choice.getAttribute("data-url")).then(function (reply) {
          document.getElementById("pop-chosen").innerHTML = reply.html || "";
        });
      });
    });
    var form = document.getElementById("pop-new-patient");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var params = {};
        new FormData(form).forEach(function (value, key) { params[key] = value; });
        cbx.post(form.getAttribute("action"), params).then(function (reply) {
          if (reply.html !== undefined && reply.ok) {
            var holder = pop.querySelector('[data-testid="pop-no-match"]');
            holder.innerHTML = reply.html;
          } else {
            form.querySelector('[data-testid="pop-new-patient-error"]').textContent = reply.message || cbx.t("failed");
          }
        });
      });
    }
  }

  function render(a) {
    var previous = agent.state;
    agent = a || { state: "logged-out" };
    stateEl.textContent = cbx.t("agent." + agent.state);
    stateEl.className = "state state-" + agent.state;
    stateEl.setAttribute("data-state", agent.state);
    reasonEl.textContent = agent.state === "paused" && agent.reason ? agent.reason : "";
    sinceEl.setAttribute("data-since", agent.since || "");
    sinceEl.textContent = sinceText(agent.since);
    if (agent.call_id && (agent.state === "ringing" || agent.state === "on-call")) {
      callLine.textContent = cbx.t("ringing_from") + " " + (agent.caller || cbx.t("unknown_caller")) +
        (agent.queue ? " · " + cbx.t("queue") + " " + agent.queue : "") + (agent.on_hold ? " · " + cbx.t("on_hold") : "");
      loadPop(agent.call_id, agent.caller);
    } else if (agent.state !== "wrap-up") {
      callLine.textContent = "";
    }
    var inCall = agent.state === "on-call" || agent.state === "wrap-up";
    if (inCall && wrapup.hidden) { wrapup.hidden = false; }
    if (!inCall && previous === "wrap-up") { wrapup.hidden = true; note.value = ""; }
    document.getElementById("wrapup-done").disabled = agent.state !== "wrap-up";
    if (agent.reachable === false) { say(cbx.t("unreachable"), "error"); }
    updateButtons();
  }

  function renderQueues(queues) {
    var list = document.getElementById("queue-summary");
    cbx.replaceChildren(list, (queues || []).map(function (q) {
      var waiting = (q.waiting || []).length;
      return cbx.el("li", { className: waiting ? "busy" : "" }, [
        cbx.el("strong", { text: q.name || q.id }), " ",
        cbx.el("span", { "data-testid": "summary-waiting-" + q.id, text: String(waiting) }), " " + cbx.t("waiting")
      ]);
    }));
  }

  function act(action, extra) {
    var params = { action: action, station: station };
    Object.keys(extra || {}).forEach(function (k) { params[k] = extra[k]; });
    say("…");
    return cbx.post(root.getAttribute("data-action-url"), params).then(function (reply) {
      say(reply.ok ? "" : reply.message, reply.ok ? "" : "error");
      return reply;
    }).catch(function (err) { say(String(err.message || err), "error"); });
  }

  function openTransfer() {
    if (button("transfer").disabled) { return; }
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
  }

  dialog.addEventListener("close", function () {
    if (dialog.returnValue !== "transfer") { return; }
    var form = document.getElementById("transfer-form");
    act("transfer", {
      to_station: form.elements.to_station.value,
      to_queue: form.elements.to_queue.value,
      to_number: form.elements.to_number.value
    });
    form.reset();
  });

  root.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target.closest("[data-action]") : null;
    if (!target || target.disabled) { return; }
    var action = target.getAttribute("data-action");
    if (action === "transfer") { openTransfer(); return; }
    if (action === "pause") { act("pause", { reason: document.getElementById("pause-reason").value }); return; }
    act(action);
  });

  function pressIf(action) { var b = button(action); if (b && !b.disabled && !b.hidden) { b.click(); return true; } return false; }
  cbx.shortcut("a", function () { pressIf("answer"); });
  cbx.shortcut("h", function () { pressIf("hold") || pressIf("unhold"); });
  cbx.shortcut("t", openTransfer);
  cbx.shortcut("x", function () { pressIf("hangup"); });
  cbx.shortcut("p", function () { pressIf("pause") || pressIf("unpause"); });

  document.getElementById("note-save").addEventListener("click", function () {
    if (!noteCallId) { say(cbx.t("failed"), "error"); return; }
    cbx.post(root.getAttribute("data-note-url"), { call_id: noteCallId, note: note.value }).then(function (reply) {
      say(reply.ok ? cbx.t("saved") : reply.message, reply.ok ? "ok" : "error");
    });
  });
  document.getElementById("wrapup-done").addEventListener("click", function () {
    cbx.post(root.getAttribute("data-wrapup-url"), { station: station, note: note.value }).then(function (reply) {
      if (reply.ok) { note.value = ""; say(cbx.t("saved"), "ok"); } else { say(reply.message, "error"); }
    });
  });

  window.setInterval(function () { sinceEl.textContent = sinceText(sinceEl.getAttribute("data-since")); }, 1000);

  cbx.live("console", {
    snapshot: function (s) {
      var mine = null;
      (s.agents || []).forEach(function (a) { if (a.station === station) { mine = a; } });
      render(mine);
      renderQueues(s.queues);
    },
    core: function (state) {
      if (!state.up) {
        agent = { state: "unknown" };
        stateEl.textContent = cbx.t("core_down");
        stateEl.setAttribute("data-state", "core-down");
        say(cbx.t("core_down_detail"), "error");
        updateButtons();
      } else {
        say("");
      }
    },
    "agent.ringing": function (data) {
      if (data.station === station) { loadPop(data.call_id, data.caller); }
    }
  });
})();
