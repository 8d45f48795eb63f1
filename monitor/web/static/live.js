// Live inbox: new alerts arrive as server-sent events carrying a row the server rendered
// (escaped by its templates); they are put on top of the table. Without JavaScript the
// inbox still works, it just needs a reload.
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  var rows = document.getElementById("alert-rows");
  if (!note || !rows || !window.EventSource || !note.dataset.events) { return; }
  var source = new EventSource(note.dataset.events);
  source.addEventListener("alert", function (event) {
    var data = JSON.parse(event.data);
    if (document.getElementById("alert-" + data.id)) { return; }
    var holder = document.createElement("tbody");
    holder.innerHTML = data.html;
    var row = holder.firstElementChild;
    if (row) { rows.insertBefore(row, rows.firstChild); }
    note.textContent = "New alert: " + data.title;
  });
  source.addEventListener("error", function () {
    note.textContent = "Live updates paused; reconnecting…";
  });
  source.addEventListener("open", function () {
    note.textContent = "New alerts appear here as they are raised.";
  });
}());
