/* The kanban board: drag a card to another column to move it (the server takes the workflow step or
   updates the field); a refused move puts the card back and shows the reason. Needs SortableJS. */
(function () {
  "use strict";
  var board = document.querySelector("[data-kanban]");
  if (!board || !window.Sortable || !board.hasAttribute("data-movable")) return;
  var message = document.getElementById("board-message");

  function say(text) {
    if (!message) return;
    message.textContent = text || "";
    message.classList.toggle("d-none", !text);
  }

  function shift(column, by) {
    var badge = column.closest(".kanban-column").querySelector("[data-count]");
    if (badge) badge.textContent = String(parseInt(badge.textContent, 10) + by);
  }

  function back(event) {
    var before = event.from.children[event.oldIndex] || null;
    event.from.insertBefore(event.item, before);
  }

  board.querySelectorAll(".kanban-cards").forEach(function (list) {
    window.Sortable.create(list, {
      group: "kanban", animation: 150, sort: false,
      onEnd: function (event) {
        if (event.from === event.to) return;
        var card = event.item;
        var body = new URLSearchParams();
        body.set("to", event.to.dataset.column);
        body.set("version", card.dataset.version);
        body.set("csrf_token", board.dataset.csrf);
        say("");
        fetch(card.dataset.moveUrl, {
          method: "POST", body: body, credentials: "same-origin",
          headers: { "X-CSRF-Token": board.dataset.csrf, "Accept": "application/json" }
        }).then(function (response) {
          return response.json().catch(function () { return { ok: false, reason: response.statusText }; });
        }).then(function (answer) {
          if (answer.ok) {
            card.dataset.version = answer.version;
            shift(event.from, -1);
            shift(event.to, 1);
          } else {
            back(event);
            say(answer.reason);
          }
        }).catch(function () { back(event); say(board.dataset.failed || "The move failed"); });
      }
    });
  });
})();
