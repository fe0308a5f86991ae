// A "Copy" button next to a read-only field (the new API key): shown only when the browser can
// copy, it copies the field's value and says so on the button for a moment. Without it the
// field is still selected on focus, ready for Ctrl+C.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) return;
      field.addEventListener("focus", function () { field.select(); });
      if (!navigator.clipboard) return;
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          button.textContent = button.getAttribute("data-copied");
          setTimeout(function () { button.textContent = label; }, 2000);
        });
      });
    });
  });
})();
