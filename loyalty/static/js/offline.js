// The counter without connection (#25). When requests fail or the browser says it is offline,
// the terminal keeps stamps and purchases in IndexedDB (one database per merchant and store)
// under the idempotency keys the server would have had, and sends them once it is back: with a
// staff PIN when the program asks for one (typed then, never stored), else by itself. What
// spends value (rewards, voids, undo, adjustments, new customers, unlocking) waits for the
// server. The service worker (/terminal/sw.js) keeps the page so a reload opens it offline.
(function () {
  "use strict";

  var configNode = document.getElementById("offline-config");
  var config = configNode ? JSON.parse(configNode.textContent || "null") : null;
  if (!config || !config.enabled) { forgetWorker(); return; }

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

  var words = JSON.parse(document.getElementById("offline-words").textContent);
  Object.keys(config.words || {}).forEach(function (name) { words[name] = config.words[name]; });
  var lang = document.documentElement.lang || "en";
  var plurals = new Intl.PluralRules(lang);
  var PROBE_EVERY_MS = 6000, PROBE_WAIT_MS = 5000, SYNC_WAIT_MS = 30000, BATCH = 200;
  var state = {offline: false, timer: null, csrf: null, syncing: false, signedOut: false,
               justBack: false, staff: null, epoch: 0};

  if (window.htmx) htmx.config.timeout = 6000;  // a request without answer after 6 s: offline

  // --- words -------------------------------------------------------------------------------

  function fill(text, values) {
    return String(text).replace(/%\((\w+)\)[sd]/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : all;
    });
  }

  function counted(name, num, values) {
    var forms = words[name];
    var values2 = {num: num};
    Object.keys(values || {}).forEach(function (key) { values2[key] = values[key]; });
    return fill(forms[plurals.select(num) === "one" ? 0 : 1], values2);
  }

  function money(cents) {
    try {
      return new Intl.NumberFormat(lang, {style: "currency", currency: config.currency})
        .format(cents / 100);
    } catch (error) { return (cents / 100).toFixed(2) + " " + config.currency; }
  }

  function staffName(id) {
    var person = config.staff.filter(function (p) { return p.id === id; })[0];
    return person ? person.staff_name : "";
  }

  function isNumber(card) { return /^\d{4}-\d{4}-\d{4}$/.test(card); }

  function cardLabel(card) {  // a title: "Card 1234-5678-9012", "Scanned card …x9Qa"
    return isNumber(card) ? fill(words.card, {card: card}) : fill(words.scanned_card, {end: card.slice(-4)});
  }

  function shortCard(card) { return isNumber(card) ? card : "…" + card.slice(-4); }

  function actionLabel(action) {
    return action.kind === "stamp" ? counted("stamps_action", action.quantity)
      : money(action.amount_cents);
  }

  function pointsOf(cents) {  // floor(cents x points per euro / 100), in whole numbers
    var perEuro = Math.round(parseFloat(config.points_per_euro || "0") * 10000);
    return Math.floor(cents * perEuro / 1000000);
  }

  // --- the queue (IndexedDB) ----------------------------------------------------------------

  var DB_NAME = "loyalty-offline-" + config.merchant_id + "-" + config.store_id;
  var opening = null;

  function database() {
    if (!opening) opening = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("queue", {keyPath: "key"});
        request.result.createObjectStore("refused", {keyPath: "key"});
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { opening = null; reject(request.error); };
    });
    return opening;
  }

  // work(stores, done) runs in one transaction over ``names``; resolves with what done() got.
  function transaction(names, mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(names, mode), outcome;
        var stores = {};
        names.forEach(function (name) { stores[name] = tx.objectStore(name); });
        work(stores, function (value) { outcome = value; });
        tx.oncomplete = function () { resolve(outcome); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  function listOf(name) {
    return transaction([name], "readonly", function (stores, done) {
      stores[name].getAll().onsuccess = function (event) {
        done(event.target.result.sort(function (a, b) { return a.n - b.n; }));
      };
    });
  }

  var serial = 0;
  var firstWorkspace = document.getElementById("workspace").innerHTML;

  // Adds the action unless the tablet's caps say no: resolves with null, or the refusal's words.
  function enqueue(action) {
    action.n = Date.now() * 1000 + (serial++ % 1000);
    return transaction(["queue"], "readwrite", function (stores, done) {
      stores.queue.getAll().onsuccess = function (event) {
        var queue = event.target.result;
        if (queue.some(function (kept) { return kept.key === action.key; })) { done(null); return; }
        if (queue.length >= config.max_actions) {
          done(counted("cap_actions", config.max_actions)); return;
        }
        var points = queue.concat([action]).reduce(function (sum, kept) {
          return sum + (kept.kind === "earn" ? pointsOf(kept.amount_cents) : 0);
        }, 0);
        if (action.kind === "earn" && points > config.max_points) {
          done(counted("cap_points", config.max_points)); return;
        }
        stores.queue.put(action);
        done(null);
      };
    }).then(function (refusal) { showCounts(); return refusal; });
  }

  function newKey() {
    return (crypto.randomUUID ? crypto.randomUUID() : fallbackUuid()).replace(/-/g, "");
  }

  function fallbackUuid() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

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
      if (counts.waiting && !document.querySelector("#sheet .sheet")) openSendSheet();
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

  // --- sending the queue ---------------------------------------------------------------------

  function sheetHost() { return document.getElementById("sheet"); }

  function showSheet(templateId) {
    var host = sheetHost();
    host.innerHTML = "";
    host.appendChild(document.getElementById(templateId).content.cloneNode(true));
    var heading = host.querySelector("h2");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
    return host.querySelector(".sheet");
  }

  function sheetMessage(sheet, text, kind) {
    var box = sheet.querySelector("[data-offline-sheet-message]");
    box.innerHTML = "";
    if (!text) return;
    var line = document.createElement("p");
    line.className = "banner " + (kind === "success" ? "banner-success" : "banner-error");
    line.setAttribute("role", kind === "success" ? "status" : "alert");
    line.textContent = text;
    box.appendChild(line);
  }

  function item(parts) {
    var li = document.createElement("li");
    parts.forEach(function (part) {
      if (!part[1]) return;
      var span = document.createElement("span");
      span.className = "offline-" + part[0];
      span.textContent = part[1];
      li.appendChild(span);
    });
    return li;
  }

  function timeOf(iso) {  // on the merchant's clock, as the server words it
    var options = {hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
    if (config.timezone) options.timeZone = config.timezone;
    try { return new Date(iso).toLocaleTimeString(lang, options); } catch (error) {
      delete options.timeZone;
      return new Date(iso).toLocaleTimeString(lang, options);
    }
  }

  function openSendSheet() {
    return listOf("queue").then(function (queue) {
      if (!queue.length || state.offline || state.syncing) return;
      if (!config.require_pin) { send(null, null); return; }
      var sheet = showSheet("offline-send-template");
      sheet.querySelector("[data-offline-send-title]").textContent = counted("send_title", queue.length);
      var list = sheet.querySelector("[data-offline-list]");
      queue.forEach(function (action) {
        list.appendChild(item([["when", timeOf(action.at)], ["card", shortCard(action.card)],
                               ["what", actionLabel(action)],
                               ["who", action.staff_pin_id ? fill(words.by, {name: staffName(action.staff_pin_id)}) : ""]]));
      });
      var chips = sheet.querySelectorAll("input[name=staff_pin_id]");
      var people = queue.map(function (action) { return action.staff_pin_id; });
      var one = people.every(function (id) { return id && id === people[0]; }) ? people[0] : null;
      var pick = one || state.staff || (chips.length === 1 ? parseInt(chips[0].value, 10) : null);
      chips.forEach(function (chip) { chip.checked = chip.value === String(pick); });
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-offline-send-form]")) return;
    event.preventDefault();
    var picked = form.querySelector("input[name=staff_pin_id]:checked");
    var pin = form.elements.pin ? form.elements.pin.value : "";
    var sheet = form.closest(".sheet");
    if (!picked) { sheetMessage(sheet, words.pick_name); return; }
    if (!/^\d{4,8}$/.test(pin)) { sheetMessage(sheet, words.enter_pin); return; }
    state.staff = parseInt(picked.value, 10);
    send(state.staff, pin);
  });

  sendButton.addEventListener("click", function () { probe().then(function (up) { if (up) openSendSheet(); }); });
  refusedButton.addEventListener("click", function () { showResults(null); });

  function wire(action) {
    var sent = {key: action.key, kind: action.kind, card: action.card, at: action.at,
                staff_pin_id: action.staff_pin_id};
    if (action.kind === "stamp") sent.quantity = action.quantity; else sent.amount_cents = action.amount_cents;
    return sent;
  }

  // Sends the queue in batches; the same keys every time, so a batch cut half-way and sent
  // again records nothing twice. The PIN lives only in this call.
  function send(staffId, pin) {
    if (state.syncing) return Promise.resolve();
    state.syncing = true;
    var openForm = document.querySelector("#sheet [data-offline-send-form]");
    var button = openForm && openForm.querySelector("button[type=submit]");
    if (button) { button.disabled = true; button.dataset.label = button.textContent; button.textContent = words.sending; }
    var summary = {results: [], notSent: []};
    function finish() {
      state.syncing = false;
      if (button && document.body.contains(button)) { button.disabled = false; button.textContent = button.dataset.label; }
    }
    function batch(queue, from) {
      var part = queue.slice(from, from + BATCH);
      if (!part.length) return Promise.resolve(true);
      return timed(config.ping_url, {headers: {Accept: "application/json"}}).then(function (response) {
        if (!response.ok) return answered(response);
        return response.json().then(function (body) {
          useToken(body.csrf_token);
          return timed(config.sync_url, {
            method: "POST",
            headers: {"Content-Type": "application/json", "Accept": "application/json",
                      "X-CSRFToken": state.csrf},
            body: JSON.stringify({staff_pin_id: staffId, pin: pin, actions: part.map(wire)}),
          }, SYNC_WAIT_MS).then(answered);
        });
      }).then(function (body) {
        if (!body) return false;
        return settle(part, body).then(function () {
          summary.results = summary.results.concat(body.results || []);
          summary.notSent = summary.notSent.concat(body.not_sent || []);
          return batch(queue, from + BATCH);
        });
      });
    }
    // 200: the answer's body; otherwise says why in the sheet (or the status line) and gives null
    function answered(response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.status === 200 && body.results) return body;
        var sheet = document.querySelector("#sheet .offline-sheet");
        if (response.status === 401) {
          state.signedOut = true; showCounts();
          if (sheet) sheetMessage(sheet, body.error || words.signed_out);
          return null;
        }
        var text = body.pin ? body.error : fill(words.sync_failed, {reason: body.error || response.status});
        if (sheet) sheetMessage(sheet, text); else notice(text);
        var pinInput = document.getElementById("offline-pin");
        if (pinInput) pinInput.value = "";
        return null;
      });
    }
    return listOf("queue").then(function (queue) {
      return batch(queue, 0);
    }).then(function (done) {
      finish();
      if (done) showResults(summary);
    }).catch(function () {
      finish();
      var host = sheetHost();
      if (host.querySelector(".offline-sheet")) host.innerHTML = "";
      goOffline();
      notice(words.sync_cut);
    });
  }

  // Accepted and refused actions leave the queue in one transaction; refused ones wait in
  // their own list, with the server's reason, until staff dismiss them.
  function settle(part, body) {
    var byKey = {};
    part.forEach(function (action) { byKey[action.key] = action; });
    return transaction(["queue", "refused"], "readwrite", function (stores) {
      (body.results || []).forEach(function (result) {
        var action = byKey[result.key];
        if (!action) return;
        stores.queue.delete(result.key);
        if (result.status !== "accepted") {
          action.message = result.message;
          action.card_number = result.card_number || null;
          stores.refused.put(action);
        }
      });
    }).then(showCounts);
  }

  function showResults(summary) {
    return listOf("refused").then(function (refused) {
      var sheet = showSheet("offline-results-template");
      var title = sheet.querySelector("[data-offline-results-title]");
      title.textContent = summary ? title.dataset.sent : title.dataset.refused;
      if (summary) {
        var accepted = summary.results.filter(function (r) { return r.status === "accepted"; });
        var box = sheet.querySelector("[data-offline-accepted]");
        box.hidden = !accepted.length;
        accepted.forEach(function (result) {
          var message = result.message || "", balance = result.balance || "";
          box.querySelector("ul").appendChild(item([
            ["card", result.card_number || ""], ["customer", result.customer || ""],
            ["what", message], ["balance", message.indexOf(balance) === -1 ? balance : ""]]));
        });
        var others = summary.notSent.length;
        var rest = sheet.querySelector("[data-offline-others]");
        rest.textContent = others ? counted("others_waiting", others) : "";
        rest.hidden = !others;
        if (!summary.results.length && !others) sheetMessage(sheet, words.nothing_sent, "success");
      }
      var refusedBox = sheet.querySelector("[data-offline-refused-list]");
      refusedBox.hidden = !refused.length;
      refused.forEach(function (action) {
        var li = item([["when", timeOf(action.at)], ["card", action.card_number || shortCard(action.card)],
                       ["what", actionLabel(action)], ["reason", action.message]]);
        li.dataset.key = action.key;
        li.insertBefore(document.getElementById("offline-dismiss-template").content.cloneNode(true),
                        li.querySelector(".offline-reason"));
        refusedBox.querySelector("ul").appendChild(li);
      });
    });
  }

  document.addEventListener("click", function (event) {
    var dismiss = event.target.closest("[data-offline-dismiss]");
    if (!dismiss) return;
    var li = dismiss.closest("li");
    transaction(["refused"], "readwrite", function (stores) { stores.refused.delete(li.dataset.key); })
      .then(function () {
        var list = li.parentNode;
        li.remove();
        if (!list.children.length) list.closest("section").hidden = true;
        var heading = document.querySelector("#sheet h2");
        if (heading) heading.focus();
        return showCounts();
      });
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

  showCounts();
  if (navigator.onLine === false) goOffline();
  probe();
})();

