// The agent's workspace: canned replies typed with "/" in the reply box, files attached
// to a reply, and the inbox's checkboxes for bulk actions.
(function () {
  "use strict";

  // -- Canned replies --------------------------------------------------------------------
  // Typing "/" at the start of a word opens the list, filtered by what follows; arrows and
  // Enter/Tab or a click insert the reply, already filled in for this conversation by the
  // server. The insertion fires an `input` event, so the reply coach judges it like any text.
  var form, area, picker, list, items = null, loading = null, shown = [], active = 0, dismissed = -1;

  function token() {
    var pos = area.selectionStart;
    if (pos !== area.selectionEnd) return null;
    var match = /(^|\s)\/([^\s\/]*)$/.exec(area.value.slice(0, pos));
    if (!match) return null;
    return { start: pos - match[2].length - 1, query: match[2].toLowerCase() };
  }

  function load() {
    if (!loading) {
      loading = fetch(form.getAttribute("data-canned-url"), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (data) { items = data.items; })
        .catch(function () { loading = null; });
    }
    return loading;
  }

  function matches(item, query) {
    if (!query) return true;
    var hay = (item.shortcut + " " + item.title + " " + item.text).toLowerCase();
    return query.split(/[\s_-]+/).every(function (word) { return hay.indexOf(word) !== -1; });
  }

  function hide() {
    picker.hidden = true;
    area.setAttribute("aria-expanded", "false");
    area.removeAttribute("aria-activedescendant");
  }

  function highlight(i) {
    active = i;
    Array.prototype.forEach.call(list.children, function (li, n) {
      li.setAttribute("aria-selected", n === i ? "true" : "false");
      if (n === i) {
        area.setAttribute("aria-activedescendant", li.id);
        li.scrollIntoView({ block: "nearest" });
      }
    });
  }

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function show(query) {
    var starts = function (item) { return item.shortcut.indexOf(query) === 0 ? 0 : 1; };
    shown = items.filter(function (item) { return matches(item, query); })
      .map(function (item, n) { return { item: item, n: n }; })
      .sort(function (a, b) { return starts(a.item) - starts(b.item) || a.n - b.n; })
      .map(function (x) { return x.item; });
    list.innerHTML = "";
    if (!shown.length) {
      var empty = document.createElement("li");
      empty.className = "canned-empty muted small";
      empty.textContent = list.getAttribute(items.length ? "data-label-empty" : "data-label-none");
      list.appendChild(empty);
    }
    shown.forEach(function (item, i) {
      var li = document.createElement("li");
      li.id = "canned-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("data-shortcut", item.shortcut);
      li.appendChild(span("canned-shortcut", "/" + item.shortcut));
      li.appendChild(span("canned-title", item.title));
      li.appendChild(span("badge", item.language.toUpperCase()));
      li.appendChild(span("badge canned-scope", list.getAttribute(item.shared ? "data-label-shared" : "data-label-personal")));
      li.appendChild(span("canned-preview", item.text));
      // mousedown, not click: the textarea keeps the focus and the caret.
      li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(item); });
      li.addEventListener("mousemove", function () { if (active !== i) highlight(i); });
      list.appendChild(li);
    });
    picker.hidden = false;
    area.setAttribute("aria-expanded", "true");
    highlight(0);
  }

  function update() {
    var t = token();
    if (!t || t.start === dismissed) { hide(); return; }
    dismissed = -1;
    if (items) { show(t.query); return; }
    load().then(function () { if (items && token()) update(); });
  }

  function choose(item) {
    var t = token();
    var end = area.selectionStart;
    var start = t ? t.start : end;
    area.value = area.value.slice(0, start) + item.text + area.value.slice(end);
    var caret = start + item.text.length;
    area.focus();
    area.setSelectionRange(caret, caret);
    hide();
    area.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function onKey(e) {
    if (picker.hidden || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (shown.length) highlight((active + (e.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length);
    } else if ((e.key === "Enter" || e.key === "Tab") && shown.length) {
      e.preventDefault();
      e.stopPropagation();
      choose(shown[active]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      var t = token();
      dismissed = t ? t.start : -1;
      hide();
    }
  }

  function setUpCanned() {
    form = document.getElementById("reply-form");
    area = document.getElementById("reply-text");
    picker = document.getElementById("canned-picker");
    list = document.getElementById("canned-list");
    if (!form || !area || !picker || !list || !form.getAttribute("data-canned-url")) return;
    area.setAttribute("aria-autocomplete", "list");
    area.setAttribute("aria-controls", "canned-list");
    area.setAttribute("aria-expanded", "false");
    area.addEventListener("input", update);
    area.addEventListener("keydown", onKey);
    area.addEventListener("click", update);
    area.addEventListener("blur", function () { window.setTimeout(hide, 150); });
    var files = document.getElementById("reply-files");
    var names = document.getElementById("reply-files-names");
    if (files && names) {
      files.addEventListener("change", function () {
        names.textContent = Array.prototype.map.call(files.files, function (f) { return f.name; }).join(", ");
      });
    }
  }

  // -- Bulk actions in the inbox -----------------------------------------------------------
  // Row checkboxes belong to the bar's form (form="bulk-form"); the list is swapped in
  // live, so the selection is carried over each swap.
  var kept = null;

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll('input[name="codes"][form="bulk-form"]'));
  }

  function refreshBar() {
    var bar = document.getElementById("bulk-form");
    if (!bar) return;
    var all = boxes();
    var picked = all.filter(function (b) { return b.checked; });
    bar.hidden = picked.length === 0;
    var count = document.getElementById("bulk-count");
    count.textContent = String(picked.length);
    var pickAll = document.getElementById("pick-all");
    if (pickAll) {
      pickAll.checked = all.length > 0 && picked.length === all.length;
      pickAll.indeterminate = picked.length > 0 && picked.length < all.length;
    }
    all.forEach(function (b) {
      var row = b.closest("tr");
      if (row) row.classList.toggle("picked", b.checked);
    });
    if (!picked.some(function (b) { var row = b.closest("tr"); return row && row.classList.contains("waiting"); })) {
      document.getElementById("bulk-reason-wrap").hidden = true;
    }
  }

  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t.id === "pick-all") {
      boxes().forEach(function (b) { b.checked = t.checked; });
      refreshBar();
    } else if (t.name === "codes" && t.getAttribute("form") === "bulk-form") {
      refreshBar();
    }
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target && e.detail.target.id === "inbox-list") {
      kept = boxes().filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    }
  });
  // Restored as soon as the new list is in the page, in the same task as the swap: the
  // settle step runs later (a timer), and a click on a bar button in between would
  // submit a selection the new, unchecked boxes no longer hold.
  document.addEventListener("htmx:afterSwap", function () {
    if (kept === null) return;
    boxes().forEach(function (b) { b.checked = kept.indexOf(b.value) !== -1; });
    kept = null;
    refreshBar();
  });

  document.addEventListener("submit", function (e) {
    if (!e.target || e.target.id !== "bulk-form") return;
    var action = e.submitter ? e.submitter.value : "";
    if (!boxes().some(function (b) { return b.checked; })) {
      // Nothing picked (the bar is hidden then): nothing to send.
      e.preventDefault();
      refreshBar();
    } else if (action === "tag") {
      var tag = document.getElementById("bulk-tag");
      if (!tag.value.trim()) { e.preventDefault(); tag.focus(); }
    } else if (action === "resolve") {
      // Unanswered customers among the selection: one reason for all, asked here first.
      var waiting = boxes().some(function (b) {
        var row = b.closest("tr");
        return b.checked && row && row.classList.contains("waiting");
      });
      var reason = document.getElementById("bulk-reason-input");
      if (waiting && !reason.value.trim()) {
        e.preventDefault();
        document.getElementById("bulk-reason-wrap").hidden = false;
        reason.focus();
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    setUpCanned();
    refreshBar();
  });
})();
