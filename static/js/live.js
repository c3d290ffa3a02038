// Live counts: keeps the numbers on the page current through the campaign's event stream.
// Without this script the page still shows the counts as they were when it loaded.
//
// The element with data-events names the stream. Elements marked data-count (the total),
// data-pending (signatures waiting for their confirmation), data-pledge="slug" or
// data-partner="slug" show a number; a <progress> gets its value;
// an element with data-one and data-other gets the word that fits the number.
(function () {
  "use strict";
  var root = document.querySelector("[data-events]");
  if (!root || !window.EventSource || !window.JSON) return;
  var url = root.getAttribute("data-events");
  // Whole numbers as the server writes them (babel's format_decimal): groups of three digits
  // with "." between them in Indonesian, "," in English. No Intl.NumberFormat: making the
  // first one loads the browser's locale data, which keeps a phone busy while the page loads.
  var group = document.documentElement.lang === "en" ? "," : ".";
  var source = null;
  var retry = null;
  var delay = 5000;

  function valueFor(el, data) {
    if (el.hasAttribute("data-pending")) return data.pending;
    if (el.hasAttribute("data-pledge")) return data.pledges[el.getAttribute("data-pledge")];
    if (el.hasAttribute("data-partner")) return data.partners[el.getAttribute("data-partner")];
    return data.supporters;
  }

  function format(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, group);
  }

  function show(data) {
    var els = document.querySelectorAll("[data-count],[data-pending],[data-pledge],[data-partner]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var n = valueFor(el, data);
      if (typeof n !== "number") continue;
      if (el.tagName === "PROGRESS") {
        if (el.value !== Math.min(n, el.max)) el.value = Math.min(n, el.max);
        continue;
      }
      // Only what changed is written: the first event, as the page loads, repeats the page.
      var text = el.hasAttribute("data-one")
        ? el.getAttribute(n === 1 ? "data-one" : "data-other")
        : format(n);
      if (el.textContent !== text) el.textContent = text;
    }
  }

  function close() {
    if (source) source.close();
    source = null;
    clearTimeout(retry);
  }

  function open() {
    close();
    source = new EventSource(url);
    source.addEventListener("count", function (event) {
      delay = 5000;
      try { show(JSON.parse(event.data)); } catch (e) { /* a bad event changes nothing */ }
    });
    source.onerror = function () {
      // The browser reconnects by itself unless the server refused (busy, or gone):
      // then try again later, waiting longer each time.
      if (source && source.readyState === 2) {
        close();
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, 300000);
      }
    };
  }

  // A hidden tab needs no live count: close the stream, and reopen it when seen again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) close(); else open();
  });
  if (!document.hidden) open();
})();
