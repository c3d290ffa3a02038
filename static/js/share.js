// Copy-link and native share buttons on the thank-you page; the page works without this.
(function () {
  "use strict";
  var button = document.querySelector("[data-copy]");
  var input = button && document.getElementById(button.getAttribute("data-copy"));
  var status = document.querySelector("[data-copied-message]");
  if (!button || !input) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var done = function () {
      if (status) status.textContent = status.getAttribute("data-copied-message");
    };
    if (navigator.share) {
      // The phone's own share sheet says what happened; no message needed here.
      navigator.share({ text: input.getAttribute("data-share-text"), url: input.value })
        .catch(function () {});
      return;
    }
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else if (document.execCommand("copy")) {
      done();
    }
  });
})();
