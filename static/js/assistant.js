// The assistant's panel on every signed-in page: the header button and Ctrl+K (⌘K)
// open it, Escape and × close it. It stays open across page changes in this tab and
// keeps its place in the conversation; its chat is the same one as every chat page's
// (chat.js), loaded into the panel when it first opens on a page.
(function () {
  "use strict";

  var STATE = "catalyst:assistant";
  var panel, body, toggles, loaded = false;
  // Where the reader was in the conversation on the last page, until the panel is back there.
  var place = null;
  var afterLoad = null;

  function state() {
    try { return JSON.parse(sessionStorage.getItem(STATE) || "{}"); } catch (error) { return {}; }
  }

  function remember(changes) {
    var next = state();
    Object.keys(changes).forEach(function (key) { next[key] = changes[key]; });
    try { sessionStorage.setItem(STATE, JSON.stringify(next)); } catch (error) { /* storage off: forget */ }
  }

  function input() {
    return body.querySelector("[data-composer] textarea");
  }

  function log() {
    return body.querySelector("[data-chat-log]");
  }

  function load(then) {
    if (loaded) { if (then) then(); return; }
    loaded = true;
    afterLoad = then;
    htmx.ajax("GET", panel.dataset.url, { target: body, swap: "innerHTML" });
  }

  // Once the conversation is in and set up (chat.js), back to where the reader was.
  function settled(event) {
    if (event.detail.target !== body) return;
    var conversation = log();
    if (conversation && place && !place.pinned) {
      conversation.scrollTop = conversation.scrollHeight - place.fromBottom;
      var chat = conversation.closest("[data-chat]").chat;
      if (chat) chat.pinned = false;
    }
    place = null;
    if (afterLoad) afterLoad();
    afterLoad = null;
  }

  function failed(event) {
    if (event.detail.target !== body) return;
    loaded = false;
    body.innerHTML = '<p class="assistant__loading muted" role="status">The assistant could not be loaded. ' +
      '<button type="button" class="link-button" data-assistant-retry>Try again</button></p>';
  }

  function open(options) {
    panel.hidden = false;
    document.body.classList.add("has-assistant");
    if (options.instant) panel.classList.add("assistant--instant");
    requestAnimationFrame(function () { panel.classList.add("is-open"); });
    toggles.forEach(function (toggle) { toggle.setAttribute("aria-expanded", "true"); });
    remember({ open: true });
    load(function () {
      if (options.focus && input()) input().focus();
    });
  }

  function close() {
    panel.classList.remove("is-open", "assistant--instant");
    panel.hidden = true;
    document.body.classList.remove("has-assistant");
    toggles.forEach(function (toggle) { toggle.setAttribute("aria-expanded", "false"); });
    remember({ open: false });
    if (panel.contains(document.activeElement) || document.activeElement === document.body) {
      toggles[0].focus();
    }
  }

  function isOpen() {
    return !panel.hidden;
  }

  document.addEventListener("DOMContentLoaded", function () {
    panel = document.querySelector("[data-assistant]");
    if (!panel) return;
    body = panel.querySelector("#assistant-body");
    toggles = Array.prototype.slice.call(document.querySelectorAll("[data-assistant-toggle]"));

    toggles.forEach(function (toggle) {
      toggle.setAttribute("role", "button");
      toggle.addEventListener("click", function (event) {
        event.preventDefault();
        if (isOpen()) close(); else open({ focus: true });
      });
      toggle.addEventListener("keydown", function (event) {
        if (event.key === " ") { event.preventDefault(); toggle.click(); }  // a button's key, on a link made one
      });
    });
    panel.querySelector("[data-assistant-close]").addEventListener("click", close);
    panel.addEventListener("click", function (event) {
      if (event.target.closest("[data-assistant-retry]")) load();
    });

    document.addEventListener("keydown", function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
        event.preventDefault();
        if (isOpen() && panel.contains(document.activeElement)) close();
        else open({ focus: true });
        return;
      }
      // Escape closes the panel from inside it, or from nowhere in particular; never under a field of the page.
      if (event.key === "Escape" && isOpen() && !event.defaultPrevented &&
          (panel.contains(document.activeElement) || document.activeElement === document.body)) {
        close();
      }
    });

    // Where the reader is in the conversation is kept for the next page.
    body.addEventListener("scroll", function (event) {
      var conversation = event.target;
      if (place || !conversation.matches || !conversation.matches("[data-chat-log]")) return;
      var fromBottom = conversation.scrollHeight - conversation.scrollTop;
      remember({ fromBottom: fromBottom, pinned: fromBottom - conversation.clientHeight < 120 });
    }, true);

    document.addEventListener("htmx:afterSettle", settled);
    document.addEventListener("htmx:responseError", failed);
    document.addEventListener("htmx:sendError", failed);

    var kept = state();
    if (kept.fromBottom != null) place = { fromBottom: kept.fromBottom, pinned: kept.pinned };
    if (kept.open) open({ instant: true, focus: false });
  });
})();
