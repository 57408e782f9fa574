// Adesso agent UI: live updates over the websocket, and a few keyboard comforts.
// The socket carries only codes and kinds; every partial is re-fetched through
// the normal, access-checked views (hx-get on elements marked data-live).
(function () {
  "use strict";

  var MIN_DELAY = 500;
  var MAX_DELAY = 15000;
  var delay = MIN_DELAY;
  var everConnected = false;

  function setStatus(live) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.textContent = el.getAttribute(live ? "data-live-label" : "data-offline-label");
    el.classList.toggle("is-live", live);
  }

  function refresh(filter) {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      if (filter(el.getAttribute("data-live"))) window.htmx.trigger(el, "adesso-refresh");
    });
  }

  function onEvent(event) {
    refresh(function (target) {
      return target === "inbox" || target === "conversation:" + event.conversation;
    });
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    // The websocket server may listen on its own port (make run: 8001); else same origin.
    var port = document.body.getAttribute("data-live-port");
    var host = port ? window.location.hostname + ":" + port : window.location.host;
    var socket = new WebSocket(scheme + host + "/ws/agent/");
    socket.onopen = function () {
      delay = MIN_DELAY;
      setStatus(true);
      // Whatever happened while we were away: fetch it now.
      if (everConnected) refresh(function () { return true; });
      everConnected = true;
    };
    socket.onmessage = function (message) {
      try {
        onEvent(JSON.parse(message.data));
      } catch (e) {
        // A malformed frame is not worth breaking the page for.
      }
    };
    socket.onclose = function (closed) {
      setStatus(false);
      if (closed.code === 4401) return; // logged out: the next page load will ask to log in
      var wait = delay + Math.random() * delay * 0.3;
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    };
  }

  // Keep the timeline pinned to the newest entry when the agent was already there.
  var pinned = true;
  function scroller() { return document.getElementById("timeline-scroll"); }
  function toBottom() {
    var s = scroller();
    if (s) s.scrollTop = s.scrollHeight;
  }

  document.addEventListener("htmx:beforeSwap", function (e) {
    var s = scroller();
    if (s && e.detail.target && e.detail.target.id === "timeline") {
      pinned = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pinned) toBottom();
  });

  // Inbox filters apply as soon as one is picked.
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.classList.contains("filters")) form.requestSubmit();
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && e.target.id === "reply-text") {
      e.preventDefault();
      var button = document.getElementById("reply-button");
      if (button) button.form.requestSubmit(button);
    }
  });

  // Presence: choosing it in the top bar saves it at once.
  document.addEventListener("change", function (e) {
    if (e.target.id === "presence-select") e.target.form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash;
    var target = hash && document.getElementById(hash.slice(1));
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("highlight");
    } else {
      toBottom();
    }
    if (document.getElementById("live-status")) connect();
  });
})();
