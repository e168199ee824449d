/* Applies the state of a form's conditional fields that the server judged (lowcode/pages/form_layout.py):
   the hidden element #form-state holds one <span data-state-of=field data-visible data-required
   data-read-only> per field; the compute round trip swaps it out of band as the form changes. This file
   decides nothing: it shows or hides each field's wrapper and sets required / read-only as told. */
(function () {
  "use strict";

  function setReadOnly(control, readOnly) {
    var tag = control.tagName;
    var lockable = tag === "SELECT" || control.type === "checkbox" || control.type === "radio";
    if (lockable) control.disabled = readOnly;
    else control.readOnly = readOnly;
    if (control.tomselect) {
      if (readOnly) control.tomselect.lock();
      else control.tomselect.unlock();
    }
  }

  function apply(stateBox) {
    var form = stateBox.closest("form") || document;
    stateBox.querySelectorAll("[data-state-of]").forEach(function (item) {
      var name = item.getAttribute("data-state-of");
      var wrapper = form.querySelector('[data-field-wrapper="' + name + '"]');
      if (!wrapper) return;
      var visible = item.getAttribute("data-visible") === "1";
      var required = item.getAttribute("data-required") === "1";
      var readOnly = item.getAttribute("data-read-only") === "1";
      wrapper.hidden = !visible;
      var mark = wrapper.querySelector(".required-mark");
      if (mark) mark.hidden = !required;
      wrapper.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(function (control) {
        if (control.closest(".ts-wrapper") && !control.tomselect) return; // Tom Select's own search box
        if (control.closest("[data-child-table]")) {
          // rows keep their own required columns, but a hidden table must not block the save
          if (!visible && control.required) { control.dataset.wasRequired = "1"; control.required = false; }
          if (visible && control.dataset.wasRequired) { control.required = true; delete control.dataset.wasRequired; }
          return;
        }
        control.required = required && visible;
        setReadOnly(control, readOnly);
      });
    });
  }

  function setUp(root) {
    if (!root || !root.querySelectorAll) return;
    if (root.matches && root.matches("[data-form-state]")) apply(root);
    root.querySelectorAll("[data-form-state]").forEach(apply);
  }

  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail.target || event.detail.elt;
    if (target) setUp(target.isConnected ? target : document);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
})();
