// The counter without connection (#25), part 1 of 3: what the tablet keeps. Reads the page's
// offline settings and words, and owns the queue in IndexedDB (one database per merchant and
// store): stamps and purchases kept under the idempotency keys the server would have had, the
// list of refused ones, new keys, and the tablet's caps (actions, points). It exposes
// window.LoyaltyOffline (config, words, state, wording helpers, the queue) for
// offline-sync.js and offline.js, which load after it; when offline mode is off it exposes
// nothing.
(function () {
  "use strict";

  var configNode = document.getElementById("offline-config");
  var config = configNode ? JSON.parse(configNode.textContent || "null") : null;
  if (!config || !config.enabled) return;

  var words = JSON.parse(document.getElementById("offline-words").textContent);
  Object.keys(config.words || {}).forEach(function (name) { words[name] = config.words[name]; });
  var lang = document.documentElement.lang || "en";
  var plurals = new Intl.PluralRules(lang);
  // The connection as the page sees it, shared by offline-sync.js and offline.js.
  var state = {offline: false, timer: null, csrf: null, syncing: false, signedOut: false,
               justBack: false, staff: null, epoch: 0};

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
    });
  }

  function newKey() {
    return (crypto.randomUUID ? crypto.randomUUID() : fallbackUuid()).replace(/-/g, "");
  }

  function fallbackUuid() {
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
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
    });
  }

  function dismissRefused(key) {
    return transaction(["refused"], "readwrite", function (stores) { stores.refused.delete(key); });
  }

  window.LoyaltyOffline = {
    configNode: configNode, config: config, words: words, lang: lang, state: state,
    fill: fill, counted: counted, money: money, staffName: staffName, cardLabel: cardLabel,
    shortCard: shortCard, actionLabel: actionLabel, pointsOf: pointsOf,
    transaction: transaction, listOf: listOf, enqueue: enqueue, settle: settle,
    dismissRefused: dismissRefused, newKey: newKey,
  };
})();
