// print.js shows the buttons marked data-print, which print the page:
// without JavaScript they stay hidden and the page says to use the
// browser's own printing.
document.querySelectorAll("button[data-print]").forEach(function (b) {
  b.hidden = false;
  b.addEventListener("click", function () { window.print(); });
});
