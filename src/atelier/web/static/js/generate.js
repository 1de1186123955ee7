// Live progress of a generation or smart-populate job: follows the job's events (SSE)
// into the panel's log, offers Cancel, then opens the result or says in plain words what
// went wrong and what to do next (the panel's data-messages map error codes to that).
(function () {
  "use strict";
  // Long enough to see the last words arrive, short enough not to wait for nothing.
  const OPEN_DELAY_MS = 900;

  function follow(panel) {
    const jobId = panel.dataset.jobId;
    const log = panel.querySelector("[data-job-log]");
    const status = panel.querySelector("[data-job-status]");
    const cancel = panel.querySelector("[data-job-cancel]");
    let messages = {};
    try {
      messages = JSON.parse(panel.dataset.messages || "{}");
    } catch (_) {
      messages = {};
    }
    const title = panel.querySelector("[data-job-title]");
    let attempt = null; // the outline of the current answer as it streams

    const scroll = () => {
      log.scrollTop = log.scrollHeight;
    };
    const line = (text) => {
      const row = document.createElement("div");
      row.className = "log-line";
      row.textContent = text;
      log.append(row);
      attempt = null;
      scroll();
    };
    const stream = (text) => {
      if (!attempt) {
        attempt = window.Atelier.answerOutline(log);
        status.textContent = "The model is writing…";
      }
      const part = attempt.feed(text);
      if (part) status.textContent = `The model is writing: ${part}…`;
      scroll();
    };

    cancel?.addEventListener("click", async () => {
      cancel.disabled = true;
      status.textContent = "Cancelling…";
      try {
        await window.Atelier.api("POST", `/api/v1/jobs/${jobId}/cancel`);
      } catch (error) {
        status.textContent = error.message;
        cancel.disabled = false;
      }
    });

    const onEvent = (type, data) => {
      if (type === "started") {
        status.textContent = "Started: preparing the prompt…";
      } else if (type === "progress" && data.text) {
        stream(data.text);
      } else if (type === "progress" && data.step === "calling") {
        line(`→ asking ${data.model || "the model"}${data.provider ? ` (${data.provider})` : ""}`);
        status.textContent = data.provider === "local"
          ? "The local model reads the prompt first: on a CPU its first words can take a minute or two."
          : "Waiting for the model's first words…";
      } else if (type === "progress" && data.step) {
        line(`→ ${data.step}`);
      } else if (type === "attempt_failed") {
        // What this answer streamed is not part of the result: shown as dropped.
        attempt?.drop();
        if (data.reason === "invalid_output") {
          line(`✗ answer ${data.attempt} did not fit the structure; the model is asked to fix it`);
          status.textContent = "Asking the model to fix its answer…";
        } else {
          const retry = data.retry_in_seconds != null ? `; trying again in ${Math.ceil(data.retry_in_seconds)} s` : "";
          line(`✗ ${data.message || data.reason || "the call failed"}${retry}`);
        }
      } else if (type === "quality_findings") {
        // A valid answer with problems the checks found: it goes back once to be fixed.
        attempt?.drop();
        const n = (data.findings || []).length;
        const which = data.part ? `the part ${data.part.join(", ")}` : `answer ${data.attempt}`;
        line(`✗ ${which} had ${n} problem${n === 1 ? "" : "s"} (e.g. ${data.findings?.[0]?.message || "copied text"}); the model is asked to rewrite ${data.part ? "it" : "those parts"}`);
        status.textContent = "Asking the model to fix what the checks found…";
      } else if (type === "requeued") {
        line("→ picked up again after an interruption");
      }
    };

    const finish = (job) => {
      panel.querySelector(".spinner")?.remove();
      cancel?.remove();
      if (job.status === "succeeded") {
        attempt?.done();
        line("✓ done");
        if (title) title.textContent = "Done";
        status.textContent = "Done. Opening the result…";
        panel.classList.add("is-done");
        window.setTimeout(() => window.location.assign(panel.dataset.successUrl), OPEN_DELAY_MS);
        return;
      }
      const known = messages[job.error_code];
      const detail = job.error_message ? ` (${job.error_message})` : "";
      const text = known ? known.text : `It did not work${detail}. Try again in a moment.`;
      const cancelled = job.status === "cancelled";
      if (title) title.textContent = cancelled ? "Cancelled" : "It did not work";
      status.textContent = cancelled ? "Nothing was changed." : "Nothing was saved.";
      panel.classList.add("is-failed");
      const box = panel.querySelector("[data-job-error]");
      box.querySelector("[data-job-error-text]").textContent = text;
      const settings = box.querySelector("[data-job-settings]");
      if (settings) settings.hidden = !known?.settings;
      box.hidden = false;
      // The page's own "the output appears here" note would wait forever.
      document.querySelectorAll("[data-job-placeholder]").forEach((note) => {
        note.textContent = "No output: the generation did not finish.";
      });
    };

    window.Atelier.followJob(jobId, onEvent).then(finish, () => {
      status.textContent = "Lost touch with the server. Reload the page to see where it is.";
    });
  }

  document.querySelectorAll("[data-job]").forEach(follow);
})();
