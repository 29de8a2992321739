// sohoa: the scanning station's script. The page works without it (every action is a form);
// it adds the live page list (Server-Sent Events from /station/events), the reading queue's panel
// (from /station/queue/events) and the upload of files,
// from the file input or dropped on the drop zone, sent with the session's CSRF header.
"use strict";
(function () {
  var list = document.getElementById("pages");
  if (!list) return;
  var status = document.getElementById("scan-status");
  var count = document.getElementById("page-count");
  var scan = document.querySelector("#scan-form button[type=submit]");

  if (window.EventSource) {
    var events = new EventSource("/station/events");
    events.addEventListener("batch", function (event) {
      var batch = JSON.parse(event.data);
      // Keep the keyboard where it was: the same button of the same page after the update.
      var focused = document.activeElement;
      var keep = focused && list.contains(focused) && focused.closest("form") ? focused.closest("form").getAttribute("action") : null;
      list.innerHTML = batch.pages;
      status.innerHTML = batch.status;
      count.textContent = batch.count;
      document.body.setAttribute("data-busy", batch.busy ? "true" : "false");
      // One scan at a time: "continue" comes back when the scanner is free.
      if (scan) scan.disabled = batch.scanning;
      if (keep) {
        var again = list.querySelector('form[action="' + keep + '"] button');
        if (again) again.focus();
      }
    });
  }

  // The documents sealed here, followed to their signed copies (Server-Sent Events on each change).
  var queue = document.getElementById("queue-panel");
  if (queue && window.EventSource) {
    new EventSource("/station/queue/events").addEventListener("queue", function (event) {
      queue.innerHTML = event.data;
    });
  }

  var form = document.getElementById("upload-form");
  var input = document.getElementById("upload-files");
  var zone = document.getElementById("drop-zone");
  if (!form || !input || !zone || !window.FormData) return;

  function send(files) {
    if (!files || !files.length) return;
    var data = new FormData();
    for (var i = 0; i < files.length; i++) data.append("file", files[i], files[i].name);
    form.setAttribute("aria-busy", "true");
    window.sohoaFetch(form.action, { method: "POST", body: data }).then(function (response) {
      if (response.ok) {
        window.location.href = response.url;
        return;
      }
      return response.text().then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var main = page.querySelector("main");
        var message = document.createElement("p");
        message.className = "flash bad";
        message.setAttribute("role", "alert");
        message.textContent = main ? main.textContent.trim() : response.statusText;
        status.innerHTML = "";
        status.appendChild(message);
      });
    }).finally(function () {
      form.removeAttribute("aria-busy");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.files);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("over");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () {
      zone.classList.remove("over");
    });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    send(event.dataTransfer.files);
  });
})();
