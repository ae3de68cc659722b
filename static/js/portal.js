// Progressive enhancement only: every page works without this file.
// htmx does not swap error answers (403, 404, 5xx); say what happened instead
// of leaving the page silently unchanged.
(function () {
  "use strict";
  function show(text) {
    var box = document.getElementById("request-error");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 403) {
      show("Your request could not be checked, so nothing was changed. Reload the page and try again.");
    } else if (status === 404) {
      show("That conversation is not in your history. Nothing was changed.");
    } else {
      show("Something went wrong (" + status + "). Nothing was changed; please reload the page.");
    }
  });
  document.addEventListener("htmx:sendError", function () {
    show("The portal could not be reached. Check your connection and try again.");
  });
  document.addEventListener("htmx:beforeRequest", function () {
    var box = document.getElementById("request-error");
    if (box) { box.hidden = true; }
  });
})();
