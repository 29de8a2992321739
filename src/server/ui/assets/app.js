// sohoa: the little script every page shares. Pages work without it; it adds the session's CSRF
// token to the fetch calls that screens make, and asks before a form marked data-confirm is sent.
"use strict";
(function () {
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";
  // fetch with the session's CSRF token, for the screens' scripts.
  window.sohoaFetch = function (url, options) {
    options = options || {};
    options.headers = new Headers(options.headers || {});
    if (token) options.headers.set("X-CSRF-Token", token);
    options.credentials = "same-origin";
    return fetch(url, options);
  };
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });
})();
