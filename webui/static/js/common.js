/* ClinicBox web UI: helpers every page uses.
 * No framework, no inline script (the CSP forbids it). Data from the server is
 * always put into the page with textContent, never parsed as HTML, except
 * fragments the server rendered (and escaped) itself.
 */
(function () {
  "use strict";

  var strings = {};
  try {
    strings = JSON.parse(document.getElementById("cbx-i18n").textContent || "{}");
  } catch (e) {
    strings = {};
  }

  function t(path) {
    var parts = path.split(".");
    var value = strings;
    for (var i = 0; i < parts.length; i++) {
      if (value === undefined || value === null) { break; }
      value = value[parts[i]];
    }
    return typeof value === "string" ? value : parts[parts.length - 1];
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === undefined || value === null || value === false) { return; }
        if (key === "text") { node.textContent = value; }
        else if (key === "className") { node.className = value; }
        else { node.setAttribute(key, value === true ? "" : String(value)); }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function replaceChildren(node, children) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
    children.forEach(function (child) { node.appendChild(child); });
  }

  function loginAgain() {
    window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
  }

  function request(method, url, params) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "X-Requested-With": "fetch", "Accept": "application/json" }
    };
    if (params) {
      var body = new URLSearchParams();
      Object.keys(params).forEach(function (key) {
        if (params[key] !== undefined && params[key] !== null) { body.append(key, params[key]); }
      });
      options.body = body;
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { loginAgain(); throw new Error(t("session_ended")); }
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") >= 0) {
        return response.json().then(function (data) {
          data.status = response.status;
          return data;
        });
      }
      return response.text().then(function (text) {
        return { ok: response.ok, status: response.status, html: text };
      });
    });
  }

  function post(url, params) { return request("POST", url, params || {}); }
  function get(url) { return request("GET", url, null); }

  function duration(seconds) {
    var total = Math.max(0, Math.round(seconds));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  /* The core banner in the top bar. */
  function setCore(up) {
    var banner = document.getElementById("core-banner");
    if (!banner) { return; }
    banner.classList.toggle("up", !!up);
    banner.classList.toggle("down", !up);
    banner.setAttribute("data-core", up ? "up" : "down");
    var text = banner.querySelector(".text");
    if (text) { text.textContent = up ? text.getAttribute("data-up") : text.getAttribute("data-down"); }
  }

  /* Live updates: a server-sent-event stream, with polling when the box has
   * no stream to spare. handlers: {snapshot: fn(data), core: fn(state), <event>: fn(data)} */
  function live(view, handlers) {
    var source = null;
    var pollTimer = null;
    var stopped = false;

    function dispatch(kind, data) {
      if (kind === "core") { setCore(data.up); }
      if (handlers[kind]) { handlers[kind](data); }
      if (handlers.any) { handlers.any(kind, data); }
    }

    function poll() {
      get("/live/snapshot?view=" + encodeURIComponent(view)).then(function (data) {
        if (!data.ok) { return; }
        dispatch("core", data.core);
        if (data.snapshot) { dispatch("snapshot", data.snapshot); }
      }).catch(function () { setCore(false); });
    }

    function startPolling() {
      if (pollTimer) { return; }
      poll();
      pollTimer = window.setInterval(poll, 3000);
      window.setTimeout(function () {
        window.clearInterval(pollTimer);
        pollTimer = null;
        if (!stopped) { open(); }
      }, 60000);
    }

    function open() {
      source = new EventSource("/live/stream?view=" + encodeURIComponent(view));
      ["core", "snapshot", "agent.ringing", "agent.state", "call.ended", "voicemail.new", "callback.new"].forEach(function (kind) {
        source.addEventListener(kind, function (event) {
          var data = null;
          try { data = JSON.parse(event.data); } catch (e) { return; }
          dispatch(kind, data);
        });
      });
      source.addEventListener("session", function () { source.close(); loginAgain(); });
      source.onerror = function () {
        if (source.readyState !== EventSource.CLOSED) { return; }
        /* The server refused the stream: logged out, or no stream to spare. */
        get("/session").then(function () {
          if (!stopped) { startPolling(); }
        }).catch(function () {});
      };
    }

    open();
    return {
      stop: function () { stopped = true; if (source) { source.close(); } if (pollTimer) { window.clearInterval(pollTimer); } }
    };
  }

  /* Keyboard shortcuts: single keys, ignored while typing in a field. */
  var shortcuts = {};
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) { return; }
    var handler = shortcuts[event.key.toLowerCase()];
    if (handler) { event.preventDefault(); handler(event); }
  });

  function shortcut(key, handler) { shortcuts[key.toLowerCase()] = handler; }

  /* Forms and buttons that ask first: data-confirm="question". */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  /* Notice a session that ended (idle logout) while the page stays open. */
  function watchSession() {
    if (!document.querySelector('[data-testid="logout"]')) { return; }
    window.setInterval(function () {
      get("/session").catch(function () {});
    }, 60000);
  }

  document.addEventListener("DOMContentLoaded", watchSession);

  window.cbx = {
    t: t,
    el: el,
    replaceChildren: replaceChildren,
    post: post,
    get: get,
    duration: duration,
    live: live,
    shortcut: shortcut,
    setCore: setCore,
    csrf: csrf
  };
})();
