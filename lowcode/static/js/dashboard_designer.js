/* The dashboard designer's drag and drop (SortableJS): the widget cards are reordered in the page and the
   layout form is posted on drop - its hidden "order" inputs follow the cards, so the server reads the new
   order from the form alone. Without SortableJS the "Save layout" button still posts widths and charts. */
(function () {
  "use strict";

  function setUp() {
    var form = document.querySelector("form.dashboard-layout-form[data-autosave]");
    var list = form && form.querySelector(".dashboard-widgets");
    if (!list || typeof Sortable === "undefined") return;
    Sortable.create(list, {
      draggable: ".widget-item",
      handle: ".card",
      filter: "select, button, option",
      preventOnFilter: false,
      animation: 150,
      onEnd: function (event) {
        if (event.oldIndex === event.newIndex) return;
        if (form.requestSubmit) form.requestSubmit();
        else form.submit();
      },
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
