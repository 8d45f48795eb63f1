// Live inbox: new alerts arrive as server-sent events carrying a row the server rendered
// (escaped by its templates); they are put on top of the table and the count of rows above
// it follows. The stream sends only alerts that pass the page's filters, so the count stays
// the number of alerts listed; should the count be missing, the note says rows were added.
// Without JavaScript the inbox still works, it just needs a reload.
(function () {
  "use strict";
  var note = document.getElementById("live-note");
  var rows = document.getElementById("alert-rows");
  if (!note || !rows || !window.EventSource || !note.dataset.events) { return; }
  var count = document.getElementById("alert-count");
  var empty = document.getElementById("no-alerts");

  function recount() {
    var listed = rows.querySelectorAll("tr[id^='alert-']").length;
    if (count) {
      count.textContent = listed + (listed === 1 ? " alert" : " alerts");
    } else {
      note.textContent = "New alerts added above.";
    }
    if (empty) { empty.hidden = true; }
  }

  function announce(title) {
    // the title in its own <bdi>: a title in Arabic script cannot reorder the words before it
    var name = document.createElement("bdi");
    name.textContent = title || "(untitled)";
    note.textContent = "New alert: ";
    note.appendChild(name);
  }

  var source = new EventSource(note.dataset.events);
  source.addEventListener("alert", function (event) {
    var data = JSON.parse(event.data);
    if (document.getElementById("alert-" + data.id)) { return; }
    var holder = document.createElement("tbody");
    holder.innerHTML = data.html;
    var row = holder.firstElementChild;
    if (!row) { return; }
    rows.insertBefore(row, rows.firstChild);
    announce(data.title);
    recount();
  });
  source.addEventListener("error", function () {
    note.textContent = "Live updates paused; reconnecting…";
  });
  source.addEventListener("open", function () {
    note.textContent = "New alerts appear here as they are raised.";
  });
}());
