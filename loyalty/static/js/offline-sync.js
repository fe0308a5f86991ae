// The counter without connection (#25), part 2 of 3: sending the queue. Owns the
// waiting-actions sheet (the list, the staff name and PIN when the program asks for one: typed
// then, never stored), the batched sync to the server under the actions' own keys, and the
// results sheet (accepted ones, refused ones until dismissed). Uses window.LoyaltyOffline from
// offline-queue.js; the status line and the connection (showCounts, notice, timed, useToken,
// goOffline) come from offline.js, which loads after this file and calls openSendSheet and
// showResults.
(function () {
  "use strict";

  var L = window.LoyaltyOffline;
  if (!L) return;
  var config = L.config, words = L.words, state = L.state, lang = L.lang;
  var fill = L.fill, counted = L.counted, shortCard = L.shortCard, actionLabel = L.actionLabel,
      staffName = L.staffName, listOf = L.listOf;
  var SYNC_WAIT_MS = 30000, BATCH = 200;

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
      return L.timed(config.ping_url, {headers: {Accept: "application/json"}}).then(function (response) {
        if (!response.ok) return answered(response);
        return response.json().then(function (body) {
          L.useToken(body.csrf_token);
          return L.timed(config.sync_url, {
            method: "POST",
            headers: {"Content-Type": "application/json", "Accept": "application/json",
                      "X-CSRFToken": state.csrf},
            body: JSON.stringify({staff_pin_id: staffId, pin: pin, actions: part.map(wire)}),
          }, SYNC_WAIT_MS).then(answered);
        });
      }).then(function (body) {
        if (!body) return false;
        return L.settle(part, body).then(L.showCounts).then(function () {
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
          state.signedOut = true; L.showCounts();
          if (sheet) sheetMessage(sheet, body.error || words.signed_out);
          return null;
        }
        var text = body.pin ? body.error : fill(words.sync_failed, {reason: body.error || response.status});
        if (sheet) sheetMessage(sheet, text); else L.notice(text);
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
      L.goOffline();
      L.notice(words.sync_cut);
    });
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
    L.dismissRefused(li.dataset.key)
      .then(function () {
        var list = li.parentNode;
        li.remove();
        if (!list.children.length) list.closest("section").hidden = true;
        var heading = document.querySelector("#sheet h2");
        if (heading) heading.focus();
        return L.showCounts();
      });
  });

  L.openSendSheet = openSendSheet;
  L.showResults = showResults;
})();
