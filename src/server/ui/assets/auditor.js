// sohoa: the auditor's view. While a fixity run goes on, asks the status route every second and
// moves the progress bar; when the run ends, reloads the view, which then shows the report. Without
// this script the view shows the progress as it was when loaded, and a reload shows more.
"use strict";
(function () {
  var running = document.getElementById("fixity-running");
  if (!running) return;
  var bar = document.getElementById("fixity-progress");
  var count = document.getElementById("fixity-count");
  var url = running.getAttribute("data-status");
  function poll() {
    window.sohoaFetch(url).then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    }).then(function (status) {
      if (!status.running) {
        // A query of its own, so that this is a new load and not a jump to the anchor of the same
        // page (nor a second post of the form the page may have answered).
        window.location.assign("/auditor?fixity=done#fixity");
        return;
      }
      bar.max = Math.max(status.total, 1);
      bar.value = status.done;
      bar.textContent = status.done + " / " + status.total;
      count.textContent = status.done + " / " + status.total;
      window.setTimeout(poll, 1000);
    }).catch(function () {
      window.setTimeout(poll, 5000);
    });
  }
  window.setTimeout(poll, 1000);
})();
