/* Glue of the link picker and of forms computing as you type; no logic of their own.
   - Link pickers: Tom Select (npm tom-select) on <select class="link-picker" data-picker="URL">; options
     come a page at a time from the server (lowcode/pages/picker.py), searched and permission-filtered
     there (virtual_scroll plugin for the next pages).
   - Compute: a changed link's input name is added to the form's hidden "_changed" (names joined by
     commas) for the compute requests (lowcode/pages/compute.py fetches through each again); the names a
     request carried are taken out only once its answer came back, so a request replaced by a newer one
     (hx-sync) does not lose them. */
(function () {
  "use strict";

  function pageUrl(base, query, after) {
    var url = base + "?q=" + encodeURIComponent(query || "");
    return after ? url + "&after=" + encodeURIComponent(after) : url;
  }

  function text(el, name) {
    return el.getAttribute(name) || "";
  }

  function picker(el) {
    var base = el.getAttribute("data-picker");
    var ts = new window.TomSelect(el, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      maxOptions: null,
      preload: "focus",
      loadThrottle: 250,
      dropdownParent: "body", // not clipped by a scrolling lines table
      placeholder: text(el, "data-placeholder"),
      plugins: ["virtual_scroll", "clear_button"],
      firstUrl: function (query) { return pageUrl(base, query); },
      load: function (query, callback) {
        var self = this;
        fetch(self.getUrl(query), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) throw new Error(String(response.status));
            return response.json();
          })
          .then(function (body) {
            if (body.next) self.setNextUrl(query, pageUrl(base, query, body.next));
            callback(body.items);
          })
          .catch(function () { callback(); });
      },
      score: function () { return function () { return 1; }; },
      render: {
        option: function (item, escape) {
          var hint = item.hint ? ' <small class="text-body-secondary">' + escape(item.hint) + "</small>" : "";
          return "<div>" + escape(item.text) + hint + "</div>";
        },
        no_results: function (data, escape) {
          return '<div class="no-results">' + escape(text(el, "data-no-results")) + "</div>";
        },
        loading: function (data, escape) {
          return '<div class="loading">' + escape(text(el, "data-loading")) + "</div>";
        },
        loading_more: function (data, escape) {
          return '<div class="loading-more-results py-2">' + escape(text(el, "data-loading")) + "</div>";
        },
        no_more_results: function () { return ""; }
      }
    });
    // typing a search is not an edit of the form: keep it from starting a compute round trip
    ts.control_input.addEventListener("input", function (event) { event.stopPropagation(); });
  }

  function setUp(root) {
    if (!window.TomSelect || !root || !root.querySelectorAll) return;
    var found = root.matches && root.matches("select.link-picker[data-picker]") ? [root] : [];
    root.querySelectorAll("select.link-picker[data-picker]").forEach(function (el) { found.push(el); });
    found.forEach(function (el) {
      if (!el.tomselect && !el.closest("template")) picker(el);
    });
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!el.matches || !el.matches("select.link-picker") || !el.form) return;
    var changed = el.form.querySelector("input[name=_changed]");
    if (changed && names(changed.value).indexOf(el.name) < 0) {
      changed.value = names(changed.value).concat([el.name]).join(",");
    }
  }, true);

  function names(value) { return value ? value.split(",") : []; }

  function changedInput(elt) {
    var form = elt && elt.closest ? elt.closest("form") : null;
    return elt && elt.hasAttribute("data-compute") && form ? form.querySelector("input[name=_changed]") : null;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var changed = changedInput(event.detail.elt);
    if (changed) event.detail.elt.dataset.sentChanged = changed.value;
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var changed = changedInput(event.detail.elt);
    if (!changed || !event.detail.successful) return;
    var sent = names(event.detail.elt.dataset.sentChanged || "");
    changed.value = names(changed.value).filter(function (n) { return sent.indexOf(n) < 0; }).join(",");
  });

  window.lowcodePickers = { setUp: setUp };
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
