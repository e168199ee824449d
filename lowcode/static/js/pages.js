/* Behaviour of the generic pages: child-table rows (add, remove, drag to reorder), confirmations,
   and full error pages for failed htmx requests. Works without htmx and without SortableJS. */
(function () {
  "use strict";
  var counter = 0;

  function newRowKey() {
    counter += 1;
    return "n" + Date.now().toString(36) + counter;
  }

  function setUp(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("[data-child-table]").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var body = box.querySelector(".child-rows");
      var template = box.querySelector("template.child-row-template");
      var add = box.querySelector("[data-add-row]");
      if (add && template && body) {
        add.addEventListener("click", function () {
          body.insertAdjacentHTML("beforeend", template.innerHTML.split("__row__").join(newRowKey()));
          if (window.lowcodePickers) window.lowcodePickers.setUp(body.lastElementChild);
          var first = body.lastElementChild && body.lastElementChild.querySelector("input:not([type=hidden]), select");
          if (first) first.focus();
        });
      }
      if (window.Sortable && body) {
        window.Sortable.create(body, { handle: ".drag-handle", animation: 150 });
      }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-row]");
    if (!button) return;
    var form = button.closest("form");
    button.closest("tr").remove();
    if (form) form.dispatchEvent(new Event("change", { bubbles: true }));
  });

  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);

  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && /<html/i.test(xhr.responseText || "")) {
      document.open();
      document.write(xhr.responseText);
      document.close();
    }
  });

  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();

/* Lists: "select all" rows for the bulk actions, and export links that follow the list's current
   filter and search (htmx updates the address, not the links). */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll('input[name="ids"][form="bulk-form"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export]");
    if (!link) return;
    var url = new URL(link.href, window.location.href);
    url.search = new URLSearchParams(window.location.search).toString();
    url.searchParams.delete("after");
    link.href = url.toString();
  });
})();

/* A select marked data-autosubmit submits its form when changed (the saved-views dropdown). */
document.addEventListener("change", function (event) {
  var select = event.target.closest("select[data-autosubmit]");
  if (select && select.form) select.form.submit();
});
