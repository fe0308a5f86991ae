// Behaviour every page shares. Nothing inline: the Content Security Policy admits only these files.
(function () {
  "use strict";

  // Brand colours come as data attributes (an inline style would break the CSP).
  function paintBrands(root) {
    (root || document).querySelectorAll("[data-brand]").forEach(function (element) {
      element.style.setProperty("--brand", element.dataset.brand);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { paintBrands(document); });
  document.addEventListener("htmx:load", function (event) { paintBrands(event.detail.elt.parentNode || document); });
})();
