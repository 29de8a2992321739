// sohoa: the receipt's print button (a page's scripts cannot be inline under the appliance's CSP).
"use strict";
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
})();
