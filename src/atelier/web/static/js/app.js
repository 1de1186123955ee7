// Atelier's page script: CSRF for htmx and fetch, JSON API calls, job progress over SSE,
// copy buttons. No framework; every page works without it where it can.
(function () {
  "use strict";
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  // htmx requests carry the CSRF token like forms do.
  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf();
  });

  // fetch() against the JSON API with the session cookie; errors become exceptions whose
  // message is the API's own detail.
  async function api(method, url, body) {
    const options = { method, headers: { "X-CSRF-Token": csrf(), Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error(describe(data) || response.statusText);
      error.status = response.status; error.data = data;
      throw error;
    }
    return data;
  }

  function describe(data) {
    if (!data) return "";
    if (typeof data.detail === "string") return data.detail;
    if (Array.isArray(data.detail)) return data.detail.map((e) => `${e.field}: ${e.message}`).join("; ");
    return data.error || "";
  }

  // Follow a job's events (SSE); calls onEvent(type, data) and resolves with the final job.
  function followJob(jobId, onEvent) {
    return new Promise((resolve) => {
      const source = new EventSource(`/api/v1/jobs/${jobId}/events`);
      let done = false;
      const finish = async () => {
        if (done) return;
        done = true;
        source.close();
        try {
          resolve(await api("GET", `/api/v1/jobs/${jobId}`));
        } catch (_) {
          resolve(null); // the job could not be read back: callers show a generic error
        }
      };
      for (const type of ["started", "progress", "attempt_failed", "quality_findings", "requeued"]) {
        source.addEventListener(type, (e) => onEvent(type, JSON.parse(e.data || "{}")));
      }
      for (const type of ["succeeded", "failed", "cancelled"]) {
        source.addEventListener(type, (e) => { onEvent(type, JSON.parse(e.data || "{}")); finish(); });
      }
      source.onerror = () => { if (source.readyState === EventSource.CLOSED) finish(); };
    });
  }

  // "customer_profile", "valueMap" -> "Customer profile", "Value map".
  function humanize(key) {
    const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").trim().toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // A streamed JSON answer shown as a person reads it: the parts (top-level fields) as
  // they are written, ticked once the model moves on, with the raw text folded away.
  // answerOutline(container) -> { feed(text), drop(), done() }.
  function answerOutline(container) {
    const block = document.createElement("div");
    block.className = "answer-outline";
    const parts = document.createElement("ol");
    parts.className = "answer-parts";
    parts.setAttribute("aria-label", "Parts of the answer written so far");
    const raw = document.createElement("details");
    raw.className = "answer-raw";
    const summary = document.createElement("summary");
    const text = document.createElement("span");
    text.className = "log-text";
    raw.append(summary, text);
    block.append(parts, raw);
    container.append(block);

    let chars = 0, depth = 0, inString = false, escaped = false, buffer = "", key = null;
    let current = null;
    const count = () => { summary.textContent = `The model's raw answer (${chars.toLocaleString()} characters)`; };
    const settle = () => { if (current) { current.classList.add("is-done"); current.firstChild.textContent = "✓ "; } };
    const startPart = (name) => {
      settle();
      current = document.createElement("li");
      current.append(document.createTextNode("… "), document.createTextNode(humanize(name)));
      parts.append(current);
    };
    count();
    return {
      element: block,
      feed(chunk) {
        text.append(document.createTextNode(chunk));
        chars += chunk.length;
        for (const ch of chunk) {
          if (inString) {
            if (escaped) { escaped = false; buffer += ch; }
            else if (ch === "\\") escaped = true;
            else if (ch === '"') { inString = false; if (depth === 1) key = buffer; }
            else buffer += ch;
          } else if (ch === '"') { inString = true; buffer = ""; }
          else if (ch === "{" || ch === "[") { depth += 1; key = null; }
          else if (ch === "}" || ch === "]") { depth -= 1; key = null; }
          else if (ch === ":") { if (key !== null && depth === 1) startPart(key); key = null; }
          else if (ch === ",") key = null;
        }
        count();
        return current ? current.lastChild.textContent : null;
      },
      drop() { block.classList.add("is-dropped"); },
      done() { settle(); },
    };
  }

  // <button data-copy="#selector"> copies that field's value.
  document.addEventListener("click", async (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    try {
      await navigator.clipboard.writeText(field.value || field.textContent);
    } catch (_) {
      field.select?.();
      document.execCommand?.("copy");
    }
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  });

  // <form data-confirm="..."> asks first.
  document.addEventListener("submit", (event) => {
    const message = event.target.dataset?.confirm;
    if (message && !window.confirm(message)) event.preventDefault();
  });

  window.Atelier = { api, followJob, csrf, describe, answerOutline, humanize };
})();
