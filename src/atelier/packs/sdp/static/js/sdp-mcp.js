// MCP tokens: create one through the JSON API and show the raw token this once, with
// connection instructions filled in. Nothing keeps it: a reload shows only its prefix.
(function () {
  "use strict";
  const app = document.getElementById("mcp-app");
  const form = document.getElementById("token-form");
  if (!app || !form || !window.Atelier) return;
  const { api } = window.Atelier;
  const baseUrl = app.dataset.base;
  const errorBox = document.getElementById("mcp-error");
  const panel = document.getElementById("new-token");

  function fieldError(id, text) {
    const input = document.getElementById(id);
    const message = document.getElementById(`${id}-error`);
    message.textContent = text || "";
    message.hidden = !text;
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  function snippets(token) {
    const config = {
      mcpServers: {
        atelier: { type: "http", url: `${baseUrl}/mcp`, headers: { Authorization: `Bearer ${token}` } },
      },
    };
    return {
      http: `claude mcp add --transport http atelier ${baseUrl}/mcp --header "Authorization: Bearer ${token}"`,
      stdio: `claude mcp add atelier -- atelier mcp --token ${token}`,
      json: JSON.stringify(config, null, 2),
    };
  }

  // As the server writes dates ("2025-01-31 14:05 UTC").
  function when(iso) {
    return iso ? `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC` : "never";
  }

  function cell(row, content) {
    const td = document.createElement("td");
    if (typeof content === "string") td.textContent = content;
    else td.append(content);
    row.append(td);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // The new token joins the list at once (by its prefix only), with its revoke form.
  function addRow(created) {
    const row = document.createElement("tr");
    cell(row, created.label);
    cell(row, element("code", "", `${created.prefix}…`));
    cell(row, when(created.created_at));
    cell(row, "never");
    cell(row, when(created.expires_at));
    cell(row, element("span", "badge badge-active", "Active"));
    const revoke = element("form", "inline-form");
    revoke.method = "post";
    revoke.action = `/projects/${app.dataset.project}/mcp/${created.id}/revoke`;
    revoke.dataset.confirm = `Revoke the token “${created.label}”? Clients using it stop working at once.`;
    const token = element("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = window.Atelier.csrf();
    const button = element("button", "btn btn-small btn-danger", "Revoke");
    button.type = "submit";
    button.setAttribute("aria-label", `Revoke ${created.label}`);
    revoke.append(token, button);
    cell(row, revoke);
    document.getElementById("token-rows").prepend(row);
    document.getElementById("token-table-wrap").hidden = false;
    document.getElementById("token-empty").hidden = true;
  }

  function show(created) {
    document.getElementById("new-token-value").value = created.token;
    document.getElementById("new-token-label").textContent = created.label;
    const text = snippets(created.token);
    document.getElementById("snippet-http").textContent = text.http;
    document.getElementById("snippet-stdio").textContent = text.stdio;
    document.getElementById("snippet-json").textContent = text.json;
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    panel.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const label = document.getElementById("token-label").value.trim();
    const daysText = document.getElementById("token-days").value.trim();
    fieldError("token-label", label ? "" : "Give the token a label, so that you can tell it apart later.");
    const days = daysText ? Number(daysText) : null;
    const badDays = daysText && !(Number.isInteger(days) && days >= 1 && days <= 3650);
    fieldError("token-days", badDays ? "A whole number of days from 1 to 3650, or empty for no expiry." : "");
    if (!label) { document.getElementById("token-label").focus(); return; }
    if (badDays) { document.getElementById("token-days").focus(); return; }
    const body = { label };
    if (days) body.expires_in_days = days;
    const button = form.querySelector("[type=submit]");
    button.disabled = true;
    try {
      const created = await api("POST", `/api/v1/projects/${app.dataset.project}/mcp-tokens`, body);
      form.reset();
      addRow(created);
      show(created);
    } catch (error) {
      errorBox.textContent = error.status === 403
        ? "Your role in this project allows reading only: ask its owner for a token."
        : `The token could not be created: ${error.message}`;
      errorBox.hidden = false;
      errorBox.focus();
    } finally {
      button.disabled = false;
    }
  });

  // The list is read again from the server; the raw token goes with this page.
  document.getElementById("token-done")?.addEventListener("click", () => {
    window.location.assign(window.location.pathname);
  });
})();
