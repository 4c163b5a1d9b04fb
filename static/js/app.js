// Site-wide behaviour: toasts (from Django messages and HX-Trigger "toast"
// events), closing the account menu on outside clicks and popover menus once used.
(function () {
  "use strict";

  var MAX_TOASTS = 3;

  function dismiss(toast) {
    toast.classList.add("toast--leaving");
    setTimeout(function () { toast.remove(); }, 300);
  }

  // Each toast closes itself after a while, waits while hovered or focused,
  // and has a close button; only the newest few stay on screen.
  function arm(toast) {
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", function () { dismiss(toast); });
    toast.appendChild(close);
    var timer = null;
    function start() { timer = setTimeout(function () { dismiss(toast); }, 4500); }
    function pause() { clearTimeout(timer); }
    toast.addEventListener("mouseenter", pause);
    toast.addEventListener("focusin", pause);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusout", start);
    start();
  }

  // The control in use: the focused field's form (the composer, the task form), or what was
  // last pressed (Safari does not focus a pressed button).
  var pressed = null;
  document.addEventListener("pointerdown", function (event) {
    pressed = event.target.closest ? event.target.closest("button, a, input, select, textarea, summary, label") : null;
  }, true);

  function controlInUse() {
    var active = document.activeElement;
    var control = active && active !== document.body && active !== document.documentElement ? active : pressed;
    if (!control || !control.isConnected) return null;
    return control.closest("form") || control;
  }

  function overlap(a, b) {
    var width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    var height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    return width > 0 && height > 0 ? width * height : 0;
  }

  // Toasts never cover the control being used: if they would, they go to the other edge
  // (unless that covers it more).
  function place(region) {
    region.classList.remove("toasts--top", "toasts--bottom");
    var control = controlInUse();
    if (!control || region.contains(control)) return;
    var target = control.getBoundingClientRect();
    var here = region.getBoundingClientRect();
    var covered = overlap(here, target);
    if (!covered) return;
    region.classList.add(here.top + here.height / 2 < window.innerHeight / 2 ? "toasts--bottom" : "toasts--top");
    if (overlap(region.getBoundingClientRect(), target) >= covered) {
      region.classList.remove("toasts--top", "toasts--bottom");
    }
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "success");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.textContent = message;
    toast.appendChild(text);
    region.appendChild(toast);
    arm(toast);
    var shown = region.querySelectorAll(".toast:not(.toast--leaving)");
    for (var i = 0; i < shown.length - MAX_TOASTS; i++) shown[i].remove();
    place(region);
  }
  window.catalystToast = showToast;

  document.addEventListener("DOMContentLoaded", function () {
    var region = document.getElementById("toasts");
    if (!region) return;
    region.querySelectorAll(".toast").forEach(arm);
    if (region.children.length) place(region);
  });
  // Focus moving to a field (autofocus too) moves the toasts showing off it.
  document.addEventListener("focusin", function (event) {
    var region = document.getElementById("toasts");
    if (region && region.children.length && !region.contains(event.target)) place(region);
  });

  // Server responses send HX-Trigger: {"toast": {"message": "...", "level": "success"}}
  document.body.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.message || detail.value, detail.level);
  });

  // <button data-copy-target="#id"> copies that element's text.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copyTarget);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () { button.textContent = "Copied"; },
      function () { showToast("Could not copy. Select the text and copy it instead.", "error"); }
    );
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });

  // A menu that is a popover (the nav and the chat's tools on phones) closes once one of
  // its commands is used, so that what the command does is in sight.
  function closeMenuOf(element) {
    var menu = element.closest && element.closest("[popover]");
    if (menu && typeof menu.hidePopover === "function" && menu.matches(":popover-open")) menu.hidePopover();
  }
  document.addEventListener("submit", function (event) { closeMenuOf(event.target); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link) closeMenuOf(link);
  });

  // A failed HTMX request (network or 5xx) should never fail silently.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status === 404) showToast("That item no longer exists. Reload the page to see the latest.", "error");
    else if (status === 403) showToast("Your session has expired or you cannot do that. Reload and try again.", "error");
    else if (status >= 500) showToast("Something went wrong on our side. Please try again.", "error");
  });
  document.addEventListener("htmx:sendError", function () {
    showToast("Could not reach the server. Check your connection and try again.", "error");
  });

  // Signed out meanwhile (in another tab, or the session expired): the server sends the
  // page to the login page with a "signedOut" event first. What was being typed in the
  // form that asked is kept for this tab, and put back once the user is on the page again.
  var KEPT = "catalyst:typed-before-sign-in";
  var TYPED = "textarea, input:not([type]), input[type=text], input[type=search], input[type=email], input[type=url], input[type=number], input[type=date]";

  document.body.addEventListener("signedOut", function (event) {
    var source = event.target;
    var form = source.closest ? source.closest("form") || source.form : null;
    if (!form) return;
    var fields = {};
    form.querySelectorAll(TYPED).forEach(function (field) {
      if (field.name && field.value) fields[field.name] = field.value;
    });
    if (!Object.keys(fields).length) return;
    try {
      sessionStorage.setItem(KEPT, JSON.stringify({ page: location.pathname, form: form.id, fields: fields }));
    } catch (error) { /* storage full or off: nothing to keep */ }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var kept;
    try { kept = JSON.parse(sessionStorage.getItem(KEPT) || "null"); } catch (error) { kept = null; }
    if (!kept || kept.page !== location.pathname) return;
    sessionStorage.removeItem(KEPT);
    var scope = (kept.form && document.getElementById(kept.form)) || document;
    var restored = false;
    Object.keys(kept.fields).forEach(function (name) {
      var field = scope.querySelector('[name="' + CSS.escape(name) + '"]');
      if (field && !field.value && field.matches(TYPED)) {
        field.value = kept.fields[name];
        field.dispatchEvent(new Event("input", { bubbles: true }));
        restored = true;
      }
    });
    if (restored) showToast("You were signed out, so it was not sent. What you typed is back: send it again.", "warning");
  });
})();
