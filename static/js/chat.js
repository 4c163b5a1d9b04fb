// Planning chat: Enter sends, Shift+Enter adds a line, the composer keeps
// focus and waits while a reply streams, copy buttons, search highlights,
// and the log stays pinned to the newest message.
(function () {
  "use strict";

  var chat, log, form, input, sendButton;
  var pinned = true;

  function isBusy() {
    return !!log.querySelector(".reply--pending");
  }

  function syncComposer() {
    var busy = isBusy();
    var empty = !input.value.trim();
    sendButton.disabled = busy || empty;
    form.classList.toggle("is-busy", busy);
    form.querySelector("[data-hint-idle]").hidden = busy;
    form.querySelector("[data-hint-busy]").hidden = !busy;
    var limit = parseInt(input.dataset.maxLength, 10);
    var count = form.querySelector("[data-count]");
    var length = input.value.length;
    count.hidden = !limit || length < limit * 0.8;
    count.textContent = length.toLocaleString() + " / " + limit.toLocaleString();
    count.classList.toggle("is-over", length > limit);
  }

  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 240) + "px";
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function nearEnd() {
    return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  }

  function highlight(root, term) {
    if (!term) return;
    var needle = term.toLowerCase();
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var hits = [];
    while (walker.nextNode()) {
      var node = walker.currentNode;
      if (node.parentNode.closest("mark, template, button, time")) continue;
      if (node.nodeValue.toLowerCase().indexOf(needle) !== -1) hits.push(node);
    }
    hits.forEach(function (node) {
      var text = node.nodeValue;
      var lower = text.toLowerCase();
      var fragment = document.createDocumentFragment();
      var at = 0;
      var found;
      while ((found = lower.indexOf(needle, at)) !== -1) {
        fragment.appendChild(document.createTextNode(text.slice(at, found)));
        var mark = document.createElement("mark");
        mark.textContent = text.slice(found, found + needle.length);
        fragment.appendChild(mark);
        at = found + needle.length;
      }
      fragment.appendChild(document.createTextNode(text.slice(at)));
      node.parentNode.replaceChild(fragment, node);
    });
  }

  function applyHighlights() {
    var messages = document.getElementById("messages");
    if (messages && messages.dataset.highlight) highlight(messages, messages.dataset.highlight);
  }

  function copy(button) {
    var source = document.querySelector(button.dataset.copy);
    if (!source) return;
    var text = source.content ? source.content.textContent : source.textContent;
    var label = button.querySelector("[data-copy-label]");
    function done(ok) {
      if (label) {
        label.textContent = ok ? "Copied" : "Copy failed";
        setTimeout(function () { label.textContent = "Copy"; }, 1800);
      }
      if (!ok && window.catalystToast) window.catalystToast("Could not copy. Select the text and copy it instead.", "error");
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
      area.remove();
      done(ok);
    }
  }

  // When a reply's event stream drops, say so at once; the stream resumes from what
  // the server holds when it is back. After a long outage, stop trying and offer to.
  var LONG_OUTAGE_MS = 30000;

  function connection(reply, state) {
    var note = reply.querySelector("[data-connection]");
    if (!note) return;
    reply.classList.toggle("reply--reconnecting", state !== "open");
    note.hidden = state === "open";
    note.querySelector("[data-connection-text]").textContent =
      state === "lost" ? "The connection to the server was lost." : "Reconnecting…";
    note.querySelector("[data-connection-retry]").hidden = state !== "lost";
    if (state === "open" || state === "lost") {
      clearTimeout(reply.outageTimer);
      reply.outageTimer = null;
    }
  }

  function watchConnections() {
    document.body.addEventListener("htmx:sseError", function (event) {
      var reply = event.target.closest && event.target.closest(".reply--pending");
      if (!reply || reply.dataset.connectionLost) return;
      connection(reply, "reconnecting");
      if (reply.outageTimer) return;
      var source = event.detail && event.detail.source;
      reply.outageTimer = setTimeout(function () {
        reply.dataset.connectionLost = "true";
        reply.removeAttribute("sse-connect");
        if (source) source.close();
        connection(reply, "lost");
      }, LONG_OUTAGE_MS);
    });
    document.body.addEventListener("htmx:sseOpen", function (event) {
      var reply = event.target.closest && event.target.closest(".reply--pending");
      if (reply) connection(reply, "open");
    });
    document.addEventListener("click", function (event) {
      var retry = event.target.closest("[data-connection-retry]");
      if (!retry) return;
      var reply = retry.closest(".reply");
      htmx.ajax("GET", reply.dataset.replyUrl, { target: reply, swap: "outerHTML" });
    });
  }

  function init() {
    chat = document.querySelector("[data-chat]");
    if (!chat) return;
    log = document.getElementById("chat-log");
    form = document.getElementById("composer");
    input = document.getElementById("composer-input");
    sendButton = form.querySelector(".composer__send");

    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      if (!sendButton.disabled) form.requestSubmit();
    });
    input.addEventListener("input", function () { autosize(); syncComposer(); });

    // What was typed after pressing Enter, while the message was on its way, stays.
    var sentText = "";
    form.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt === form) sentText = input.value;
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt !== form) return;
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status >= 200 && status < 300) {
        var empty = document.getElementById("chat-empty");
        if (empty) empty.remove();
        var typed = input.value;
        input.value = typed.indexOf(sentText) === 0 ? typed.slice(sentText.length).replace(/^\s+/, "") : typed;
        autosize();
        pinned = true;
        scrollToEnd();
        // A message sent from search results belongs to the conversation: show it there.
        var search = chat.querySelector(".chat-search input");
        if (search.value) {
          search.value = "";
          htmx.ajax("GET", search.form.getAttribute("action"), { target: "#chat-log", swap: "innerHTML" });
        }
      }
      input.focus();
      syncComposer();
    });

    log.addEventListener("scroll", function () { pinned = nearEnd(); }, { passive: true });
    new MutationObserver(function () {
      if (pinned) scrollToEnd();
      syncComposer();
    }).observe(log, { childList: true, subtree: true, characterData: true });

    // Loading earlier messages must not move what the reader is looking at.
    var fromBottom = null;
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "earlier") {
        fromBottom = log.scrollHeight - log.scrollTop;
        pinned = false;
      }
    });
    document.body.addEventListener("htmx:afterSettle", function (event) {
      if (fromBottom !== null) {
        log.scrollTop = log.scrollHeight - fromBottom;
        fromBottom = null;
      }
      if (event.detail.target === log) {
        applyHighlights();
        var searching = !!document.getElementById("messages").dataset.highlight;
        pinned = !searching;
        if (searching) log.scrollTop = 0;
        else scrollToEnd();
      }
      syncComposer();
    });

    document.addEventListener("click", function (event) {
      var copyButton = event.target.closest("[data-copy]");
      if (copyButton) { copy(copyButton); return; }
      var suggestion = event.target.closest("[data-suggestion]");
      if (suggestion) {
        input.value = suggestion.textContent.trim();
        autosize();
        syncComposer();
        input.focus();
        return;
      }
      if (event.target.closest("[data-search-clear]")) {
        var box = chat.querySelector(".chat-search input");
        if (box) box.value = "";
      }
      var cancel = event.target.closest("[data-confirm-cancel]");
      if (cancel) { cancel.closest("details").removeAttribute("open"); return; }
      document.querySelectorAll("details[data-confirm][open]").forEach(function (details) {
        if (!details.contains(event.target)) details.removeAttribute("open");
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        document.querySelectorAll("details[data-confirm][open]").forEach(function (details) { details.removeAttribute("open"); });
      }
    });

    watchConnections();
    applyHighlights();
    autosize();
    syncComposer();
    scrollToEnd();
    input.focus();
  }

  document.addEventListener("DOMContentLoaded", init);

  // The draft beside a new-project chat: the assistant's catching up never replaces the
  // panel under a field being typed in (leaving the field saves it, as the user wrote it).
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (!target || target.id !== "draft-panel" || path.indexOf("/refresh/") === -1) return;
    var field = document.activeElement;
    if (field && target.contains(field) && field.matches("input, textarea, select")) {
      event.detail.shouldSwap = false;
    }
  });
})();
