// A stage of the software design pipeline: save the input, generate with live progress
// (SSE), cancel, complete, use another version, edit the output by hand. Every action
// is a call to the JSON API, so the server's lifecycle rules decide; its refusals are
// shown in plain language.
(function () {
  "use strict";
  const app = document.getElementById("stage-app");
  if (!app || !window.Atelier) return;
  const { api, followJob } = window.Atelier;
  const number = Number(app.dataset.number);
  const base = `/api/v1/projects/${app.dataset.project}/stages/${number}`;
  const errorBox = document.getElementById("stage-error");

  // The API's 409 codes (and a few others), as a person would say them.
  const MESSAGES = {
    stage_locked: "This stage is locked: complete the earlier stages first.",
    stage_generating: "This stage is generating right now. Wait for it to finish, or cancel it.",
    stage_not_in_review: "There is no output to complete yet: generate it or write one first.",
    stage_already_complete: "This stage is already complete.",
    stage_not_editable: "This stage is compiled from the earlier ones: compile it instead of editing it.",
    missing_earlier_stage: null, // the server's sentence names the stage: shown as is
    budget_exceeded: "A limit of your plan is reached (AI budget or generations). The Usage page shows which one and when it starts again.",
    no_provider: "No AI provider is set up. Add one in Settings → AI providers.",
    csrf_failed: "Your session changed in another tab. Reload the page and try again.",
  };

  function explain(error) {
    const code = error.data && error.data.error;
    if (code && MESSAGES[code]) return MESSAGES[code];
    if (error.status === 403) return "Your role in this project allows reading only.";
    if (error.status === 401) return "You are signed out. Sign in again and retry.";
    if (error.status === 404) return "This project or stage no longer exists.";
    if (!error.status) return "The server cannot be reached. Check your connection and try again.";
    return error.message || "Something went wrong. Please try again.";
  }

  function showError(text) {
    errorBox.textContent = text;
    errorBox.hidden = false;
    errorBox.focus();
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  // After a change, the page is read again from the server: it is the one truth.
  function reload(msg) {
    window.location.assign(`${window.location.pathname}?msg=${msg}`);
  }

  function busy(on) {
    document.querySelectorAll("[data-generate], #complete, [data-activate], #edit-form [type=submit]")
      .forEach((button) => { button.disabled = on; });
  }

  // ------------------------------------------------------------------------- input
  const inputForm = document.getElementById("input-form");
  const inputStatus = document.getElementById("input-status");
  inputForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    if (!inputStatus) return;
    inputStatus.textContent = "Saving…";
    try {
      await api("PATCH", base, { user_input: document.getElementById("user-input").value });
      inputStatus.textContent = "Saved.";
    } catch (error) {
      inputStatus.textContent = "";
      showError(explain(error));
    }
  });

  // -------------------------------------------------------------------- generation
  const progress = document.getElementById("progress");
  const log = document.getElementById("progress-log");
  const step = document.getElementById("progress-step");
  const cancel = document.getElementById("cancel");
  let following = null;

  function describeEvent(type, data) {
    if (type === "started") return "Started.";
    if (type === "requeued") return "Picked up again after an interruption…";
    if (type === "attempt_failed") {
      if (data.reason === "invalid_output") return `The answer did not fit the format; asking again (attempt ${(data.attempt || 1) + 1})…`;
      return data.retry_in_seconds ? `The provider did not answer; retrying in ${Math.round(data.retry_in_seconds)} s…` : "The provider did not answer; retrying…";
    }
    if (type === "progress" && data.step === "calling") {
      const asking = `Asking ${data.provider || "the AI"}${data.model ? ` (${data.model})` : ""}…`;
      // A local model on a CPU reads the whole prompt (the earlier stages) first.
      return data.provider === "local" ? `${asking} On a CPU the first words can take a minute or two.` : asking;
    }
    return null;
  }

  // The header badge follows the generation (the rest of the page reloads at its end).
  const statusBadge = document.querySelector("#stage-status .badge");
  const LABELS = { locked: "Locked", active: "Active", generating: "Generating…", review: "In review", complete: "Complete" };

  function showStatus(status) {
    if (!statusBadge || !LABELS[status]) return;
    statusBadge.className = `badge badge-${status}`;
    statusBadge.textContent = LABELS[status];
  }

  async function follow(jobId) {
    following = jobId;
    busy(true);
    showStatus("generating");
    progress.hidden = false;
    log.textContent = "";
    step.textContent = "Waiting for the AI…";
    cancel.disabled = false;
    cancel.textContent = "Cancel";
    let attempt = 0;
    let outline = null; // the current answer as it streams
    const job = await followJob(jobId, (type, data) => {
      if (type === "progress" && typeof data.text === "string") {
        if (!outline || (data.attempt && data.attempt !== attempt)) {
          // A new attempt starts its answer afresh; the one before stays, faded.
          outline?.drop();
          attempt = data.attempt || attempt;
          outline = window.Atelier.answerOutline(log);
        }
        const part = outline.feed(data.text);
        log.scrollTop = log.scrollHeight;
        step.textContent = part ? `Writing: ${part}…` : "Writing…";
        return;
      }
      if (type === "attempt_failed") { outline?.drop(); outline = null; }
      const text = describeEvent(type, data);
      if (text) step.textContent = text;
    }).catch(() => null);
    outline?.done();
    following = null;
    progress.hidden = true;
    busy(false);
    if (job && job.status !== "succeeded") {
      // Whatever happened, the stage is as the server says now.
      api("GET", base).then((stage) => showStatus(stage.status)).catch(() => {});
    }
    if (!job) {
      showError("Lost contact with the generation. Reload the page to see where it stands.");
    } else if (job.status === "succeeded") {
      reload("generated");
    } else if (job.status === "cancelled") {
      showError("Generation cancelled. The stage is as it was.");
    } else {
      showError(`The generation failed: ${job.error_message || "the AI did not give a usable answer"}. The stage is as it was; try again.`);
    }
  }

  document.querySelectorAll("[data-generate]").forEach((button) => {
    button.addEventListener("click", async () => {
      clearError();
      busy(true);
      try {
        const result = await api("POST", `${base}/generate`, { ai: button.dataset.ai === "true" });
        if (!result.job) return reload("compiled");
        await follow(result.job.id);
      } catch (error) {
        busy(false);
        showError(explain(error));
      }
    });
  });

  cancel?.addEventListener("click", async () => {
    if (!following) return;
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    try {
      await api("POST", `/api/v1/jobs/${following}/cancel`);
    } catch (error) {
      cancel.disabled = false;
      cancel.textContent = "Cancel";
      showError(explain(error));
    }
  });

  // -------------------------------------------------------------- complete, versions
  document.getElementById("complete")?.addEventListener("click", async () => {
    clearError();
    busy(true);
    try {
      await api("POST", `${base}/complete`);
      reload("completed");
    } catch (error) {
      busy(false);
      showError(explain(error));
    }
  });

  document.querySelectorAll("[data-activate]").forEach((button) => {
    button.addEventListener("click", async () => {
      clearError();
      busy(true);
      try {
        await api("POST", `${base}/outputs/${button.dataset.activate}/activate`);
        reload("activated");
      } catch (error) {
        busy(false);
        showError(explain(error));
      }
    });
  });

  // --------------------------------------------------------------------- hand edit
  const editForm = document.getElementById("edit-form");
  const editErrors = document.getElementById("edit-errors");
  const editor = document.getElementById("output-json");

  function showEditErrors(lines) {
    editErrors.replaceChildren();
    if (lines.length === 1) {
      editErrors.textContent = lines[0];
    } else {
      const intro = document.createElement("p");
      intro.textContent = "The output does not match the stage's format:";
      const list = document.createElement("ul");
      for (const line of lines) {
        const item = document.createElement("li");
        item.textContent = line;
        list.append(item);
      }
      editErrors.append(intro, list);
    }
    editErrors.hidden = false;
    editor.setAttribute("aria-invalid", "true");
    editErrors.focus?.();
  }

  editForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    editErrors.hidden = true;
    editor.removeAttribute("aria-invalid");
    let data;
    try {
      data = JSON.parse(editor.value);
    } catch (problem) {
      showEditErrors([`This is not valid JSON: ${problem.message}`]);
      return;
    }
    if (!data || typeof data !== "object" || Array.isArray(data)) {
      showEditErrors(["The output must be a JSON object ({ … })."]);
      return;
    }
    busy(true);
    try {
      await api("PATCH", base, { data });
      reload("edited");
    } catch (error) {
      busy(false);
      const detail = error.data && error.data.detail;
      if (error.status === 422 && Array.isArray(detail)) {
        showEditErrors(detail.map((e) => `${String(e.field || "").replace(/^body\.data\.?/, "") || "(the whole output)"}: ${e.message}`));
      } else {
        showError(explain(error));
      }
    }
  });

  // A generation already under way (started elsewhere, or before a reload): follow it.
  if (app.dataset.status === "generating" && app.dataset.job) follow(app.dataset.job);
})();
