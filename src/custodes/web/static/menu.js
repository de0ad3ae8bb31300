// The main menu's area drop-downs (<details>): close an open one on Escape (focus back on its summary) or on a
// click elsewhere. Progressive enhancement only: without JavaScript each opens and closes on its summary.
(function () {
  "use strict";
  const nav = document.querySelector('nav[aria-label="Main"]');
  if (!nav) return;
  const open = () => nav.querySelector("details[open]");
  document.addEventListener("keydown", (event) => {
    const area = open();
    if (event.key !== "Escape" || !area) return;
    area.open = false;
    area.querySelector("summary").focus();
  });
  document.addEventListener("click", (event) => {
    const area = open();
    if (area && !area.contains(event.target)) area.open = false;
  });
})();
