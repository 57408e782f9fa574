// The reply coach in the agent UI: as the agent types (debounced), the draft goes to
// the coach; flagged words are highlighted in a mirror under the textarea, reasons and
// rewrites are listed in the panel (one click applies a rewrite), and a reply that
// still has a serious finding asks for confirmation (or is blocked) on send.
(function () {
  "use strict";

  var DELAY = 250;
  var form, area, mirror, panel, timer, seq = 0, report = null, pending = null, bypass = false, lastShown = "";
  var dismissed = {}; // pattern + "\u0000" + words: findings the agent marked as not applicable

  function key(f) { return f.pattern + "\u0000" + f.words; }

  function shownFindings(r) {
    return r.findings.filter(function (f) { return !dismissed[key(f)]; });
  }

  function csrf() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function check() {
    var text = area.value;
    var mine = ++seq;
    var body = new URLSearchParams({ text: text });
    pending = fetch(form.getAttribute("data-coach-url"), {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
      if (mine !== seq || !data) return report;
      report = data;
      report.text = text;
      render();
      return report;
    }).catch(function () { return report; });
    return pending;
  }

  function schedule() {
    window.clearTimeout(timer);
    paint(null);
    timer = window.setTimeout(check, DELAY);
  }

  // The mirror shows the same text with <mark>s; the textarea above it is transparent.
  function paint(findings) {
    var text = area.value, html = "", at = 0;
    var spans = (findings || []).slice().sort(function (a, b) { return a.start - b.start; });
    spans.forEach(function (f, i) {
      if (f.start < at || f.end > text.length) return;
      html += escapeHtml(text.slice(at, f.start));
      html += '<mark class="coach-mark coach-' + f.severity + '" data-i="' + i + '">' +
        escapeHtml(text.slice(f.start, f.end)) + "</mark>";
      at = f.end;
    });
    mirror.innerHTML = html + escapeHtml(text.slice(at)) + "\n";
    mirror.scrollTop = area.scrollTop;
  }

  function render() {
    var current = report && report.text === area.value ? report : null;
    var findings = current ? shownFindings(current) : [];
    paint(current ? findings : null);
    var list = document.getElementById("coach-findings");
    var checks = document.getElementById("coach-checks");
    var idle = document.getElementById("coach-idle");
    var score = document.getElementById("coach-score");
    var shown = current ? findings.map(function (f) { return f.pattern + f.start; }).join() : "";
    if (shown !== lastShown) panel.scrollTop = 0; // new findings: show the first one
    lastShown = shown;
    list.innerHTML = "";
    checks.innerHTML = "";
    if (!current || !area.value.trim()) { idle.hidden = false; score.textContent = ""; return; }
    idle.hidden = true;
    score.textContent = panel.getAttribute("data-label-score") + " " + current.score.total;
    score.className = "coach-score " + (current.score.total >= 80 ? "good" : current.score.total >= 50 ? "fair" : "poor");
    if (!findings.length) {
      var ok = document.createElement("li");
      ok.className = "coach-clean";
      ok.textContent = panel.getAttribute("data-label-clean");
      list.appendChild(ok);
    }
    findings.forEach(function (f) {
      var li = document.createElement("li");
      li.className = "coach-finding coach-" + f.severity;
      li.setAttribute("data-pattern", f.pattern);
      li.innerHTML = '<p class="coach-label">' + escapeHtml(f.label) + "</p>" +
        '<p class="coach-words">«' + escapeHtml(f.words) + "»</p>" +
        '<p class="coach-reason">' + escapeHtml(f.reason) + "</p>" +
        (f.suggestion ? '<p class="coach-suggestion"><span class="muted small">' +
          escapeHtml(panel.getAttribute("data-label-suggest")) + ":</span> " + escapeHtml(f.suggestion) +
          ' <button type="button" class="coach-apply">' + escapeHtml(panel.getAttribute("data-label-apply")) +
          "</button></p>" : "") +
        '<p class="coach-rule muted small" title="' + escapeHtml(f.rule) + '">' +
        escapeHtml(panel.getAttribute("data-label-rule")) + ": " + escapeHtml(f.pattern) +
        (panel.getAttribute("data-dismiss-url") ? ' <button type="button" class="coach-dismiss link" title="' +
          escapeHtml(panel.getAttribute("data-label-dismiss-title")) + '">' +
          escapeHtml(panel.getAttribute("data-label-dismiss")) + "</button>" : "") + "</p>";
      var apply = li.querySelector(".coach-apply");
      if (apply) apply.addEventListener("click", function () { applyRewrite(f); });
      var dismiss = li.querySelector(".coach-dismiss");
      if (dismiss) dismiss.addEventListener("click", function () { dismissFinding(f); });
      list.appendChild(li);
    });
    current.score.checks.forEach(function (c) {
      if (!c.expected && !c.met) return;
      var li = document.createElement("li");
      li.className = c.met ? "met" : "missing";
      li.textContent = (c.met ? "✓ " : "✗ ") + c.label;
      if (c.hint) li.title = c.hint;
      checks.appendChild(li);
    });
  }

  // The rewrite takes the place of the whole sentence(s) holding the flagged words.
  function applyRewrite(f) {
    var text = area.value;
    if (text.slice(f.start, f.end) !== f.words) return;
    var from = f.replace_end > f.replace_start ? f.replace_start : f.start;
    var to = f.replace_end > f.replace_start ? f.replace_end : f.end;
    area.value = text.slice(0, from) + f.suggestion + text.slice(to);
    area.focus();
    var caret = from + f.suggestion.length;
    area.setSelectionRange(caret, caret);
    schedule();
  }

  // One click: the finding does not apply here. Hidden at once, recorded on the server.
  function dismissFinding(f) {
    dismissed[key(f)] = true;
    render();
    fetch(panel.getAttribute("data-dismiss-url"), {
      method: "POST", body: new URLSearchParams({ pattern: f.pattern, layer: f.layer || "",
        text: area.value.slice(f.replace_start || f.start, f.replace_end || f.end) }),
      credentials: "same-origin", headers: { "X-CSRFToken": csrf(), "Accept": "application/json" }
    }).catch(function () { /* the finding stays hidden; only the count is lost */ });
  }

  function serious() {
    return report && report.text === area.value ?
      shownFindings(report).filter(function (f) { return f.severity === "serious"; }) : [];
  }

  function confirmSend(button) {
    var found = serious();
    if (!found.length) return true;
    var dialog = document.getElementById("coach-dialog");
    var blocked = report.on_send === "block";
    var title = document.getElementById("coach-dialog-title");
    title.textContent = title.getAttribute(blocked ? "data-block" : "data-warn");
    var list = document.getElementById("coach-dialog-list");
    list.innerHTML = "";
    found.forEach(function (f) {
      var li = document.createElement("li");
      li.innerHTML = "<strong>" + escapeHtml(f.label) + "</strong>: «" + escapeHtml(f.words) + "»";
      list.appendChild(li);
    });
    document.getElementById("coach-send-anyway").hidden = blocked;
    document.getElementById("coach-send-anyway").onclick = function () {
      document.getElementById("coach-confirmed").value = "1";
      dialog.close();
      form.requestSubmit(button);
    };
    document.getElementById("coach-edit").onclick = function () { dialog.close(); area.focus(); };
    dialog.showModal();
    return false;
  }

  function onSubmit(e) {
    var button = e.submitter;
    if (bypass || !button || button.id !== "reply-button" || !area.value.trim()) return;
    if (document.getElementById("coach-confirmed").value === "1") return;
    if (report && report.text === area.value) {
      var all = report.findings.filter(function (f) { return f.severity === "serious"; });
      if (all.length && !serious().length) document.getElementById("coach-confirmed").value = "1";
      if (report.on_send === "off" || confirmSend(button)) return;
      e.preventDefault();
      return;
    }
    // Not coached yet (sent right after typing): ask the coach first.
    e.preventDefault();
    window.clearTimeout(timer);
    check().then(function () {
      // No answer from the coach: the server checks the reply again anyway.
      if (!report || report.text !== area.value) bypass = true;
      form.requestSubmit(button);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("reply-form");
    area = document.getElementById("reply-text");
    mirror = document.getElementById("coach-mirror");
    panel = document.getElementById("coach-panel");
    if (!form || !area || !mirror || !panel || !form.getAttribute("data-coach-url")) return;
    form.classList.add("coach-on");
    area.addEventListener("input", schedule);
    area.addEventListener("scroll", function () { mirror.scrollTop = area.scrollTop; });
    form.addEventListener("submit", onSubmit);
    check(); // with an empty draft this only wakes the coach up on the server
  });
})();
