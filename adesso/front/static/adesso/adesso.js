// Adesso agent UI: live updates over the websocket, who else has the conversation open,
// times that tick, and the keyboard.
// The socket carries only codes and kinds; every partial is re-fetched through
// the normal, access-checked views (hx-get on elements marked data-live).
(function () {
  "use strict";

  var MIN_DELAY = 500;
  var MAX_DELAY = 15000;
  var delay = MIN_DELAY;
  var everConnected = false;
  var socket = null;

  function byId(id) { return document.getElementById(id); }

  function setStatus(live) {
    var el = byId("live-status");
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
    if (event.presence) { presence.heard(event.presence); return; }
    refresh(function (target) {
      return target === "inbox" || target === "conversation:" + event.conversation;
    });
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    // The websocket server may listen on its own port (make run: 8001); else same origin.
    var port = document.body.getAttribute("data-live-port");
    var host = port ? window.location.hostname + ":" + port : window.location.host;
    socket = new WebSocket(scheme + host + "/ws/agent/");
    socket.onopen = function () {
      delay = MIN_DELAY;
      setStatus(true);
      presence.watch();
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
      presence.clear();
      if (closed.code === 4401) return; // logged out: the next page load will ask to log in
      var wait = delay + Math.random() * delay * 0.3;
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    };
  }

  // ---- Presence: the other agents who have this conversation open, or type in it ----
  var presence = (function () {
    var HEARTBEAT = 30000; // the page says "still here" this often
    var FORGET = 75000;    // a tab not heard of for this long has gone
    var TYPING = 6000;     // "typing…" this long after the last keystroke heard
    var THROTTLE = 2000;
    var tabs = {};
    var typedAt = 0;

    function bar() { return byId("presence-bar"); }

    function watch() {
      var el = bar();
      if (el) send({ watch: el.getAttribute("data-conversation") });
    }

    function typing() {
      var now = Date.now();
      if (now - typedAt < THROTTLE) return;
      typedAt = now;
      send({ typing: true });
    }

    function heard(p) {
      var el = bar();
      if (!el || p.conversation !== el.getAttribute("data-conversation")) return;
      if (p.state === "left") {
        delete tabs[p.tab];
      } else {
        var tab = tabs[p.tab] || (tabs[p.tab] = { typingUntil: 0 });
        tab.agent = p.agent;
        tab.name = p.name;
        tab.seen = Date.now();
        if (p.state === "typing") tab.typingUntil = Date.now() + TYPING;
      }
      render();
    }

    function initials(name) {
      return name.split(/\s+/).filter(Boolean).slice(0, 2).map(function (w) { return w[0]; }).join("").toUpperCase();
    }

    function hue(code) {
      var h = 0;
      for (var i = 0; i < code.length; i++) h = (h * 31 + code.charCodeAt(i)) % 360;
      return h;
    }

    function render() {
      var el = bar();
      if (!el) return;
      var now = Date.now(), agents = {}, order = [];
      Object.keys(tabs).forEach(function (key) {
        var t = tabs[key];
        if (now - t.seen > FORGET) { delete tabs[key]; return; }
        var a = agents[t.agent];
        if (!a) { a = agents[t.agent] = { code: t.agent, name: t.name, typing: false }; order.push(a); }
        a.typing = a.typing || t.typingUntil > now;
      });
      order.sort(function (x, y) { return x.name.localeCompare(y.name); });
      el.textContent = "";
      order.forEach(function (a) {
        var chip = document.createElement("span");
        chip.className = "presence-chip" + (a.typing ? " is-typing" : "");
        chip.setAttribute("data-agent", a.code);
        var avatar = document.createElement("span");
        avatar.className = "avatar";
        avatar.setAttribute("aria-hidden", "true");
        avatar.style.backgroundColor = "hsl(" + hue(a.code) + ", 45%, 40%)";
        avatar.textContent = initials(a.name);
        var text = document.createElement("span");
        text.className = "presence-text";
        text.textContent = el.getAttribute(a.typing ? "data-typing" : "data-viewing").replace("__name__", a.name);
        chip.appendChild(avatar);
        chip.appendChild(text);
        el.appendChild(chip);
      });
      el.hidden = order.length === 0;
    }

    function clear() { tabs = {}; render(); }

    window.setInterval(watch, HEARTBEAT);
    window.setInterval(render, 2000); // typing fades, silent tabs are forgotten
    return { watch: watch, typing: typing, heard: heard, clear: clear };
  })();

  // ---- Collision: a message that arrived while the agent was writing ----
  // The reply form carries the newest message the agent saw (#last-message). A live
  // timeline update moves it on only while nothing is written; otherwise the server
  // warns on send, and a hint says so at once.
  function onTimeline() {
    var timeline = byId("timeline"), seen = byId("last-message"), area = byId("reply-text");
    if (!timeline || !seen || !area) return;
    var newest = timeline.getAttribute("data-last-message") || "";
    if (!area.value.trim()) seen.value = newest;
    var hint = byId("stale-hint");
    if (hint) hint.hidden = seen.value === newest;
  }

  // ---- Ticking: waits and times left rewritten every few seconds, no request ----
  var texts = null, offset = 0;
  var TICK = 15000;

  function fill(format, values) {
    return format.replace(/%\((\w+)\)[ds]/g, function (all, name) { return String(values[name]); });
  }

  // The same wording and rounding as adesso_front.duration_text on the server.
  function duration(seconds) {
    var minutes = Math.floor(seconds / 60);
    if (minutes < 1) return texts.now;
    if (minutes < 60) return fill(texts.min, { minutes: minutes });
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours < 24) return minutes === 0 ? fill(texts.h, { hours: hours }) : fill(texts.hmin, { hours: hours, minutes: minutes });
    var days = Math.floor(hours / 24);
    return fill(days === 1 ? texts.day : texts.days, { days: days });
  }

  function timeLeft(seconds) {
    return seconds < 0 ? fill(texts.late, { duration: duration(-seconds) }) : duration(seconds);
  }

  function setLevel(el, level) {
    el.classList.remove("wait-ok", "wait-warn", "wait-late");
    el.classList.add(level);
  }

  function tick() {
    if (!texts) return;
    var now = Date.now() + offset;
    document.querySelectorAll("[data-since]").forEach(function (el) {
      var seconds = Math.max(0, Math.floor((now - Date.parse(el.getAttribute("data-since"))) / 1000));
      el.textContent = duration(seconds);
      setLevel(el, seconds >= 3600 ? "wait-late" : seconds >= 900 ? "wait-warn" : "wait-ok");
    });
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var seconds = Math.floor((Date.parse(el.getAttribute("data-due")) - now) / 1000);
      el.textContent = timeLeft(seconds);
      setLevel(el, seconds <= 0 ? "wait-late" : seconds <= 900 ? "wait-warn" : "wait-ok");
    });
  }

  function startTicking() {
    var el = byId("adesso-texts");
    if (!el) return;
    texts = JSON.parse(el.textContent);
    // The server's clock decides, as it does for the text it drew.
    offset = Date.parse(texts.server_now) - Date.now();
    window.adessoDuration = timeLeft; // for the tests: the wording side by side with the server's
    window.setInterval(tick, TICK);
  }

  // ---- Keyboard ----
  var selected = null; // the selected inbox row's conversation code

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#inbox-list tr[data-conversation]")); }

  function select(row) {
    rows().forEach(function (r) {
      r.classList.toggle("is-selected", r === row);
      if (r === row) r.setAttribute("aria-selected", "true"); else r.removeAttribute("aria-selected");
    });
    if (!row) return;
    selected = row.getAttribute("data-conversation");
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var at = list.findIndex(function (r) { return r.getAttribute("data-conversation") === selected; });
    at = at < 0 ? 0 : Math.max(0, Math.min(list.length - 1, at + step));
    select(list[at]);
  }

  function openSelected() {
    var row = rows().find(function (r) { return r.getAttribute("data-conversation") === selected; });
    var link = row && row.querySelector("td.who a");
    // Navigate by the address, not a click: a live refresh of the list may have just
    // replaced this row, and a click on a row no longer in the page goes nowhere.
    if (link) { window.location.assign(link.href); return true; }
    return false;
  }

  function writeMode(note) {
    var form = byId("reply-form"), area = byId("reply-text");
    if (!form || !area) return;
    if (!area.hasAttribute("data-reply-placeholder")) area.setAttribute("data-reply-placeholder", area.placeholder);
    var noteButton = form.querySelector("button[name=internal][value='1']");
    form.classList.toggle("is-note", note);
    area.placeholder = note && noteButton ? noteButton.textContent.trim() + "…" : area.getAttribute("data-reply-placeholder");
    area.focus();
  }

  function resolve() {
    var button = document.querySelector("#conversation-header button[name=status][value=resolved]");
    if (!button) return;
    var reason = button.form.querySelector(".resolve-reason");
    if (reason && !reason.value.trim()) { reason.focus(); return; } // unanswered: say why first
    button.form.requestSubmit(button);
  }

  function assignToMe() {
    var mine = byId("assign-me-form");
    if (mine) { mine.requestSubmit(); return; }
    // Someone has it: a transfer to me, which needs a handover note.
    var select = byId("assignee"), me = byId("presence-bar");
    if (!select || !me || select.value === me.getAttribute("data-me")) return;
    select.value = me.getAttribute("data-me");
    var note = byId("note");
    if (note) { note.scrollIntoView({ block: "center" }); note.focus(); }
  }

  function typingIn(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  // Where a key really lands. Closing a dialog that was opened with nothing focused
  // (Esc on the shortcuts) leaves the focus on its Close button, now hidden, until the
  // browser's next rendering step moves it away; a key pressed before that (a quick
  // Esc then Enter, or any busy page) would press that hidden button instead of
  // opening the selected conversation. Such a key is the page's.
  function keyTarget(e) {
    var dialog = e.target.closest && e.target.closest("dialog");
    return dialog && !dialog.open ? document.body : e.target;
  }

  function help() {
    var dialog = byId("keys-help");
    if (!dialog) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  document.addEventListener("keydown", function (e) {
    var target = keyTarget(e);
    var area = target.id === "reply-text";
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && area) {
      e.preventDefault();
      var form = e.target.form;
      var button = form.classList.contains("is-note") ? form.querySelector("button[name=internal][value='1']") : byId("reply-button");
      if (button) form.requestSubmit(button);
      return;
    }
    if (e.key === "Escape" && typingIn(target)) { target.blur(); return; }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typingIn(target)) return;
    var dialogOpen = document.querySelector("dialog[open]");
    if (e.key === "?") { if (!dialogOpen || dialogOpen.id === "keys-help") { e.preventDefault(); help(); } return; }
    if (dialogOpen) return;
    var onLink = /^(A|BUTTON)$/.test(target.tagName);
    var handled = true;
    if (byId("inbox-list") && (e.key === "j" || e.key === "k")) move(e.key === "j" ? 1 : -1);
    else if (byId("inbox-list") && (e.key === "o" || (e.key === "Enter" && !onLink))) handled = openSelected();
    else if (byId("reply-form") && e.key === "r") writeMode(false);
    else if (byId("reply-form") && e.key === "n") writeMode(true);
    else if (byId("reply-form") && e.key === "e") resolve();
    else if (byId("reply-form") && e.key === "a") assignToMe();
    else handled = false;
    if (handled) e.preventDefault();
  });

  // ---- The rest of the page ----
  // Keep the timeline pinned to the newest entry when the agent was already there.
  var pinned = true;
  function scroller() { return byId("timeline-scroll"); }
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
  // At once, in the swap's own task: a reply typed in the next moment (before the
  // settle) must not start from the message before the one just shown.
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "timeline") onTimeline();
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (pinned) toBottom();
    onTimeline();
    if (selected) {
      var row = rows().find(function (r) { return r.getAttribute("data-conversation") === selected; });
      if (row) select(row);
    }
  });

  // Inbox filters apply as soon as one is picked.
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (form && form.classList.contains("filters")) form.requestSubmit();
  });

  document.addEventListener("input", function (e) {
    if (e.target.id === "reply-text") presence.typing();
  });

  // Presence: choosing it in the top bar saves it at once.
  document.addEventListener("change", function (e) {
    if (e.target.id === "presence-select") e.target.form.requestSubmit();
  });

  document.addEventListener("click", function (e) {
    var toggle = e.target.closest && e.target.closest("#nav-toggle");
    if (!toggle) return;
    var open = toggle.parentNode.classList.toggle("nav-open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  document.addEventListener("DOMContentLoaded", function () {
    var hash = window.location.hash;
    var target = hash && byId(hash.slice(1));
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.classList.add("highlight");
    } else {
      toBottom();
    }
    startTicking();
    if (byId("live-status")) connect();
  });
})();
