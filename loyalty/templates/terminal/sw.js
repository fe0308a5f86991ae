// The terminal's service worker (loyalty/blueprints/terminal/service_worker.py), scope /terminal/.
// It keeps the counter's page shell and static files, so the terminal opens without connection.
// Kept: the static files below (cache-first, in a cache named after this version) and the last
// /terminal/ page a signed-in person loaded (network-first). Never kept: posts, the offline
// endpoints, card panels, search results, sheets: anything about a customer.
"use strict";

var VERSION = {{ version|tojson }};
var STATIC_CACHE = "terminal-static-" + VERSION;
var PAGE_CACHE = "terminal-page";
var SHELL = {{ shell|tojson }};
var INDEX = {{ index_url|tojson }};
var STATIC_PREFIX = {{ static_prefix|tojson }};
var NETWORK_WAIT_MS = 6000;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(STATIC_CACHE).then(function (cache) {
    // "reload": the files of this deploy, never a copy the browser kept from the last one
    return cache.addAll(SHELL.map(function (url) { return new Request(url, {cache: "reload"}); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("terminal-static-") === 0 && name !== STATIC_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }).then(keepIndex));
});

// The page that registered this worker loaded before it: keep the page now, not at the next
// visit (the person may lose the connection before then). Marked as the worker's own fetch and
// never following a redirect: a session that ended meanwhile is answered with a bare 401, so
// the "your session has ended" message waits for the person's own next request.
function keepIndex() {
  return fetch(INDEX, {credentials: "same-origin", cache: "no-store", redirect: "manual",
                       headers: {"X-Terminal-Worker": "keep"}})
    .then(function (response) { return remember(new URL(INDEX, self.location.href), response); })
    .catch(function () { /* offline already: the page kept before stays */ });
}

function remember(url, response) {
  if (!isIndex(url)) return;
  var html = (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
  if (response.status === 200 && response.type === "basic" && !response.redirected && html) {
    var copy = response.clone();
    return caches.open(PAGE_CACHE).then(function (cache) { return cache.put(INDEX, copy); });
  }
  if (response.type === "opaqueredirect" || response.redirected || response.status === 401 ||
      response.status === 403) {
    return caches.delete(PAGE_CACHE);  // signed out, or someone who may not use the terminal
  }
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "version" && event.source) {
    event.source.postMessage({type: "version", version: VERSION});
  } else if (data.type === "forget") {  // signed out: the last page is not kept for the next person
    event.waitUntil(caches.delete(PAGE_CACHE));
  }
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

function isIndex(url) {
  return url.pathname === INDEX && !url.search;
}

function navigate(request) {
  var url = new URL(request.url);
  return withTimeout(fetch(request), NETWORK_WAIT_MS).then(function (response) {
    remember(url, response);
    return response;
  }).catch(function (error) {
    return caches.open(PAGE_CACHE).then(function (cache) { return cache.match(INDEX); })
      .then(function (page) { if (page) return page; throw error; });
  });
}

function fromCache(request) {
  return caches.open(STATIC_CACHE).then(function (cache) {
    return cache.match(request, {ignoreSearch: true}).then(function (kept) {
      if (kept) return kept;
      return fetch(request).then(function (response) {
        if (response.status === 200 && response.type === "basic") cache.put(request, response.clone());
        return response;
      });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;  // posts go to the server, always
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname.indexOf(INDEX) === 0 &&
      url.pathname.indexOf(INDEX + "offline/") !== 0) {
    event.respondWith(navigate(request));
  } else if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(fromCache(request));
  }
  // anything else (htmx partials, the offline endpoints, media) goes to the network untouched
});
