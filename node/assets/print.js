// The printable list's "Print" button: an extra for browsers that run
// scripts. Without it the page says how to print, and prints the same.
(function () {
  "use strict";
  var button = document.getElementById("print-button");
  if (!button || typeof window.print !== "function") { return; }
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
