// The hoax report form on a slow connection: while the report and its screenshot are sent, the
// button is disabled and says how much has gone ("Sending… 45%"), and a status line tells
// screen readers. Without this script the form posts as usual, and a second tap is still one
// report: the form carries a key the server knows it by.
//
// The form marked data-report holds the words: data-sending (the button, with {percent}),
// data-started and data-progress (the status line, at first and then each quarter), data-saving (once everything is sent and the
// server checks it) and data-failed (no answer came).
(function () {
  "use strict";
  if (!window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;

  function pathOf(url) {
    var a = document.createElement("a");
    a.href = url;
    return a.pathname;
  }

  // An answer that is not the next page (the form again with its messages, 422, or an error
  // page): shown in place of this one, as a normal post would have shown it.
  function showPage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    if (!doc.body) return false;
    document.title = doc.title;
    document.body.parentNode.replaceChild(document.adoptNode(doc.body), document.body);
    window.scrollTo(0, 0);
    var alert = document.getElementById("form-errors") || document.querySelector("h1");
    if (alert) {
      if (!alert.hasAttribute("tabindex")) alert.setAttribute("tabindex", "-1");
      alert.focus();
    }
    init();  // the new page's form
    return true;
  }

  function init() {
    var form = document.querySelector("form[data-report]");
    if (!form) return;
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-report-status]");
    if (!button || !status) return;
    var label = button.textContent;
    var sending = false;
    var said = -1;

    function say(text, announce) {
      button.textContent = text;
      if (announce) status.textContent = announce;
    }

    function progress(percent) {
      // The button follows every step; the status line (read out by screen readers) each
      // quarter, not to chatter.
      var step = Math.floor(percent / 25);
      var text = form.getAttribute("data-sending").replace("{percent}", percent);
      var sent = step
        ? form.getAttribute("data-progress").replace("{percent}", step * 25)
        : form.getAttribute("data-started");
      say(text, step !== said && sent);
      said = step;
    }

    function failed() {
      sending = false;
      button.disabled = false;
      button.textContent = label;
      status.textContent = form.getAttribute("data-failed");
      status.className = "warning";
    }

    function answered(xhr) {
      var type = xhr.getResponseHeader("Content-Type") || "";
      var url = xhr.responseURL;
      if (xhr.status === 200 && url && pathOf(url) !== pathOf(form.action)) {
        // The 303 was followed to the report's status page: go there.
        window.location.assign(url);
      } else if (type.indexOf("text/html") !== 0 || !showPage(xhr.responseText)) {
        // Nothing to show in place: post the form the usual way (its key keeps it one report).
        HTMLFormElement.prototype.submit.call(form);
      }
    }

    form.addEventListener("submit", function (event) {
      if (sending) {
        event.preventDefault();  // the report is on its way: a second tap sends nothing
        return;
      }
      var xhr = new XMLHttpRequest();
      if (!xhr.upload) return;
      event.preventDefault();
      sending = true;
      said = -1;
      status.className = "hint";
      button.disabled = true;
      progress(0);
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "text/html");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable && e.total > 0) {
          progress(Math.min(99, Math.floor((e.loaded / e.total) * 100)));
        }
      };
      xhr.upload.onload = function () {
        say(form.getAttribute("data-saving"), form.getAttribute("data-saving"));
      };
      xhr.onload = function () { answered(xhr); };
      xhr.onerror = failed;
      xhr.onabort = failed;
      xhr.ontimeout = failed;
      xhr.send(new FormData(form));
    });
  }

  init();
})();
