// Progressive enhancement only: every page works without this file.
//  - the phone menu: a toggle button with aria-expanded (without JS the links
//    simply wrap);
//  - the time zone: the browser's zone goes into the portal_tz cookie when it
//    is missing, so from the next page on dates are in local time (the server
//    checks the name; the preferences page changes it; the first page, in
//    UTC, says so in its footer);
//  - after every htmx swap, focus moves to the updated region and the first
//    message in it (or its data-announce) is announced in #live-region;
//  - aria-busy on the requesting region while a request runs;
//  - htmx does not swap error answers (403, 404, 5xx): say what happened
//    instead of leaving the page silently unchanged.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  // --- Time zone -------------------------------------------------------------
  var TZ_COOKIE = "portal_tz";
  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return null;
  }
  try {
    if (readCookie(TZ_COOKIE) === null && window.Intl && Intl.DateTimeFormat) {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (zone && /^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) {
        var secure = window.location.protocol === "https:" ? "; Secure" : "";
        document.cookie = TZ_COOKIE + "=" + zone +
          "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
      }
    }
  } catch (e) { /* cookies blocked: dates stay in UTC, which the footer says */ }

  // --- Phone menu --------------------------------------------------------------
  function setupNav() {
    var nav = document.getElementById("site-nav");
    if (!nav) { return; }
    var button = nav.querySelector(".nav-toggle");
    if (!button) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
      if (open) {
        var first = nav.querySelector(".site-nav-menu a");
        if (first) { first.focus(); }
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("is-open")) {
        nav.classList.remove("is-open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  // --- Announcements and focus after swaps ----------------------------------------
  function announce(text) {
    var live = document.getElementById("live-region");
    if (!live || !text) { return; }
    // Clear first so the same words twice in a row are announced again.
    live.textContent = "";
    window.setTimeout(function () { live.textContent = text; }, 50);
  }

  function focusRegion(region) {
    if (!region || !region.isConnected) { return; }
    // htmx (or the fragment's own autofocus) already put focus inside: keep it.
    if (document.activeElement && document.activeElement !== document.body &&
        region.contains(document.activeElement)) { return; }
    var target = region.querySelector("[autofocus]") || region;
    if (target === region && !region.hasAttribute("tabindex") &&
        !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(region.tagName)) {
      region.setAttribute("tabindex", "-1");
    }
    target.focus({ preventScroll: false });
  }

  function regionOf(event) {
    // After an outerHTML swap the old target is gone: find its replacement by id.
    var detail = event.detail || {};
    var target = detail.target || detail.elt;
    if (target && !target.isConnected && target.id) {
      target = document.getElementById(target.id);
    }
    if (!target || !target.isConnected) {
      var elt = detail.elt;
      target = elt && elt.isConnected ? elt : null;
    }
    return target;
  }

  var busy = [];
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = document.getElementById("request-error");
    if (box) { box.hidden = true; }
    var target = event.detail && event.detail.target;
    if (target) {
      target.setAttribute("aria-busy", "true");
      busy.push(target);
    }
  });
  function clearBusy() {
    while (busy.length) {
      var el = busy.pop();
      if (el && el.removeAttribute) { el.removeAttribute("aria-busy"); }
    }
    var stale = document.querySelectorAll("[aria-busy='true']");
    for (var i = 0; i < stale.length; i++) { stale[i].removeAttribute("aria-busy"); }
  }
  document.addEventListener("htmx:afterRequest", clearBusy);

  document.addEventListener("htmx:afterSettle", function (event) {
    clearBusy();
    var region = regionOf(event);
    if (!region) { return; }
    var message = region.querySelector(".message");
    if (!message && region.matches && region.matches(".message")) { message = region; }
    var text = message ? message.textContent.trim() : "";
    if (!text) {
      var holder = region.closest ? region.closest("[data-announce]") : null;
      if (!holder && region.querySelector) { holder = region.querySelector("[data-announce]"); }
      text = holder ? holder.getAttribute("data-announce") : "";
    }
    focusRegion(region);
    announce(text);
  });

  // --- Error answers ---------------------------------------------------------------
  // The words come from data-* attributes of #request-error (translated by the template).
  function words(name, fallback) {
    var box = document.getElementById("request-error");
    return (box && box.getAttribute("data-" + name)) || fallback;
  }
  function show(text) {
    var box = document.getElementById("request-error");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = false;
    box.setAttribute("tabindex", "-1");
    box.focus();
  }
  document.addEventListener("htmx:responseError", function (event) {
    clearBusy();
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 403) {
      show(words("error-403", "Your request could not be checked, so nothing was changed. Reload the page and try again."));
    } else if (status === 404) {
      show(words("error-404", "That conversation is not in your history. Nothing was changed."));
    } else {
      show(words("error-other", "Something went wrong (%s). Nothing was changed; please reload the page.").replace("%s", String(status)));
    }
  });
  document.addEventListener("htmx:sendError", function () {
    clearBusy();
    show(words("error-network", "The portal could not be reached. Check your connection and try again."));
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupNav);
  } else {
    setupNav();
  }
})();
