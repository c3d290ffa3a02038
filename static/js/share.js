// Copy buttons: the share link on the thank-you page (which opens the phone's own share sheet
// where there is one) and the embed snippets in the dashboard. Pages work without this:
// the text stays selectable.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("[data-copy]");
  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    var status = document.getElementById(button.getAttribute("data-copied") || "") ||
      document.querySelector("[data-copied-message]");
    var shareText = field.getAttribute("data-share-text");
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = function () {
        if (status) status.textContent = status.getAttribute("data-copied-message");
      };
      if (shareText !== null && navigator.share) {
        // The phone's own share sheet says what happened; no message needed here.
        navigator.share({ text: shareText, url: field.value }).catch(function () {});
        return;
      }
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          if (document.execCommand("copy")) done();
        });
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });
})();
