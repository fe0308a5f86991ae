// The new-merchant form: the web address follows the shop's name as it is typed, until the
// admin writes one of their own (clearing it lets it follow again). The server makes the
// same address from the name when the field is left empty (services/merchant_admin.py).
(function () {
  "use strict";

  var FOLDED = { "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l" };

  function slugFromName(name) {
    var plain = name.toLowerCase()
      .replace(/[ßæœøđł]/g, function (letter) { return FOLDED[letter]; })
      .normalize("NFKD").replace(/\p{M}+/gu, "");
    return plain.replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 64).replace(/-+$/, "");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-slug-from]").forEach(function (slug) {
      var name = slug.form && slug.form.elements[slug.dataset.slugFrom];
      if (!name) return;
      var own = slug.value !== "" && slug.value !== slugFromName(name.value);
      slug.addEventListener("input", function () { own = slug.value !== ""; });
      name.addEventListener("input", function () {
        if (!own) slug.value = slugFromName(name.value);
      });
    });
  });
})();
