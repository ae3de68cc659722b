// The confirmation dialog of the destructive-action contract (templates/_confirm.html).
// Progressive enhancement only: without this file the server's confirmation
// page does the same job. An htmx answer swapped into #confirm-dialog-body
// opens the <dialog> as a modal (the page behind becomes inert, so focus stays
// inside); Escape or Cancel closes it and focus returns to the button that
// asked; a request from inside the dialog that succeeds closes it.
(function () {
  "use strict";
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
    "select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
  var trigger = null;

  function dialog() { return document.getElementById("confirm-dialog"); }
  function body() { return document.getElementById("confirm-dialog-body"); }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = dialog();
    var elt = event.detail.elt;
    if (box && box.contains(elt)) {
      if (event.detail.xhr) { event.detail.xhr.fromConfirmDialog = true; }
      return;  // keep the button that opened the dialog
    }
    var active = document.activeElement;
    trigger = active && active !== document.body && elt.contains(active) ? active : elt;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var box = dialog();
    var target = body();
    if (!box || !target || event.detail.target !== target) { return; }
    if (!box.open) { box.showModal(); }
    var first = target.querySelector("[data-autofocus]") || target.querySelector(FOCUSABLE);
    if (first) { first.focus(); }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var box = dialog();
    var xhr = event.detail.xhr;
    if (!box || !box.open || !xhr || !xhr.fromConfirmDialog) { return; }
    var target = event.detail.target;
    if (event.detail.successful && !(target && box.contains(target))) {
      trigger = null;  // the action ran: the page moves focus to what it updated
      box.close();
    }
  });

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest ? event.target.closest("[data-confirm-cancel]") : null;
    var box = dialog();
    if (cancel && box && box.contains(cancel)) {
      event.preventDefault();
      box.close();
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = dialog();
    if (!box) { return; }
    box.addEventListener("close", function () {
      var target = body();
      if (target) { target.innerHTML = ""; }
      if (trigger && document.contains(trigger)) { trigger.focus(); }
      trigger = null;
    });
  });
})();
