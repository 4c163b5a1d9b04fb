// Site-wide behaviour: toasts (from Django messages and HX-Trigger "toast"
// events) and closing the account menu on outside clicks.
(function () {
  "use strict";

  function dismissLater(toast) {
    setTimeout(function () {
      toast.classList.add("toast--leaving");
      setTimeout(function () { toast.remove(); }, 300);
    }, 4500);
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var toast = document.createElement("div");
    toast.className = "toast toast--" + (level || "success");
    toast.setAttribute("role", "status");
    toast.textContent = message;
    region.appendChild(toast);
    dismissLater(toast);
  }
  window.catalystToast = showToast;

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(dismissLater);
  });

  // Server responses send HX-Trigger: {"toast": {"message": "...", "level": "success"}}
  document.body.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    showToast(detail.message || detail.value, detail.level);
  });

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.user-menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
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
})();
