// Repeatable fields of the tool forms (atelier.web.forms): "Add" copies the row template
// with the next index in its names, "Remove" drops the row; focus moves to where the
// person would type next, and row labels are renumbered for screen readers.
(function () {
  "use strict";
  const FOCUSABLE = "input:not([type=hidden]), textarea, select";
  const items = (box) => box.querySelectorAll(":scope > [data-repeat-items] > [data-repeat-item]");
  const addButton = (box) => box.querySelector(":scope > .repeat-actions [data-repeat-add]");

  function renumber(box) {
    const label = box.dataset.label || "";
    items(box).forEach((item, index) => {
      for (const element of item.querySelectorAll("[data-item-label]")) {
        // Only this row's own labels, not those of a list nested inside it.
        if (element.closest("[data-repeat-item]") !== item) continue;
        const text = `${element.dataset.prefix || ""}${label} ${index + 1}`;
        if (element.dataset.itemLabel === "text") element.textContent = text;
        else element.setAttribute(element.dataset.itemLabel, text);
      }
    });
    const max = Number(box.dataset.max || 0);
    const add = addButton(box);
    if (add) add.disabled = Boolean(max) && items(box).length >= max;
  }

  function addRow(box) {
    const template = box.querySelector(":scope > template[data-repeat-template]");
    const list = box.querySelector(":scope > [data-repeat-items]");
    if (!template || !list) return;
    const index = Number(box.dataset.next || 0);
    box.dataset.next = String(index + 1);
    list.insertAdjacentHTML("beforeend", template.innerHTML.split(box.dataset.placeholder).join(String(index)));
    renumber(box);
    list.lastElementChild?.querySelector(FOCUSABLE)?.focus();
  }

  function removeRow(item) {
    const box = item.closest("[data-repeat]");
    const at = [...items(box)].indexOf(item);
    item.remove();
    renumber(box);
    const rest = [...items(box)];
    const next = rest[at] || rest[at - 1];
    (next?.querySelector(FOCUSABLE) || addButton(box))?.focus();
  }

  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-repeat-add]");
    if (add) {
      addRow(add.closest("[data-repeat]"));
      return;
    }
    const remove = event.target.closest("[data-repeat-remove]");
    if (remove) removeRow(remove.closest("[data-repeat-item]"));
  });

  // A sent form says so, and is not sent twice by an impatient second click.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches?.(".tool-form") || event.defaultPrevented) return;
    // The button that sent it (Generate or Save) says so, not always the first one.
    const button = event.submitter || form.querySelector("button[type=submit]");
    if (!button) return;
    button.dataset.label = button.textContent;
    button.textContent = button.dataset.busy || "Sending…";
    button.setAttribute("aria-busy", "true");
    window.setTimeout(() => { button.disabled = true; }, 0);
  });
  // Back from the next page (bfcache): the form is usable again.
  window.addEventListener("pageshow", () => {
    document.querySelectorAll(".tool-form button[aria-busy]").forEach((button) => {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = button.dataset.label || button.textContent;
    });
  });

  document.querySelectorAll("[data-repeat]").forEach(renumber);
  // After a refused submit the summary of errors gets focus, so it is read first.
  document.getElementById("error-summary")?.focus();
})();
