// The counter without connection (#25), part 3 of 3: the page. When requests fail or the
// browser says it is offline, the terminal keeps stamps and purchases (offline-queue.js) and
// sends them once it is back (offline-sync.js): with a staff PIN when the program asks for one,
// else by itself. What spends value (rewards, voids, undo, adjustments, new customers,
// unlocking) waits for the server. This file owns the status line, telling online from
// offline, what may be done offline, the offline card panel and the service worker
// (/terminal/sw.js keeps the page so a reload opens it offline), and starts it all; it loads
// last, after offline-queue.js and offline-sync.js.
(function () {
  "use strict";

  var L = window.LoyaltyOffline;
  if (!L) { forgetWorker(); return; }

  // Offline mode is off for this merchant: no worker, no kept page (a queue stays until sent).
  function forgetWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (registration) {
        if (/\/terminal\/$/.test(registration.scope)) registration.unregister();
      });
    });
    if (window.caches) caches.keys().then(function (names) {
      names.filter(function (name) { return name.indexOf("terminal-") === 0; })
        .forEach(function (name) { caches.delete(name); });
    });
  }

  var configNode = L.configNode, config = L.config, words = L.words, state = L.state;
  var fill = L.fill, counted = L.counted, money = L.money, cardLabel = L.cardLabel,
      shortCard = L.shortCard, pointsOf = L.pointsOf, listOf = L.listOf, newKey = L.newKey;
  var PROBE_EVERY_MS = 6000, PROBE_WAIT_MS = 5000;
  var firstWorkspace = document.getElementById("workspace").innerHTML;

  if (window.htmx) htmx.config.timeout = 6000;  // a request without answer after 6 s: offline

  // --- the status line ---------------------------------------------------------------------

  var status = document.getElementById("offline-status");
  var statusText = status.querySelector("[data-offline-text]");
  var statusCount = status.querySelector("[data-offline-count]");
  var sendButton = status.querySelector("[data-offline-send]");
  var refusedButton = status.querySelector("[data-offline-refused]");

  function showCounts() {
    return Promise.all([listOf("queue"), listOf("refused")]).then(function (lists) {
      var waiting = lists[0].length, refused = lists[1].length;
      var text = state.offline ? words.offline : state.signedOut ? words.signed_out
        : state.justBack ? words.back : "";
      statusText.textContent = text;
      statusCount.textContent = waiting ? counted("waiting", waiting) : "";
      sendButton.hidden = state.offline || state.signedOut || !waiting;
      refusedButton.hidden = !refused;
      refusedButton.textContent = refused ? counted("refused_count", refused) : "";
      status.classList.toggle("is-offline", state.offline);
      status.classList.toggle("is-shown", Boolean(text || waiting || refused));
      return {waiting: waiting, refused: refused};
    });
  }

  function notice(text, kind) {
    var box = document.getElementById("offline-notice");
    box.innerHTML = "";
    var line = document.createElement("p");
    line.className = "banner " + (kind === "success" ? "banner-success banner-fades" : "banner-error");
    line.setAttribute("role", kind === "success" ? "status" : "alert");
    line.textContent = text;
    box.appendChild(line);
    clearTimeout(notice.timer);
    notice.timer = setTimeout(function () { box.innerHTML = ""; }, kind === "success" ? 7000 : 9000);
  }

  // --- online, offline ---------------------------------------------------------------------

  function goOffline() {
    state.epoch += 1;
    if (!state.offline) {
      state.offline = true;
      state.justBack = false;
      showCounts();
    }
    if (!state.timer) state.timer = setInterval(probe, PROBE_EVERY_MS);
  }

  function backOnline() {
    var was = state.offline;
    state.offline = false;
    state.signedOut = false;
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    var panel = document.getElementById("offline-panel");
    if (panel) {  // the server answers finds again: the next scan opens the real card
      document.getElementById("workspace").innerHTML = firstWorkspace;
      if (window.htmx) htmx.process(document.getElementById("workspace"));
    }
    if (was) {
      state.justBack = true;
      setTimeout(function () { state.justBack = false; showCounts(); }, 8000);
    }
    showCounts().then(function (counts) {
      if (counts.waiting && !document.querySelector("#sheet .sheet")) L.openSendSheet();
    });
  }

  function useToken(token) {
    state.csrf = token;
    document.body.setAttribute("hx-headers", JSON.stringify({"X-CSRFToken": token}));
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
  }

  function timed(url, options, wait) {
    var abort = new AbortController();
    var timer = setTimeout(function () { abort.abort(); }, wait || PROBE_WAIT_MS);
    options.signal = abort.signal;
    options.credentials = "same-origin";
    options.cache = "no-store";
    return fetch(url, options).finally(function () { clearTimeout(timer); });
  }

  // Resolves true when the server answers as our own signed-in session.
  function probe() {
    var epoch = state.epoch;
    return timed(config.ping_url, {headers: {Accept: "application/json"}}).then(function (response) {
      if (response.status === 401) {
        state.offline = false; state.signedOut = true;
        if (state.timer) { clearInterval(state.timer); state.timer = null; }
        showCounts();
        return false;
      }
      if (!response.ok) throw new Error("status " + response.status);
      return response.json().then(function (body) {
        // an answer to a probe sent before the connection dropped says nothing about now
        if (epoch !== state.epoch || navigator.onLine === false) return false;
        useToken(body.csrf_token);
        backOnline();
        return true;
      });
    }).catch(function () { goOffline(); return false; });
  }

  window.addEventListener("offline", goOffline);
  window.addEventListener("online", function () { probe(); });

  function sendFailed(event) {
    var source = event.detail.elt, request = event.detail.requestConfig || {};
    goOffline();
    var form = source && source.closest && source.closest("form");
    if (source && source.id === "find-form") { openCard(source.elements.q.value); return; }
    if (request.verb === "post" && form && queueable(form)) { queueForm(form); return; }
    notice(words.needs_connection);
  }
  document.addEventListener("htmx:sendError", sendFailed);
  document.addEventListener("htmx:timeout", sendFailed);

  // --- what works offline, what waits for the server ---------------------------------------

  var NEEDS_SERVER = ["[hx-get*='/sheet/redeem']", "[hx-get*='/sheet/void']", "[hx-get$='/enroll']",
                      "[data-testid=open-unlock]", "[hx-get*='/unlock']", ".results a", ".result"];
  var GIVES_VALUE = "[hx-get$='/sheet/stamp'], [hx-get$='/sheet/earn']";

  function queueable(form) {
    var url = form.getAttribute("hx-post") || "";
    return /\/cards\/\d+\/(stamp|earn)$/.test(url);
  }

  function serverCardNumber() {
    var number = document.querySelector("#card-panel .card-number");
    return number ? number.textContent.trim() : "";
  }

  document.addEventListener("click", function (event) {
    if (!state.offline) return;
    var target = event.target.closest(NEEDS_SERVER.join(","));
    var gives = event.target.closest(GIVES_VALUE);
    if (!target && !gives) return;
    event.preventDefault();
    event.stopPropagation();
    if (gives && serverCardNumber()) openCard(serverCardNumber());
    else notice(words.needs_connection);
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[action$='/logout']")) { forgetPage(event, form); return; }
    if (!state.offline || form.matches("[data-offline-send-form]")) return;
    if (form.id === "find-form") {
      event.preventDefault(); event.stopPropagation();
      openCard(form.elements.q.value);
    } else if (queueable(form)) {
      event.preventDefault(); event.stopPropagation();
      queueForm(form);
    } else if (form.closest("#workspace, #sheet")) {  // a phone link, a reward: the server's
      event.preventDefault(); event.stopPropagation();
      notice(words.needs_connection);
    }
  }, true);

  // Keeps the action in the queue (or says why not), then the status line counts again.
  function enqueue(action) {
    return L.enqueue(action).then(function (refusal) { showCounts(); return refusal; });
  }

  function parseCents(text) {
    var match = /^(\d{1,6})(?:[.,](\d{1,2}))?$/.exec((text || "").trim());
    if (!match) return null;
    var cents = parseInt(match[1], 10) * 100 + parseInt(((match[2] || "") + "00").slice(0, 2), 10);
    return cents > 0 ? cents : null;
  }

  // A stamp or purchase form the server did not answer: kept with its own key, so if the
  // server did record it, sending it again replays that answer and credits nothing twice.
  function queueForm(form) {
    var stamp = /\/stamp$/.test(form.getAttribute("hx-post"));
    var checked = form.querySelector("input[name=staff_pin_id]:checked");
    var action = {key: form.elements.idempotency_key.value, store_id: config.store_id,
                  card: serverCardNumber(), kind: stamp ? "stamp" : "earn",
                  staff_pin_id: checked ? parseInt(checked.value, 10) : null,
                  at: new Date().toISOString()};
    if (stamp) {
      action.quantity = parseInt(form.elements.quantity ? form.elements.quantity.value : "1", 10) || 1;
    } else {
      action.amount_cents = parseCents(form.elements.amount && form.elements.amount.value);
      if (!action.amount_cents) { notice(words.amount_format); return; }
    }
    if (!action.card) { notice(words.needs_connection); return; }
    enqueue(action).then(function (refusal) {
      if (refusal) { notice(refusal); return; }
      var host = document.getElementById("sheet");
      if (host && host.querySelector(".sheet")) host.innerHTML = "";
      openCard(action.card, keptWords(action));
    });
  }

  function keptWords(action) {
    return action.kind === "stamp"
      ? counted("stamps_kept", action.quantity, {card: shortCard(action.card)})
      : counted("points_kept", pointsOf(action.amount_cents), {card: shortCard(action.card)});
  }

  // --- the offline card panel ---------------------------------------------------------------

  function cardFrom(text) {
    var typed = (text || "").trim();
    var digits = typed.replace(/[\s-]/g, "");
    if (/^\d{12}$/.test(digits)) return digits.replace(/(\d{4})(\d{4})(\d{4})/, "$1-$2-$3");
    if (/^[A-Za-z0-9_-]{16,64}$/.test(typed)) return typed;
    return null;
  }

  function openCard(text, kept) {
    var card = cardFrom(text);
    if (!card) { notice(words.find_hint); return; }
    var workspace = document.getElementById("workspace");
    workspace.innerHTML = "";
    workspace.appendChild(document.getElementById("offline-panel-template").content.cloneNode(true));
    var panel = document.getElementById("offline-panel");
    panel.dataset.card = card;
    panel.querySelector("[data-offline-title]").textContent = cardLabel(card);
    var chips = panel.querySelectorAll("input[name=offline_staff]");
    var only = chips.length === 1 ? chips[0].value : null;
    var pick = state.staff || only;
    chips.forEach(function (chip) { chip.checked = chip.value === String(pick); });
    if (kept) panelBanner(kept, "success");
    var q = document.getElementById("q");
    if (q) { q.value = ""; q.focus(); }
  }

  function panelBanner(text, kind) {
    var panel = document.getElementById("offline-panel");
    if (!panel) { notice(text, kind); return; }
    var old = panel.querySelector(":scope > .banner");
    if (old) old.remove();
    var line = document.createElement("p");
    line.className = "banner " + (kind === "success" ? "banner-success banner-fades" : "banner-error");
    line.setAttribute("role", kind === "success" ? "status" : "alert");
    line.textContent = text;
    panel.insertBefore(line, panel.firstChild);
  }

  document.addEventListener("change", function (event) {
    if (event.target.name === "offline_staff") state.staff = parseInt(event.target.value, 10);
  });

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-offline-add]");
    if (!add) return;
    var panel = add.closest("#offline-panel");
    var picked = panel.querySelector("input[name=offline_staff]:checked");
    if (config.require_pin && !config.staff.length) { panelBanner(words.no_staff); return; }
    if (config.require_pin && !picked) { panelBanner(words.pick_name); return; }
    var action = {key: newKey(), store_id: config.store_id, card: panel.dataset.card,
                  kind: add.dataset.offlineAdd, staff_pin_id: picked ? parseInt(picked.value, 10) : null,
                  at: new Date().toISOString()};
    if (action.kind === "stamp") {
      var most = config.max_stamps_at_once;
      action.quantity = Math.max(1, Math.min(parseInt(panel.querySelector("#offline-quantity").value, 10) || 1, most));
    } else {
      action.amount_cents = parseCents(panel.querySelector("#offline-amount").value);
      if (!action.amount_cents) { panelBanner(words.amount_format); return; }
      if (action.amount_cents < (config.minimum_purchase_cents || 0)) {
        panelBanner(fill(words.below_minimum, {amount: money(config.minimum_purchase_cents)})); return;
      }
    }
    add.disabled = true;  // a double tap keeps one action
    enqueue(action).then(function (refusal) {
      if (refusal) { panelBanner(refusal); return; }
      panelBanner(keptWords(action), "success");
      var quantity = panel.querySelector("#offline-quantity"), amount = panel.querySelector("#offline-amount");
      if (quantity) quantity.value = "1";
      if (amount) amount.value = "";
    }).catch(function () { panelBanner(words.needs_connection); })
      .finally(function () { setTimeout(function () { add.disabled = false; }, 700); });
  });


  // --- the service worker, sign-out ---------------------------------------------------------

  function forgetPage(event, form) {
    if (!window.caches) return;
    event.preventDefault();
    var done = false;
    function go() { if (!done) { done = true; form.submit(); } }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({type: "forget"});
    }
    caches.delete("terminal-page").then(go, go);
    setTimeout(go, 1000);
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(configNode.dataset.serviceWorker, {scope: configNode.dataset.scope})
      .catch(function () { /* the terminal works online without it */ });
  }

  sendButton.addEventListener("click", function () { probe().then(function (up) { if (up) L.openSendSheet(); }); });
  refusedButton.addEventListener("click", function () { L.showResults(null); });

  L.showCounts = showCounts;
  L.notice = notice;
  L.timed = timed;
  L.useToken = useToken;
  L.goOffline = goOffline;

  showCounts();
  if (navigator.onLine === false) goOffline();
  probe();
})();

