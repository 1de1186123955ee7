// One-button actions that call the JSON API: <button data-api-url="…" data-api-method="POST"
// data-api-body='{"…"}' data-then="reload | /path/{field.of.the.answer}">. Errors are
// shown in #action-error in plain words (#atelier-messages maps error codes to them).
(function () {
  "use strict";

  function pick(data, path) {
    return path.split(".").reduce((value, key) => (value == null ? value : value[key]), data);
  }

  function fill(template, data) {
    return template.replace(/\{([\w.]+)\}/g, (_, path) => encodeURIComponent(pick(data, path) ?? ""));
  }

  function messages() {
    try {
      return JSON.parse(document.getElementById("atelier-messages")?.dataset.messages || "{}");
    } catch (_) {
      return {};
    }
  }

  function showError(error) {
    const box = document.getElementById("action-error");
    const known = messages()[error.data?.error];
    const text = known ? known.text : error.message || "That did not work. Try again.";
    if (!box) {
      window.alert(text);
      return;
    }
    box.replaceChildren(document.createTextNode(text));
    if (known?.settings) {
      const link = document.createElement("a");
      link.href = "/settings/providers";
      link.textContent = "Open AI provider settings";
      box.append(" ", link);
    }
    box.hidden = false;
    box.focus();
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-api-url]");
    if (!button || button.disabled) return;
    event.preventDefault();
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    const label = button.innerHTML;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (button.dataset.busy) button.textContent = button.dataset.busy;
    try {
      const body = button.dataset.apiBody ? JSON.parse(button.dataset.apiBody) : undefined;
      const result = await window.Atelier.api(button.dataset.apiMethod || "POST", button.dataset.apiUrl, body);
      const then = button.dataset.then || "reload";
      if (then === "reload") window.location.reload();
      else window.location.assign(fill(then, result || {}));
    } catch (error) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.innerHTML = label;
      showError(error);
    }
  });
})();
