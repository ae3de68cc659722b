// The conversation list: "Select all on this page" ticks every row's box.
// Without JavaScript the box stays hidden and "Select all N matching" (a
// plain checkbox the server understands) covers the same need.
(function () {
  "use strict";
  function boxes(form) { return form.querySelectorAll("input[type=checkbox][name=ids]"); }
  function setup(root) {
    var all = root.querySelector("[data-select-all]");
    if (!all || all.dataset.bound) { return; }
    all.dataset.bound = "1";
    all.closest("[data-select-page]").hidden = false;
    var form = all.closest("form");
    all.addEventListener("change", function () {
      boxes(form).forEach(function (box) { box.checked = all.checked; });
    });
    form.addEventListener("change", function (event) {
      if (event.target.name !== "ids") { return; }
      var list = Array.prototype.slice.call(boxes(form));
      all.checked = list.length > 0 && list.every(function (box) { return box.checked; });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { setup(document); });
  document.addEventListener("htmx:load", function (event) {
    if (event.detail.elt && event.detail.elt.querySelector) { setup(event.detail.elt); }
  });
})();
