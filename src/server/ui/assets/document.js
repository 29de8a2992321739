// sohoa: the document view's zoom. Each page image fits its column; its button shows it at full size
// (scrollable in its frame) and back. Without this script the link beside it opens the image itself.
"use strict";
(function () {
  document.querySelectorAll("button.zoom").forEach(function (button) {
    var figure = button.closest("figure");
    button.hidden = false;
    button.addEventListener("click", function () {
      var zoomed = figure.classList.toggle("zoomed");
      button.setAttribute("aria-pressed", zoomed ? "true" : "false");
      button.textContent = button.getAttribute(zoomed ? "data-zoomed" : "data-fit");
    });
  });
})();
