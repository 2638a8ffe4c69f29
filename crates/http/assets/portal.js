// The portal's only script: progressive enhancement. Every page works without it.
//  - Search as you type: an input with data-filter="<list id>" hides the list items
//    whose data-search text does not match, and updates the count named by
//    data-filter-status (an aria-live region, so screen readers hear the new count).
//  - Busy buttons: a submit button with data-busy shows that text while the form is
//    sent and ignores a second click (it stays focusable: aria-disabled, not disabled).
//  - Add all: a form with data-bulk sends its batches, call by call, to data-batch-url
//    (JSON, the form's CSRF token in the X-CSRF-Token header), shows a <progress> with
//    a live count, then the summary with focus on it. Any refusal or network error
//    falls back to posting the form itself, which does the same work on the server.
(function () {
  "use strict";

  function normalise(text) {
    return (text || "").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function setupFilter(input) {
    var list = document.getElementById(input.getAttribute("data-filter"));
    var status = document.getElementById(input.getAttribute("data-filter-status") || "");
    if (!list) { return; }
    var items = Array.prototype.slice.call(list.querySelectorAll("li[data-search]"));
    function apply() {
      var wanted = normalise(input.value);
      var digits = wanted.replace(/\s/g, "");
      var shown = 0;
      items.forEach(function (item) {
        var text = normalise(item.getAttribute("data-search"));
        var match = !wanted || text.indexOf(wanted) !== -1 ||
          (digits && text.replace(/\s/g, "").indexOf(digits) !== -1);
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      if (status) {
        var template = status.getAttribute(shown === 1 ? "data-one" : "data-other");
        if (template) { status.textContent = template.replace("{count}", String(shown)); }
      }
    }
    input.addEventListener("input", apply);
  }

  function setupBusy(form) {
    if (form.hasAttribute("data-bulk")) { return; }
    form.addEventListener("submit", function (event) {
      var button = form.querySelector("button[data-busy]");
      if (!button) { return; }
      if (button.getAttribute("aria-disabled") === "true") {
        event.preventDefault();
        return;
      }
      button.setAttribute("aria-disabled", "true");
      button.textContent = button.getAttribute("data-busy");
    });
  }

  function fill(template, values) {
    return (template || "").replace(/\{([a-z_]+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function number(value) {
    try {
      return value.toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "nb-NO");
    } catch (e) {
      return String(value);
    }
  }

  function element(tag, text) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    return node;
  }

  function setupBulk(form) {
    var section = form.parentNode;
    var progress = section.querySelector(".bulk-progress");
    var bar = progress && progress.querySelector("progress");
    var status = progress && progress.querySelector(".bulk-status");
    var result = section.querySelector(".bulk-result");
    var button = form.querySelector("button[type=submit]");
    var csrf = form.querySelector("input[name=csrf]");
    var query = form.querySelector("input[name=q]");
    if (!window.fetch || !progress || !bar || !status || !result || !button || !csrf) { return; }
    var running = false;

    function keepOpen(event) {
      event.preventDefault();
      event.returnValue = "";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (running) { return; }
      running = true;
      var total = parseInt(form.getAttribute("data-total"), 10) || 0;
      var tally = { attempted: 0, added: 0, failed: [] };
      button.setAttribute("aria-disabled", "true");
      button.textContent = button.getAttribute("data-busy");
      progress.hidden = false;
      result.hidden = true;
      window.addEventListener("beforeunload", keepOpen);

      function show() {
        var of = Math.max(total, tally.attempted);
        bar.max = Math.max(of, 1);
        bar.value = tally.attempted;
        status.textContent = fill(form.getAttribute("data-progress"),
          { done: number(tally.attempted), total: number(of) });
      }

      function fallBack() {
        window.removeEventListener("beforeunload", keepOpen);
        status.textContent = button.getAttribute("data-busy");
        form.submit();
      }

      function finish() {
        window.removeEventListener("beforeunload", keepOpen);
        running = false;
        progress.hidden = true;
        form.hidden = true;
        var complete = tally.failed.length === 0;
        result.textContent = "";
        result.className = "bulk-result alert " + (complete ? "success" : "warning");
        result.setAttribute("role", complete ? "status" : "alert");
        var summary = element("p");
        summary.appendChild(element("strong", fill(form.getAttribute("data-result"),
          { added: number(tally.added), total: number(tally.attempted) })));
        result.appendChild(summary);
        if (!complete) {
          result.appendChild(element("p", form.getAttribute("data-failed")));
          var list = element("ul");
          list.className = "missing-list";
          tally.failed.forEach(function (failure) {
            var item = element("li");
            item.appendChild(element("strong", failure.name));
            item.appendChild(document.createTextNode(": " + failure.reason));
            list.appendChild(item);
          });
          result.appendChild(list);
        }
        var again = element("p");
        var link = element("a", form.getAttribute("data-reload"));
        link.href = window.location.href.split("#")[0];
        again.appendChild(link);
        result.appendChild(again);
        result.hidden = false;
        result.focus();
      }

      function batch(offset) {
        fetch(form.getAttribute("data-batch-url"), {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf.value },
          body: JSON.stringify({ q: query ? query.value : "", offset: offset })
        }).then(function (response) {
          if (!response.ok) { throw new Error("batch refused: " + response.status); }
          return response.json();
        }).then(function (answer) {
          tally.attempted += answer.attempted;
          tally.added += answer.added;
          tally.failed = tally.failed.concat(answer.failed || []);
          show();
          if (answer.done || answer.next <= offset) {
            finish();
          } else {
            batch(answer.next);
          }
        }).catch(fallBack);
      }

      show();
      batch(0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-bulk]"), setupBulk);
    Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), setupFilter);
    Array.prototype.forEach.call(document.querySelectorAll("form"), setupBusy);
  });
})();
