// ER diagrams: fit to the width of the page, or actual size (scrolls), on request.
(function () {
  "use strict";
  document.querySelectorAll("[data-er-zoom]").forEach((button) => {
    const wrap = button.closest(".er-toolbar")?.nextElementSibling;
    if (!wrap) return;
    button.addEventListener("click", () => {
      const actual = wrap.classList.toggle("is-actual");
      button.setAttribute("aria-pressed", String(actual));
      button.textContent = actual ? "Fit to width" : "Actual size";
    });
  });
})();
