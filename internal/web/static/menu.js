// The top navigation's menu at narrow widths (app.css folds the
// navigation behind the button there). Without this script the button
// stays hidden and the navigation shown, so every page still works.
(function () {
  "use strict";
  var button = document.getElementById("menu-toggle");
  var nav = document.getElementById("topnav");
  if (!button || !nav) {
    return;
  }
  function set(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    set(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes the open menu and gives the focus back to its button.
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      set(false);
      button.focus();
    }
  });
})();
