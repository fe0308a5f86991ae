// The counter screen: keypads, the action sheet, camera scanning. No framework; htmx does the rest.
(function () {
  "use strict";

  // The stamp sheet's stepper: 1 to data-max, what the card can still take (daily cap, full card).
  document.addEventListener("click", function (event) {
    var step = event.target.closest("[data-step]");
    if (!step) return;
    var input = step.closest("[data-stepper]").querySelector("input");
    var value = (parseInt(input.value, 10) || 1) + parseInt(step.dataset.step, 10);
    input.value = Math.max(1, Math.min(value, parseInt(input.dataset.max, 10) || 1));
  });

  // Keypads write into the input named by data-keypad-for.
  document.addEventListener("click", function (event) {
    var key = event.target.closest("[data-key]");
    if (key) {
      var pad = key.closest("[data-keypad-for]");
      var input = pad && document.getElementById(pad.dataset.keypadFor);
      if (!input) return;
      var value = key.dataset.key;
      if (value === "clear") input.value = "";
      else if (value === "back") input.value = input.value.slice(0, -1);
      else if (value === "." && input.value.indexOf(".") !== -1) return;
      else if (!input.maxLength || input.maxLength < 0 || input.value.length < input.maxLength) input.value += value;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    // Tapping the backdrop around a sheet closes it, with nothing done.
    if (event.target.closest("[data-close-sheet]") || (event.target.id === "sheet" && event.target.children.length)) {
      closeSheet();
    }
  });

  function focusSearch() {
    var q = document.getElementById("q");
    if (q) { q.focus(); q.select(); }
  }

  // A sheet is a modal dialog: it takes the focus when it opens, keeps Tab inside, closes on
  // Escape and gives the focus back to the button that opened it (or to the search field).
  var opener = null;

  function openSheet() {
    var host = document.getElementById("sheet");
    return host && host.querySelector(".sheet[role=dialog]");
  }

  function closeSheet() {
    var host = document.getElementById("sheet");
    if (host) host.innerHTML = "";
    var back = opener;
    opener = null;
    if (back && document.body.contains(back) && !back.disabled) back.focus(); else focusSearch();
  }

  function focusables(sheet) {
    return Array.prototype.filter.call(sheet.querySelectorAll(
      "a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, [tabindex]:not([tabindex='-1'])"),
      function (el) { return el.getClientRects().length && getComputedStyle(el).visibility !== "hidden"; });
  }

  function focusSheet(sheet) {
    // On a touch tablet a focused field pops up the on-screen keyboard over the keypad: the
    // heading takes the focus there; with a keyboard, the field to type in does.
    var first = ("ontouchstart" in window) ? null :
      sheet.querySelector("input[name=amount], input[name=name], input[name=pin], input[name=email]");
    if (first && first.getClientRects().length) { first.focus(); return; }
    var heading = sheet.querySelector("h2");
    if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target, source = event.detail.elt;
    if (!target || target.id !== "sheet" || !source || source.closest("#sheet")) return;
    var active = document.activeElement;
    opener = (active && source.contains(active) && active !== document.body) ? active : source;
  });

  document.addEventListener("keydown", function (event) {
    var sheet = openSheet();
    if (!sheet) return;
    if (event.key === "Escape") { event.preventDefault(); closeSheet(); return; }
    if (event.key === "Tab") {
      var items = focusables(sheet);
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1], here = document.activeElement;
      if (!sheet.contains(here)) { event.preventDefault(); first.focus(); }
      else if (event.shiftKey && (here === first || !items.includes(here) && here.tagName === "H2")) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && here === last) { event.preventDefault(); first.focus(); }
      return;
    }
    // Typed digits (and Backspace) reach the keypad's field even when a key or a chip has the focus.
    var here = document.activeElement, tag = here && here.tagName;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (tag === "TEXTAREA" || (tag === "INPUT" && here.type !== "radio")) return;
    if (!/^[0-9.]$/.test(event.key) && event.key !== "Backspace") return;
    var scope = here && here.closest(".pinpad, .amount-entry");
    var pad = scope ? scope.querySelector("[data-keypad-for]") : sheet.querySelector("[data-keypad-for]");
    var input = pad && document.getElementById(pad.dataset.keypadFor);
    if (!input) return;
    event.preventDefault();
    var key = event.key === "Backspace" ? "back" : event.key;
    var button = pad.querySelector('[data-key="' + key + '"]');
    if (button) button.click();
  });

  // After a result, the search field is ready for the next scan (keyboard-wedge scanners type there).
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "workspace") focusSearch();
    if (event.detail.target && event.detail.target.id === "sheet") {
      var sheet = openSheet();
      if (sheet && !sheet.contains(document.activeElement)) focusSheet(sheet);
    }
  });

  // The database connection was lost under an action (503 with Retry-After): nothing was
  // saved, so the tablet sends the same form again once, with the same idempotency key, after
  // a short pause, and shows the error only if that fails too.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr, config = event.detail.requestConfig;
    if (!xhr || xhr.status !== 503 || !config || config.verb !== "post") return;
    var source = config.elt;
    if (source.dataset.retried) {
      // Failed twice: say so inside the open sheet, whose button sends the same action again.
      delete source.dataset.retried;
      var form = source.closest("#sheet form");
      if (form) {
        var box = form.querySelector(".sheet-fault");
        if (!box) {
          box = document.createElement("div");
          box.className = "sheet-fault";
          form.insertBefore(box, form.firstChild);
        }
        event.detail.target = box;
      }
      return;
    }
    source.dataset.retried = "1";
    event.detail.shouldSwap = false;
    var seconds = Math.min(parseInt(xhr.getResponseHeader("Retry-After"), 10) || 2, 5);
    setTimeout(function () {
      htmx.ajax("post", config.path, {source: source, target: event.detail.target});
    }, seconds * 1000);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var source = event.detail.elt;
    if (event.detail.successful && source && source.dataset) delete source.dataset.retried;
  });

  // Camera scanning: BarcodeDetector where the browser has it, otherwise the vendored jsQR.
  var stream = null;
  var scanning = false;

  function stopScan() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    var box = document.getElementById("scanner");
    if (box) box.hidden = true;
  }

  function found(text) {
    stopScan();
    var q = document.getElementById("q");
    q.value = text;
    var form = document.getElementById("find-form");
    if (window.htmx) htmx.trigger(form, "submit"); else form.submit();
  }

  function startScan(button) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      alert(button.dataset.noCamera);
      return;
    }
    var video = document.getElementById("scanner-video");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      document.getElementById("scanner").hidden = false;
      scanning = true;
      return video.play();
    }).then(function () {
      var detector = ("BarcodeDetector" in window) ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      function tick() {
        if (!scanning) return;
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (codes.length) found(codes[0].rawValue); else requestAnimationFrame(tick);
          }).catch(function () { requestAnimationFrame(tick); });
          return;
        }
        if (video.videoWidth && window.jsQR) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          context.drawImage(video, 0, 0);
          var image = context.getImageData(0, 0, canvas.width, canvas.height);
          var code = window.jsQR(image.data, image.width, image.height);
          if (code && code.data) { found(code.data); return; }
        }
        requestAnimationFrame(tick);
      }
      tick();
    }).catch(function () {
      stopScan();
      alert(button.dataset.noCamera);
    });
  }

  document.addEventListener("click", function (event) {
    var scan = event.target.closest("#scan-button");
    if (scan) startScan(scan);
    if (event.target.closest("#scan-stop")) stopScan();
  });
})();
