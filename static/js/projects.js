// Drag and drop on the task board. Dropping a card posts its new column and
// the card it now sits above; the server answers with the whole task region.
// Every move also has buttons on the card, so this script is only a shortcut.
// Escape in a task being edited, or asked about, puts the list back as it was.
(function () {
  "use strict";

  document.addEventListener("keyup", function (event) {
    if (event.key !== "Escape") return;
    var task = event.target.closest && event.target.closest("[data-cancel-url]");
    if (task) htmx.ajax("GET", task.dataset.cancelUrl, { target: "#task-region", swap: "outerHTML" });
  });

  var dragged = null;
  var origin = null; // where the card was, to put it back if the drag is abandoned

  function cardBelow(list, y) {
    var cards = list.querySelectorAll(".task[draggable='true']");
    for (var i = 0; i < cards.length; i++) {
      if (cards[i] === dragged) continue;
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return cards[i];
    }
    return null;
  }

  function clearDropTargets() {
    document.querySelectorAll(".board__column--drop").forEach(function (column) {
      column.classList.remove("board__column--drop");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".board .task[draggable='true']");
    if (!card) return;
    dragged = card;
    origin = { parent: card.parentNode, next: card.nextElementSibling };
    dragged.classList.add("task--dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.taskId);
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("task--dragging");
      if (origin) origin.parent.insertBefore(dragged, origin.next);
    }
    dragged = null;
    origin = null;
    clearDropTargets();
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var list = event.target.closest && event.target.closest(".board__cards");
    if (!list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearDropTargets();
    list.closest(".board__column").classList.add("board__column--drop");
    var below = cardBelow(list, event.clientY);
    list.insertBefore(dragged, below || list.querySelector(".board__empty"));
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var list = event.target.closest && event.target.closest(".board__cards");
    if (!list) return;
    event.preventDefault();
    var below = cardBelow(list, event.clientY);
    // Dropped where it started: nothing to save, and dragend puts it back.
    if (list === origin.parent && (below || list.querySelector(".board__empty")) === origin.next) return;
    origin = null;
    var values = { status: list.dataset.status };
    if (below) values.before = below.dataset.taskId;
    else values.end = "on";
    htmx.ajax("POST", dragged.dataset.statusUrl, {
      source: dragged,
      target: "#task-region",
      swap: "outerHTML",
      values: values,
    });
  });
})();
