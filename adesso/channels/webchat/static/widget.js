/* Adesso web chat widget (docs/channels.md, Web chat). Hand-written, no framework.
   <script src="{SITE_URL}/chat/widget.js" data-channel="CODE" async
           [data-lang="it|en"] [data-identifier="..." data-identifier-hash="..."]></script>
   Styles live in a shadow root; the visitor's token is kept in localStorage; no cookie
   of the host site is read. REST is the source of truth, the websocket says what is new. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.channel) return;
  var code = script.dataset.channel;
  var base = new URL(script.src).origin;
  var api = base + "/chat/" + code;
  var storeKey = "adesso-chat:" + code;
  var T = {
    it: {
      open: "Apri la chat", close: "Chiudi la chat", title: "Chat con", send: "Invia",
      label: "Scrivi un messaggio", placeholder: "Scrivi qui…", typing: "sta scrivendo…",
      you: "Tu", failed: "Non inviato: riprova", log: "Messaggi", greeting: "Ciao! Come possiamo aiutarti?",
      email: "La tua email", keep: "Ricevi la risposta", kept: "Grazie: la risposta arriverà anche a ",
      bad: "Questo indirizzo email non sembra valido",
      attach: "Allega un'immagine o un documento", big: "Il file è troppo grande: al massimo ",
      type: "Puoi inviare immagini e documenti (PDF, testo, Office)",
      transcript: "Ricevi la trascrizione via email", sent: "Trascrizione inviata a ",
      noMail: "Scrivi la tua email per ricevere la trascrizione",
      rate: "Il tuo voto", of: " su ",
      reach: "La tua email o il tuo telefono", call: "Grazie: ti richiameremo al ",
      badPhone: "Questo numero di telefono non sembra valido"
    },
    en: {
      open: "Open the chat", close: "Close the chat", title: "Chat with", send: "Send",
      label: "Write a message", placeholder: "Write here…", typing: "is typing…",
      you: "You", failed: "Not sent: try again", log: "Messages", greeting: "Hi! How can we help?",
      email: "Your email", keep: "Get the answer", kept: "Thank you: the answer will also reach ",
      bad: "This email address does not look right",
      attach: "Attach an image or a document", big: "The file is too large: at most ",
      type: "You can send images and documents (PDF, text, office)",
      transcript: "Email me the transcript", sent: "Transcript sent to ",
      noMail: "Type your email address to get the transcript",
      rate: "Your score", of: " out of ",
      reach: "Your email or phone number", call: "Thank you: we will call you back on ",
      badPhone: "This phone number does not look right"
    }
  };
  var lang = "en", t = T.en, conf = {}, token = "", cursor = 0, seen = {}, pending = {};
  var ws = null, retry = 0, typingTimer = null, typedAt = 0, root, els = {};

  function pickLang(forced) {
    var l = (script.dataset.lang || forced || navigator.language || "en").slice(0, 2).toLowerCase();
    lang = T[l] ? l : "en";
    t = T[lang];
  }

  function request(method, path, body) {
    var form = window.FormData && body instanceof FormData;
    var headers = form ? {} : { "Content-Type": "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit", mode: "cors",
      body: form ? body : body ? JSON.stringify(body) : undefined
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) { var e = new Error(data.message || r.status); e.code = data.error; throw e; }
        return data;
      });
    });
  }

  // White or near-black text on the company's colour, whichever contrasts more (WCAG luminance).
  function textOn(hex) {
    var l = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    var y = 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
    return 1.05 / (y + 0.05) >= (y + 0.05) / 0.0552 ? "#fff" : "#111";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) node.setAttribute(k, attrs[k]);
    if (text) node.textContent = text;
    return node;
  }

  var CSS = ":host{all:initial}*{box-sizing:border-box;font:15px/1.4 system-ui,sans-serif}" +
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:var(--c);color:var(--f);cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3);z-index:2147483000}" +
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #000;outline-offset:2px}" +
    ".win{position:fixed;right:20px;bottom:88px;width:min(360px,calc(100vw - 40px));height:min(520px,calc(100vh - 120px));" +
    "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:12px;" +
    "box-shadow:0 4px 24px rgba(0,0,0,.3);z-index:2147483000;overflow:hidden}" +
    ".win[hidden]{display:none}header{display:flex;align-items:center;justify-content:space-between;" +
    "padding:12px 14px;background:var(--c);color:var(--f)}header h2{margin:0;font-weight:600;flex:1}" +
    "header button{background:transparent;border:0;color:var(--f);font-size:22px;cursor:pointer;padding:0 6px}" +
    ".box{flex:1;overflow-y:auto}.log{padding:12px;display:flex;flex-direction:column;gap:8px;margin:0;list-style:none}" +
    ".m{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".agent{align-self:flex-start;background:#eef0f3}.visitor{align-self:flex-end;background:var(--c);color:var(--f)}" +
    ".m small{display:block;font-size:12px;opacity:.8}.pending{opacity:.6}.failed{outline:2px solid #b00020}" +
    ".typing{padding:0 12px 6px;font-size:13px;color:#444;min-height:20px}" +
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #ddd}" +
    "textarea{flex:1;resize:none;height:42px;padding:8px;border:1px solid #888;border-radius:8px;color:#111}" +
    "form button{border:0;border-radius:8px;padding:0 14px;background:var(--c);color:var(--f);cursor:pointer}" +
    ".mail{display:flex;flex-wrap:wrap;gap:6px;padding:8px 10px;border-top:1px solid #ddd}" +
    ".mail input{flex:1;min-width:0;padding:8px;border:1px solid #888;border-radius:8px;color:#111}" +
    ".mail p{margin:0;width:100%;font-size:13px;color:#444}.mail p.err{color:#b00020}" +
    ".m img{display:block;max-width:100%;max-height:200px;border-radius:6px}.m a{color:inherit}" +
    ".clip{background:transparent;color:#333;font-size:20px;padding:0 6px}" +
    ".rate{display:flex;flex-wrap:wrap;gap:6px}.rate button{min-width:36px;height:36px;border:1px solid var(--c);" +
    "border-radius:18px;background:#fff;color:#111;cursor:pointer}" +
    ".note{margin:0;padding:0 12px;font-size:13px;color:#b00020}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}";

  function build() {
    var host = el("div", { "data-adesso-chat": code });
    document.body.appendChild(host);
    root = host.attachShadow({ mode: "open" });
    if (window.CSSStyleSheet && "replaceSync" in CSSStyleSheet.prototype && "adoptedStyleSheets" in root) {
      // A constructed sheet: a host whose CSP has no 'unsafe-inline' style keeps it.
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      var style = el("style");
      style.textContent = CSS;
      root.appendChild(style);
    }
    host.style.setProperty("--c", conf.colour || "#1f6feb");
    host.style.setProperty("--f", textOn(conf.colour || "#1f6feb"));
    els.launcher = el("button", { "class": "launcher", type: "button", "aria-label": t.open, "aria-expanded": "false" });
    els.launcher.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16v11H7l-3 3z"/></svg>';
    els.win = el("div", { "class": "win", role: "dialog", "aria-label": t.title + " " + conf.name, hidden: "" });
    var header = el("header");
    header.appendChild(el("h2", {}, conf.name));
    els.close = el("button", { type: "button", "aria-label": t.close }, "×");
    // The transcript by email: shown once there is a conversation.
    els.tr = el("button", { type: "button", "aria-label": t.transcript, title: t.transcript, hidden: "" }, "✉");
    els.tr.addEventListener("click", askTranscript);
    header.appendChild(els.tr);
    header.appendChild(els.close);
    // The log (live region, scrollable, focusable) holds a list: each message a list item.
    els.box = el("div", { "class": "box", role: "log", "aria-live": "polite", "aria-label": t.log, tabindex: "0" });
    els.log = els.box.appendChild(el("ol", { "class": "log" }));
    els.typing = el("div", { "class": "typing", "aria-live": "polite" });
    var form = el("form");
    var label = el("label", { "for": "adesso-text", "class": "sr" }, t.label);
    els.text = el("textarea", { id: "adesso-text", placeholder: t.placeholder, rows: "1", maxlength: "5000" });
    var send = el("button", { type: "submit" }, t.send);
    // Files: a button opens the picker (the input itself stays out of the tab order).
    els.file = el("input", { type: "file", hidden: "", accept: conf.accept || "" });
    var clip = el("button", { type: "button", "class": "clip", "aria-label": t.attach, title: t.attach }, "📎");
    clip.addEventListener("click", function () { els.file.click(); });
    els.file.addEventListener("change", function () {
      if (els.file.files[0]) sendFile(els.file.files[0]);
      els.file.value = "";
    });
    els.note = el("p", { "class": "note", role: "status" });
    form.appendChild(label);
    form.appendChild(clip);
    form.appendChild(els.file);
    form.appendChild(els.text);
    form.appendChild(send);
    els.win.appendChild(header);
    els.win.appendChild(els.box);
    els.win.appendChild(els.typing);
    els.win.appendChild(els.note);
    els.win.appendChild(form);
    root.appendChild(els.win);
    root.appendChild(els.launcher);
    bubble({ from: "agent", text: conf.greeting || t.greeting, greeting: true });

    els.launcher.addEventListener("click", function () { toggle(els.win.hidden); });
    els.close.addEventListener("click", function () { toggle(false); });
    els.win.addEventListener("keydown", function (e) { if (e.key === "Escape") toggle(false); });
    form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
    els.text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); submit(); }
    });
    els.text.addEventListener("input", function () {
      var now = Date.now();
      if (ws && ws.readyState === 1 && now - typedAt > 1500) { typedAt = now; ws.send(JSON.stringify({ typing: true })); }
    });
  }

  function toggle(open) {
    els.win.hidden = !open;
    els.launcher.setAttribute("aria-expanded", String(open));
    els.launcher.setAttribute("aria-label", open ? t.close : t.open);
    if (open) { els.text.focus(); scroll(); } else { els.launcher.focus(); }
  }

  function scroll() { els.box.scrollTop = els.box.scrollHeight; }

  function bubble(m) {
    var li = el("li", { "class": "m " + (m.from === "visitor" ? "visitor" : "agent") });
    if (m.from !== "visitor" && m.author) li.appendChild(el("small", {}, m.author));
    if (m.text) li.appendChild(document.createTextNode(m.text));
    var files = m.files || [];
    for (var i = 0; i < files.length; i++) {
      var f = files[i], a = el("a", { href: base + f.url, target: "_blank", rel: "noopener" });
      // Images shown (and linked), documents linked by name.
      if (/^image\//.test(f.type)) a.appendChild(el("img", { src: base + f.url, alt: f.name }));
      else a.textContent = "📄 " + f.name;
      li.appendChild(a);
    }
    els.log.appendChild(li);
    scroll();
    return li;
  }

  function show(list) {
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (m.id > cursor) cursor = m.id;
      if (seen[m.id]) continue;
      seen[m.id] = true;
      if (m.from === "visitor" && m.echo_id && pending[m.echo_id]) {
        var mine = pending[m.echo_id];
        delete pending[m.echo_id];
        if (m.files && m.files.length) mine.replaceWith(bubble(m)); // the file as stored (an image shown)
        else mine.classList.remove("pending", "failed");
        continue;
      }
      if (m.from === "agent") els.typing.textContent = "";
      els.tr.hidden = false;
      // Nobody online: the acknowledgement says so, and asks for an email address.
      bubble(m.offline ? { from: m.from, author: m.author, text: m.text + "\n\n" + m.offline } : m);
      if (m.offline) askEmail();
      if (m.survey && m.survey.open) rate(m.survey);
    }
  }

  // Nobody online: an email address, where the answer goes if the visitor leaves, or a
  // phone number to be called back (told apart by the "@").
  function askEmail() {
    if (els.mail) return;
    var form = els.mail = el("form", { "class": "mail", "aria-label": t.keep });
    var label = el("label", { "for": "adesso-email", "class": "sr" }, t.reach);
    var input = el("input", { id: "adesso-email", type: "text", autocomplete: "email", placeholder: t.reach, maxlength: "254" });
    var note = el("p", { role: "status" });
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(el("button", { type: "submit" }, t.keep));
    form.appendChild(note);
    els.win.insertBefore(form, els.typing);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var value = input.value.trim(), mail = value.indexOf("@") >= 0 || !/\d/.test(value);
      request("POST", "/contact", mail ? { email: value } : { phone: value }).then(function (d) {
        form.textContent = "";
        if (d.email) kept = d.email;
        form.appendChild(el("p", { role: "status" }, d.email ? t.kept + d.email : t.call + d.phone));
      }).catch(function () {
        note.className = "err";
        note.textContent = mail ? t.bad : t.badPhone;
        input.setAttribute("aria-invalid", "true");
        input.focus();
      });
    });
  }

  // The transcript: to the address typed (prefilled with one left before), or the one
  // the server knows for the visitor when the box is left empty.
  var kept = "";
  function askTranscript() {
    if (els.trForm) { els.trForm.querySelector("input").focus(); return; }
    var form = els.trForm = el("form", { "class": "mail", "aria-label": t.transcript });
    var input = el("input", { id: "adesso-tr", type: "email", autocomplete: "email", placeholder: t.email, maxlength: "254" });
    var note = el("p", { role: "status" });
    input.value = kept;
    form.appendChild(el("label", { "for": "adesso-tr", "class": "sr" }, t.email));
    form.appendChild(input);
    form.appendChild(el("button", { type: "submit" }, t.send));
    form.appendChild(note);
    els.win.insertBefore(form, els.typing);
    input.focus();
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      note.className = "";
      request("POST", "/transcript", { email: input.value.trim() || undefined, language: lang }).then(function (d) {
        kept = d.email;
        note.textContent = t.sent + d.email;
      }).catch(function (err) {
        note.className = "err";
        note.textContent = err.code === "invalid_email" ? t.bad : err.code === "no_email" ? t.noMail : t.failed;
        input.focus();
      });
    });
  }

  // A survey's question (the agent resolved the conversation): one button per score; a
  // tap sends the score as the visitor's answer, then the "why" is answered as text.
  function rate(s) {
    if (els.rate) els.rate.remove();
    // A list item holding the group (a list holds only items: axe's "list" rule).
    els.rate = el("li");
    var group = els.rate.appendChild(el("div", { "class": "rate", role: "group", "aria-label": t.rate }));
    for (var n = s.low; n <= s.high; n++) {
      var b = el("button", { type: "button", "aria-label": n + t.of + s.high }, String(n));
      b.addEventListener("click", function (e) { say(e.target.textContent); els.text.focus(); });
      group.appendChild(b);
    }
    els.log.appendChild(els.rate);
    scroll();
  }

  function submit() {
    var text = els.text.value.trim();
    if (!text) return;
    els.text.value = "";
    say(text);
  }

  function say(text) {
    if (els.rate) { els.rate.remove(); els.rate = null; } // answered, or moved on
    var echo = "e" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    var li = bubble({ from: "visitor", text: text });
    li.classList.add("pending");
    pending[echo] = li;
    post(echo, text, li);
  }

  function sendFile(file) {
    els.note.textContent = "";
    var max = conf.max_file || 0, ext = "." + file.name.split(".").pop().toLowerCase();
    if (conf.accept && conf.accept.split(",").indexOf(ext) < 0) { els.note.textContent = t.type; return; }
    if (max && file.size > max) { els.note.textContent = t.big + Math.round(max / 1048576) + " MB"; return; }
    var echo = "f" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    var li = bubble({ from: "visitor", text: "📎 " + file.name });
    li.classList.add("pending");
    pending[echo] = li;
    var data = new FormData();
    data.append("file", file);
    data.append("echo_id", echo);
    request("POST", "/files", data).catch(function (e) {
      li.remove();
      delete pending[echo];
      els.note.textContent = e.code === "attachment_too_large" ? t.big + Math.round(max / 1048576) + " MB" :
        e.code === "attachment_type" ? t.type : t.failed;
    });
  }

  function post(echo, text, li) {
    request("POST", "/messages", { echo_id: echo, text: text, page: location.href, language: navigator.language })
      .catch(function () {
        li.classList.add("failed");
        li.title = t.failed;
        li.setAttribute("tabindex", "0");
        li.setAttribute("aria-label", text + " (" + t.failed + ")");
        li.onclick = li.onkeydown = function (e) {
          if (e.type === "keydown" && e.key !== "Enter") return;
          li.classList.remove("failed");
          post(echo, text, li);
        };
      });
  }

  // The page the visitor is on and the browser's language, shown to the agents.
  var place = "";
  function where() {
    var now = location.href + "\n" + document.title;
    if (now === place) return;
    place = now;
    request("POST", "/page", { url: location.href, title: document.title, language: navigator.language }).catch(function () {});
  }

  function catchUp() {
    return request("GET", "/messages?after=" + cursor).then(function (d) { show(d.messages); });
  }

  function connect() {
    var u = new URL(base);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    if (conf.live_port) u.port = conf.live_port;
    u.pathname = "/chat/ws/" + code + "/";
    ws = new WebSocket(u.toString());
    ws.onopen = function () { retry = 0; ws.send(JSON.stringify({ token: token, after: cursor })); };
    ws.onmessage = function (e) {
      var d = JSON.parse(e.data);
      if (d.messages) show(d.messages);
      if (d.typing) {
        els.typing.textContent = (conf.name || "") + " " + t.typing;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { els.typing.textContent = ""; }, 4000);
      }
    };
    ws.onclose = function () {
      ws = null;
      retry = Math.min(retry + 1, 6);
      setTimeout(function () { catchUp().catch(function () {}); connect(); }, 500 * retry * retry);
    };
  }

  function start() {
    var saved = "";
    try { saved = localStorage.getItem(storeKey) || ""; } catch (e) { /* storage blocked */ }
    request("GET", "/config").then(function (c) {
      conf = c;
      pickLang(c.language);
      return request("POST", "/session", {
        token: saved || undefined,
        identifier: script.dataset.identifier || undefined,
        identifier_hash: script.dataset.identifierHash || undefined
      });
    }).then(function (s) {
      token = s.token;
      try { localStorage.setItem(storeKey, token); } catch (e) { /* storage blocked */ }
      build();
      where();
      setInterval(where, 2000); // a navigation of a single-page site changes the address only
      return catchUp();
    }).then(connect).catch(function (e) {
      if (window.console) console.warn("Adesso chat:", e.message);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
