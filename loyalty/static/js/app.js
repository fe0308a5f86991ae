// Behaviour every page shares. Nothing inline: the Content Security Policy admits only these files.
(function () {
  "use strict";

  // Brand colours come as data attributes (an inline style would break the CSP).
  function paintBrands(root) {
    (root || document).querySelectorAll("[data-brand]").forEach(function (element) {
      element.style.setProperty("--brand", element.dataset.brand);
      if (element.dataset.brandText) element.style.setProperty("--brand-text", element.dataset.brandText);
      if (element.dataset.brandLine) element.style.setProperty("--brand-line", element.dataset.brandLine);
    });
  }

  // WCAG contrast of two "#rrggbb" colours, as the server computes it.
  function luminance(hex) {
    var channels = [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16) / 255; });
    var linear = channels.map(function (c) { return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  var COLOR = /^#[0-9a-fA-F]{6}$/;
  // The text colour customers get on a card colour (loyalty/colours.py: readable_on).
  function readableOn(background, preferred) {
    if (contrast(background, preferred) >= 4.5) return preferred;
    return contrast(background, "#000000") >= contrast(background, "#ffffff") ? "#000000" : "#ffffff";
  }

  // The branding form's live preview: name, colours and logo change as the owner types.
  function bindPreview(form) {
    var preview = document.querySelector(form.dataset.preview);
    if (!preview) return;
    var warning = document.getElementById("contrast-warning");
    function update() {
      var background = form.elements.primary_color.value, text = form.elements.secondary_color.value;
      if (COLOR.test(background)) preview.style.setProperty("--brand", background);
      if (COLOR.test(background) && COLOR.test(text)) {
        preview.style.setProperty("--brand-text", readableOn(background, text));
      }
      var name = preview.querySelector("[data-preview-name]");
      if (name) name.textContent = form.elements.card_name.value;
      if (warning && COLOR.test(background) && COLOR.test(text)) {
        warning.hidden = contrast(background, text) >= parseFloat(form.dataset.readable);
      }
    }
    form.addEventListener("input", update);
    var logo = form.elements.logo;
    if (logo) logo.addEventListener("change", function () {
      var image = preview.querySelector("[data-preview-logo]");
      if (image && logo.files && logo.files[0]) { image.src = URL.createObjectURL(logo.files[0]); image.hidden = false; }
    });
  }

  // Tabs over one form (the texts page): a tab shows its part of the form and hides the
  // others, which keep what was typed in them and are sent with the rest. The address says
  // which tab shows (?lang=), so a save or a reload comes back to it.
  function bindTabs(nav) {
    var tabs = nav.querySelectorAll("[data-tab]");
    function show(chosen) {
      tabs.forEach(function (tab) {
        var on = tab.dataset.tab === chosen;
        tab.classList.toggle("primary", on);
        tab.classList.toggle("secondary", !on);
        if (on) tab.setAttribute("aria-current", "page"); else tab.removeAttribute("aria-current");
        var panel = document.getElementById(tab.getAttribute("href").slice(1));
        if (panel) panel.hidden = !on;
      });
    }
    tabs.forEach(function (tab) {
      tab.addEventListener("click", function (event) {
        event.preventDefault();
        show(tab.dataset.tab);
        var address = new URL(window.location.href);
        address.searchParams.set("lang", tab.dataset.tab);
        address.hash = "";
        window.history.replaceState(null, "", address);
      });
    });
    show(nav.dataset.shown);
  }

  document.addEventListener("DOMContentLoaded", function () {
    paintBrands(document);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("form[data-preview]").forEach(bindPreview);
    document.querySelectorAll("[data-tabs]").forEach(bindTabs);
  });
  document.addEventListener("htmx:load", function (event) { paintBrands(event.detail.elt.parentNode || document); });
})();
