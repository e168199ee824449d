// The form designer's drag and drop (SortableJS): a field dragged within or between sections, or from the
// fields not on the form, is placed by posting the place form (field, section, position); the server saves it.
(function () {
  "use strict";

  function place(key, section, position) {
    var form = document.getElementById("place-form");
    if (!form) return;
    form.elements.field.value = key;
    form.elements.section.value = section;
    form.elements.position.value = String(position);
    form.submit();
  }

  function setUp() {
    if (typeof Sortable === "undefined") return;
    document.querySelectorAll(".form-section-fields").forEach(function (list) {
      Sortable.create(list, {
        group: { name: "form-fields", pull: true, put: ["form-fields", "unplaced"] },
        handle: ".drag-handle, a",
        animation: 120,
        onEnd: function (event) {
          if (event.from === event.to && event.oldIndex === event.newIndex) return;
          if (!event.to.classList.contains("form-section-fields")) return;
          place(event.item.dataset.key, event.to.dataset.section, event.newIndex);
        },
        onAdd: function (event) {
          if (event.from.id === "unplaced-fields") {
            place(event.item.dataset.key, event.to.dataset.section, event.newIndex);
          }
        },
      });
    });
    var unplaced = document.getElementById("unplaced-fields");
    if (unplaced) {
      Sortable.create(unplaced, { group: { name: "unplaced", pull: "clone", put: false }, sort: false, animation: 120 });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
