// /api/docs: draw the OpenAPI document with Redoc (vendored; see the view for its CSP).
// Fonts are the system's: nothing is fetched from another site.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("reference");
    if (!root || !window.Redoc) return;
    var system = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
    window.Redoc.init(root.getAttribute("data-spec-url"), {
      expandResponses: "200,201",
      hideDownloadButton: false,
      jsonSampleExpandLevel: 3,
      pathInMiddlePanel: true,
      requiredPropsFirst: true,
      sortPropsAlphabetically: false,
      theme: {
        colors: { primary: { main: "#1d5c4d" } },
        typography: {
          fontFamily: system, headings: { fontFamily: system },
          code: { fontFamily: "ui-monospace, 'SFMono-Regular', Menlo, monospace" }
        },
        sidebar: { backgroundColor: "#f6f4f0" }
      }
    }, root, function () {
      var loading = root.querySelector("[data-loading]");
      if (loading) loading.remove();
    });
  });
})();
