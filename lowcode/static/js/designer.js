// Glue of the designer pages: SortableJS for the field list and the palette, Ctrl+Z / Ctrl+Shift+Z for undo
// and redo. Every change is an ordinary form post the server validates and saves; this file only fills in
// which field moved where and submits.
(function () {
  "use strict";

  function submitMove(key, position) {
    var form = document.getElementById("move-form");
    if (!form) return;
    form.action = form.dataset.actionTemplate.replace("__KEY__", encodeURIComponent(key));
    form.elements.position.value = String(position);
    form.submit();
  }

  function submitDrop(type, position) {
    var form = document.getElementById("drop-form");
    if (!form) return;
    form.elements.type.value = type;
    form.elements.position.value = String(position);
    form.submit();
  }

  function setUpColumns() {
    var list = document.getElementById("column-list");
    var form = document.getElementById("column-move-form");
    if (!list || !form || typeof Sortable === "undefined") return;
    Sortable.create(list, {
      handle: ".drag-handle",
      animation: 120,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        form.elements.key.value = event.item.dataset.key;
        form.elements.position.value = String(event.newIndex);
        form.submit();
      },
    });
  }

  function setUpSortable() {
    setUpColumns();
    var list = document.getElementById("field-list");
    var palette = document.getElementById("field-palette");
    if (!list || typeof Sortable === "undefined") return;
    Sortable.create(list, {
      group: { name: "fields", pull: false, put: ["palette"] },
      handle: ".drag-handle, .field-link",
      animation: 120,
      onAdd: function (event) {
        var type = event.item.dataset.type;
        event.item.remove();
        submitDrop(type, event.newIndex);
      },
      onEnd: function (event) {
        if (event.from === list && event.to === list && event.oldIndex !== event.newIndex) {
          submitMove(event.item.dataset.key, event.newIndex);
        }
      },
    });
    if (palette) {
      Sortable.create(palette, {
        group: { name: "palette", pull: "clone", put: false },
        handle: ".drag-handle",
        sort: false,
        animation: 120,
      });
    }
  }

  // Settings forms marked data-autosave are saved as soon as one of their inputs changes (the button stays,
  // for keyboards and for pages without this script).
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosave") && !event.target.closest("[hx-post]")) form.submit();
  });

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey) || typing(event.target)) return;
    var key = event.key.toLowerCase();
    var id = null;
    if (key === "z" && !event.shiftKey) id = "undo-form";
    if ((key === "z" && event.shiftKey) || key === "y") id = "redo-form";
    var form = id && document.getElementById(id);
    if (!form) return;
    var button = form.querySelector("button");
    if (button && button.disabled) return;
    event.preventDefault();
    form.submit();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpSortable);
  } else {
    setUpSortable();
  }
})();
