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
  var format = window.Intl ? new Intl.NumberFormat(document.documentElement.lang || "id") : null;
  var source = null;
  var retry = null;
  var delay = 5000;

  function valueFor(el, data) {
    if (el.hasAttribute("data-pending")) return data.pending;
    if (el.hasAttribute("data-pledge")) return data.pledges[el.getAttribute("data-pledge")];
    if (el.hasAttribute("data-partner")) return data.partners[el.getAttribute("data-partner")];
    return data.supporters;
  }

  function show(data) {
    var els = document.querySelectorAll("[data-count],[data-pending],[data-pledge],[data-partner]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i];
      var n = valueFor(el, data);
      if (typeof n !== "number") continue;
      if (el.tagName === "PROGRESS") {
        el.value = Math.min(n, el.max);
      } else if (el.hasAttribute("data-one")) {
        el.textContent = el.getAttribute(n === 1 ? "data-one" : "data-other");
      } else {
        el.textContent = format ? format.format(n) : String(n);
      }
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
