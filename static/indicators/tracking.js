/* perfplan tracking pages: the print link (no inline script). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-print]") : null;
    if (link) {
      event.preventDefault();
      window.print();
    }
  });
})();
