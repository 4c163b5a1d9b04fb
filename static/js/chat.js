// Every chat on a page (a chat page, the assistant's panel, or both): Enter sends,
// Shift+Enter adds a line, the composer keeps focus and waits while a reply streams,
// what is typed is kept for the tab until it is sent, copy buttons, search highlights,
// and each log stays pinned to its newest message.
(function () {
  "use strict";

  var TYPED = "catalyst:typed:";

  function Chat(root) {
    this.root = root;
    this.log = root.querySelector("[data-chat-log]");
    this.form = root.querySelector("[data-composer]");
    this.input = this.form.querySelector("textarea");
    this.sendButton = this.form.querySelector(".composer__send");
    this.typedKey = TYPED + this.form.dataset.typedKey;
    this.pinned = true;
    this.sentText = "";
    root.chat = this;
    this.listen();
    this.restoreTyped();
    applyHighlights(root);
    this.autosize();
    this.sync();
    this.scrollToEnd();
    if (this.input.autofocus) this.input.focus();
  }

  Chat.prototype.isBusy = function () {
    return !!this.log.querySelector(".reply--pending");
  };

  Chat.prototype.sync = function () {
    var busy = this.isBusy();
    var input = this.input;
    this.sendButton.disabled = busy || !input.value.trim();
    this.form.classList.toggle("is-busy", busy);
    this.form.querySelector("[data-hint-idle]").hidden = busy;
    this.form.querySelector("[data-hint-busy]").hidden = !busy;
    var limit = parseInt(input.dataset.maxLength, 10);
    var count = this.form.querySelector("[data-count]");
    // The server's count: code points (String.length counts UTF-16 units, two for an emoji)
    // of the message stripped of what Python's str.strip() removes.
    var space = /[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
    var chars = Array.from(input.value);
    var first = 0;
    var end = chars.length;
    while (first < end && space.test(chars[first])) first++;
    while (end > first && space.test(chars[end - 1])) end--;
    var length = end - first;
    count.hidden = !limit || length < limit * 0.8;
    count.textContent = length.toLocaleString() + " / " + limit.toLocaleString();
    count.classList.toggle("is-over", length > limit);
  };

  Chat.prototype.autosize = function () {
    this.input.style.height = "auto";
    this.input.style.height = Math.min(this.input.scrollHeight, 240) + "px";
  };

  Chat.prototype.scrollToEnd = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Chat.prototype.nearEnd = function () {
    var log = this.log;
    return log.scrollHeight - log.scrollTop - log.clientHeight < 120;
  };

  // What is typed and not yet sent survives leaving the page, for this tab.
  Chat.prototype.keepTyped = function () {
    try {
      if (this.input.value.trim()) sessionStorage.setItem(this.typedKey, this.input.value);
      else sessionStorage.removeItem(this.typedKey);
    } catch (error) { /* storage full or off: nothing to keep */ }
  };

  Chat.prototype.restoreTyped = function () {
    var kept = null;
    try { kept = sessionStorage.getItem(this.typedKey); } catch (error) { kept = null; }
    if (kept && !this.input.value) this.input.value = kept;
  };

  Chat.prototype.fill = function (text) {
    this.input.value = text;
    this.autosize();
    this.sync();
    this.keepTyped();
    this.input.focus();
  };

  Chat.prototype.listen = function () {
    var self = this;
    var form = this.form;
    var input = this.input;

    input.addEventListener("keydown", function (event) {
      if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
      event.preventDefault();
      if (!self.sendButton.disabled) form.requestSubmit();
    });
    input.addEventListener("input", function () {
      self.autosize();
      self.sync();
      self.keepTyped();
    });

    // What was typed after pressing Enter, while the message was on its way, stays.
    form.addEventListener("htmx:beforeRequest", function (event) {
      if (event.detail.elt === form) self.sentText = input.value;
    });
    form.addEventListener("htmx:afterRequest", function (event) {
      if (event.detail.elt !== form) return;
      var status = event.detail.xhr ? event.detail.xhr.status : 0;
      if (status >= 200 && status < 300) {
        var empty = self.root.querySelector("[data-chat-empty]");
        if (empty) empty.remove();
        var typed = input.value;
        var sent = self.sentText;
        input.value = typed.indexOf(sent) === 0 ? typed.slice(sent.length).replace(/^\s+/, "") : typed;
        self.keepTyped();
        self.autosize();
        self.pinned = true;
        self.scrollToEnd();
        // A message sent from search results belongs to the conversation: show it there.
        var search = self.root.querySelector(".chat-search input");
        if (search && search.value) {
          search.value = "";
          htmx.ajax("GET", search.form.getAttribute("action"), { target: self.log, swap: "innerHTML" });
        }
      }
      input.focus();
      self.sync();
    });

    this.log.addEventListener("scroll", function () { self.pinned = self.nearEnd(); }, { passive: true });
    new MutationObserver(function () {
      if (self.pinned) self.scrollToEnd();
      self.sync();
    }).observe(this.log, { childList: true, subtree: true, characterData: true });
  };

  function chatOf(element) {
    var root = element && element.closest ? element.closest("[data-chat]") : null;
    return root && root.chat;
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

  function applyHighlights(root) {
    var messages = root.querySelector("[data-messages]");
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

  document.addEventListener("htmx:sseError", function (event) {
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
  document.addEventListener("htmx:sseOpen", function (event) {
    var reply = event.target.closest && event.target.closest(".reply--pending");
    if (reply) connection(reply, "open");
  });

  document.addEventListener("click", function (event) {
    var retry = event.target.closest("[data-connection-retry]");
    if (retry) {
      var reply = retry.closest(".reply");
      htmx.ajax("GET", reply.dataset.replyUrl, { target: reply, swap: "outerHTML" });
      return;
    }
    var copyButton = event.target.closest("[data-copy]");
    if (copyButton) { copy(copyButton); return; }
    var suggestion = event.target.closest("[data-suggestion]");
    if (suggestion && chatOf(suggestion)) {
      chatOf(suggestion).fill(suggestion.textContent.trim());
      return;
    }
    var clearSearch = event.target.closest("[data-search-clear]");
    if (clearSearch) {
      var box = clearSearch.closest("[data-chat]").querySelector(".chat-search input");
      if (box) box.value = "";
    }
    var cancel = event.target.closest("[data-confirm-cancel]");
    if (cancel) { cancel.closest("details").removeAttribute("open"); return; }
    document.querySelectorAll("details[data-confirm][open]").forEach(function (details) {
      if (!details.contains(event.target)) details.removeAttribute("open");
    });
  });

  // Escape closes an open confirmation first (and nothing else with the same key press).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelectorAll("details[data-confirm][open]");
    open.forEach(function (details) { details.removeAttribute("open"); });
    if (open.length) event.preventDefault();
  });

  // Loading earlier messages must not move what the reader is looking at.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var chat = chatOf(target);
    if (chat && target.hasAttribute("data-earlier")) {
      chat.fromBottom = chat.log.scrollHeight - chat.log.scrollTop;
      chat.pinned = false;
    }
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    // A swap may have replaced its own target (a reply that stopped): every composer looks again.
    document.querySelectorAll("[data-chat]").forEach(function (root) { if (root.chat) root.chat.sync(); });
    var chat = chatOf(event.detail.target);
    if (!chat) return;
    if (chat.fromBottom != null) {
      chat.log.scrollTop = chat.log.scrollHeight - chat.fromBottom;
      chat.fromBottom = null;
    }
    if (event.detail.target === chat.log) {
      applyHighlights(chat.root);
      var searching = !!chat.root.querySelector("[data-messages]").dataset.highlight;
      chat.pinned = !searching;
      if (searching) chat.log.scrollTop = 0;
      else chat.scrollToEnd();
    }
  });

  // A chat arrives with the page or later (the assistant's panel): each is set up once.
  htmx.onLoad(function (element) {
    var roots = element.matches && element.matches("[data-chat]") ? [element] : [];
    roots = roots.concat(Array.prototype.slice.call(element.querySelectorAll ? element.querySelectorAll("[data-chat]") : []));
    roots.forEach(function (root) {
      if (!root.chat) new Chat(root);
    });
  });

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
