// A conversation's page: a message goes to the JSON API and its reply is followed over
// the reply's events (SSE), shown as plain text as it arrives (textContent: the model's
// text is never parsed as HTML here). Once the reply is stored, the page asks the server
// for that message as it renders it (/chat/{id}/messages/{mid}), so that one renderer,
// the server's safe Markdown, shapes every message. Files are sent to the uploads API
// first, shown as chips, and go with the message once read. Without this script the
// page's forms do the same with a reload. Needs app.js (window.Atelier).
(function () {
  "use strict";
  const root = document.getElementById("chat");
  if (!root || !window.Atelier) return;
  const { api, csrf, describe } = window.Atelier;
  let config = {};
  try {
    config = JSON.parse(root.dataset.config || "{}");
  } catch (_) {
    config = {};
  }
  const log = document.getElementById("chat-log");
  const form = document.getElementById("chat-form");
  const input = document.getElementById("chat-input");
  const sendButton = document.getElementById("chat-send");
  const stopButton = document.getElementById("chat-stop");
  const live = document.getElementById("chat-live");
  const formError = document.getElementById("chat-form-error");
  const failureBox = document.getElementById("chat-failure");
  const SETTLED = new Set(["COMPLETED", "FAILED", "DELETED"]);
  let busy = false;

  const say = (text) => { if (live) live.textContent = text; };
  const sayFormError = (text) => { if (formError) formError.textContent = text; };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setBusy(value) {
    busy = value;
    root.classList.toggle("is-busy", value);
    if (sendButton) sendButton.disabled = value;
    if (stopButton) {
      stopButton.hidden = !value;
      stopButton.disabled = false;
    }
  }

  // ------------------------------------------------------------------ words
  function wordsFor(code, message) {
    const known = (config.failures || {})[code];
    if (known) return known;
    const detail = message ? ` (${message})` : "";
    return { text: `It did not work${detail}. Try again in a moment.` };
  }

  // A refused request: the API's code in the page's words; field errors as the API says.
  function refusal(error) {
    const code = error.data?.error;
    if (code === "csrf_failed") return "This page has expired: reload it and try again.";
    if (error.status === 401) return "You are signed out: sign in again, then retry.";
    if (code === "validation_error") return describe(error.data) || wordsFor(code).text;
    if (code) return wordsFor(code, describe(error.data)).text;
    return error.message || "The server did not answer. Try again in a moment.";
  }

  function showFailure(code, message) {
    if (!failureBox) return;
    const words = wordsFor(code, message);
    failureBox.querySelector("[data-failure-text]").textContent = words.text;
    const settings = failureBox.querySelector("[data-failure-settings]");
    if (settings) settings.hidden = !words.settings;
    failureBox.hidden = false;
  }

  const hideFailure = () => { if (failureBox) failureBox.hidden = true; };

  // ------------------------------------------------------------------ messages
  async function fragment(id, last) {
    const response = await fetch(`${config.page}/messages/${id}${last ? "?last=1" : ""}`, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }

  // Put the server's rendering of message `id` where `placeholder` is.
  async function swapIn(placeholder, id, last) {
    try {
      const html = await fragment(id, last);
      if (last) log.querySelectorAll(".chat-regenerate").forEach((each) => each.remove());
      document.getElementById(`message-${id}`)?.remove(); // the reply a regeneration replaced
      placeholder.insertAdjacentHTML("afterend", html);
      placeholder.remove();
      return true;
    } catch (_) {
      placeholder.classList.remove("is-streaming");
      say("The reply is saved; reload the page to see it formatted.");
      return false;
    }
  }

  function bubble(role, label) {
    const article = document.createElement("article");
    article.className = `chat-msg chat-${role}`;
    const head = document.createElement("header");
    head.className = "chat-msg-head";
    const who = document.createElement("span");
    who.className = "chat-who";
    who.textContent = label;
    head.append(who);
    const body = document.createElement("div");
    body.className = "chat-body chat-stream";
    article.append(head, body);
    log.append(article);
    return { article, body };
  }

  // Keep the newest text in view, unless the reader has scrolled up to read.
  function keepInView(force) {
    const gap = document.documentElement.scrollHeight - window.innerHeight - window.scrollY;
    if (force || gap < 200) window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function setTitle(text) {
    document.querySelectorAll("[data-chat-title]").forEach((each) => { each.textContent = text; });
    document.title = `${text} · Atelier`;
    const field = document.getElementById("chat-rename-title");
    if (field && !field.value) field.value = text;
  }

  // ------------------------------------------------------------------ a reply
  // Follow the conversation's current reply until it ends. `replacing`: the id of the
  // reply a regeneration replaces, hidden meanwhile (shown again if nothing replaces it).
  function follow(replacing) {
    setBusy(true);
    hideFailure();
    const old = replacing ? document.getElementById(`message-${replacing}`) : null;
    if (old) old.hidden = true;
    const reply = bubble("assistant", "Assistant");
    reply.article.classList.add("is-streaming");
    reply.article.setAttribute("aria-busy", "true");
    reply.body.dataset.stream = "";
    say("Waiting for the reply…");
    let stored = null; // the swap of the stored reply, once its "message" event came
    let ended = false;
    let writing = false;
    const source = new EventSource(`${config.api}/events`);

    const on = (type, handler) => source.addEventListener(type, (event) => {
      let data = {};
      try {
        data = JSON.parse(event.data || "{}");
      } catch (_) {
        data = {};
      }
      handler(data);
    });
    on("progress", (data) => {
      if (data.step !== "calling") return;
      say(data.provider === "local"
        ? "The local model reads the conversation first: on a CPU its first words can take a while."
        : `Waiting for the first words of ${data.model || "the model"}…`);
    });
    on("token", (data) => {
      if (typeof data.text !== "string") return;
      reply.body.append(document.createTextNode(data.text));
      if (!writing) {
        writing = true;
        say("The reply is being written…");
      }
      keepInView(false);
    });
    on("attempt_failed", (data) => {
      if (data.discard_text) reply.body.textContent = "";
      writing = false;
      const why = data.message || data.reason || "the call failed";
      say(`The model's answer was interrupted (${why}); trying again…`);
    });
    on("message", (data) => {
      const id = data.message?.id;
      if (!id || stored) return;
      old?.remove();
      stored = swapIn(reply.article, id, true);
    });
    on("title", (data) => { if (data.title) setTitle(data.title); });

    const end = async (kind, data) => {
      if (ended) return;
      ended = true;
      source.close();
      if (stored) await stored;
      else reply.article.remove();
      if (old && old.isConnected) old.hidden = false;
      setBusy(false);
      if (kind === "succeeded") say("");
      else if (kind === "cancelled" && stored) say("Stopped: what was written is kept.");
      else if (kind === "cancelled" && old) say("Stopped: the earlier reply is kept.");
      else {
        say("");
        showFailure(kind === "cancelled" ? "cancelled" : data.error, data.message);
      }
      keepInView(false);
    };
    for (const kind of ["succeeded", "failed", "cancelled"]) on(kind, (data) => end(kind, data));
    // A lost connection is retried by EventSource itself (from the last event it got);
    // closed for good means the server refused the stream.
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED || ended) return;
      ended = true;
      setBusy(false);
      say("Lost touch with the server. Reload the page to see the reply.");
    };
  }

  // ------------------------------------------------------------------ attachments
  const chipList = document.getElementById("chat-chips");
  const picker = document.getElementById("chat-files");
  const chips = [];
  const uploads = config.uploads || {};

  function humanSize(size) {
    if (size < 1024) return `${size} bytes`;
    const mb = size / (1024 * 1024);
    return mb >= 1 ? `${mb.toFixed(mb < 10 ? 1 : 0)} MB` : `${Math.round(size / 1024)} KB`;
  }

  function sendFile(file, onProgress) {
    return new Promise((resolve, reject) => {
      const body = new FormData();
      body.append("file", file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", uploads.url || "/api/v1/uploads");
      request.setRequestHeader("X-CSRF-Token", csrf());
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total) onProgress(event.loaded / event.total);
      });
      request.addEventListener("load", () => {
        let data = null;
        try {
          data = request.responseText ? JSON.parse(request.responseText) : null;
        } catch (_) {
          data = null;
        }
        if (request.status === 201 && data?.id) resolve(data);
        else reject(new Error(describe(data) || `the server refused it (HTTP ${request.status})`));
      });
      request.addEventListener("error", () => reject(new Error("the connection was lost")));
      request.send(body);
    });
  }

  // The upload's record once its processing has ended (its text is then readable).
  async function processed(id) {
    for (let tries = 0; ; tries += 1) {
      await sleep(tries < 60 ? 500 : 3000);
      let record;
      try {
        record = await api("GET", `/api/v1/uploads/${id}`);
      } catch (error) {
        if (error.status === 404 || error.status === 401) throw error;
        continue; // a restart or a lost connection: ask again
      }
      if (SETTLED.has(record.status)) return record;
    }
  }

  function addChip(file) {
    const item = document.createElement("li");
    item.className = "chat-chip";
    const name = document.createElement("span");
    name.className = "chat-chip-name";
    name.textContent = file.name;
    name.title = file.name;
    const state = document.createElement("span");
    state.className = "chat-chip-state small";
    state.setAttribute("role", "status");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${file.name}`);
    item.append(name, state, remove);
    chipList.append(item);
    chipList.hidden = false;
    const chip = { item, id: null, failed: false };
    const fail = (text) => {
      chip.failed = true;
      item.classList.add("is-error");
      state.textContent = `not attached: ${text}`;
    };
    chip.ready = (async () => {
      if (uploads.maxBytes && file.size > uploads.maxBytes) {
        fail(`too large (the limit is ${humanSize(uploads.maxBytes)})`);
        return;
      }
      state.textContent = "sending…";
      try {
        const record = await sendFile(file, (part) => {
          state.textContent = `sending ${Math.round(part * 100)} %`;
        });
        state.textContent = "reading…";
        const done = await processed(record.id);
        if (done.status === "DELETED") {
          fail("it was deleted");
          return;
        }
        chip.id = done.id;
        item.classList.add("is-ready");
        state.textContent = done.status === "COMPLETED" ? "ready" : "ready (no text could be read)";
      } catch (error) {
        fail(error.message);
      }
    })();
    remove.addEventListener("click", () => {
      chips.splice(chips.indexOf(chip), 1);
      item.remove();
      chipList.hidden = chips.length === 0;
      input?.focus();
    });
    chips.push(chip);
  }

  // The ids to send once every chip is ready; refuses while one could not be attached.
  async function attachments() {
    if (chips.some((chip) => chip.id === null && !chip.failed)) say("Waiting for the files to be read…");
    await Promise.all(chips.map((chip) => chip.ready));
    if (chips.some((chip) => chip.failed)) {
      throw new Error("A file could not be attached: remove it (×) or choose it again.");
    }
    return chips.map((chip) => chip.id);
  }

  function clearChips() {
    chips.splice(0, chips.length);
    if (chipList) {
      chipList.textContent = "";
      chipList.hidden = true;
    }
  }

  if (picker && chipList) {
    root.querySelector(".chat-attach").hidden = false;
    picker.addEventListener("change", () => {
      for (const file of picker.files) addChip(file);
      picker.value = ""; // choosing the same file again is a new upload
    });
  }

  // ------------------------------------------------------------------ sending
  let sending = false;
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy || sending) return;
    const content = input.value.trim();
    if (!content) {
      sayFormError("Write a message first.");
      input.focus();
      return;
    }
    sayFormError("");
    sending = true;
    sendButton.disabled = true;
    try {
      const files = await attachments();
      const chosen = document.getElementById("chat-provider")?.value;
      const body = { content, attachments: files };
      if (chosen) body.provider_id = chosen;  // else the project's or the user's default
      const sent = await api("POST", `${config.api}/messages`, body);
      input.value = "";
      clearChips();
      document.getElementById("chat-empty")?.remove();
      log.querySelectorAll(".chat-regenerate").forEach((each) => each.remove());
      // Shown at once as typed (text), then as the server renders it.
      const mine = bubble("user", "You");
      mine.body.textContent = content;
      keepInView(true);
      swapIn(mine.article, sent.message.id, false);
      follow(null);
    } catch (error) {
      say("");
      sayFormError(error.data ? refusal(error) : error.message);
      sendButton.disabled = busy;
    } finally {
      sending = false;
    }
  });

  // Enter sends; Shift+Enter (or an input method composing a word) is a new line.
  input?.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    form.requestSubmit();
  });

  document.getElementById("chat-stop-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (stopButton) stopButton.disabled = true;
    say("Stopping…");
    try {
      await api("POST", `${config.api}/stop`);
    } catch (error) {
      // Finished meanwhile: its own events say how it ended.
      if (error.data?.error !== "no_reply_running") say(refusal(error));
      if (stopButton) stopButton.disabled = false;
    }
  });

  // Regenerate (under the newest reply) and Retry (after a failure) ask for a new reply.
  document.addEventListener("submit", async (event) => {
    const target = event.target;
    if (!target.matches?.(".chat-regenerate, [data-retry]")) return;
    event.preventDefault();
    if (busy) return;
    const messages = log.querySelectorAll(".chat-msg");
    const last = messages[messages.length - 1];
    const replacing = last?.dataset.role === "assistant" ? last.dataset.messageId : null;
    target.querySelector("button")?.setAttribute("disabled", "");
    try {
      await api("POST", `${config.api}/regenerate`);
    } catch (error) {
      target.querySelector("button")?.removeAttribute("disabled");
      showFailure(error.data?.error, describe(error.data));
      return;
    }
    log.querySelectorAll(".chat-regenerate").forEach((each) => each.remove());
    target.querySelector("button")?.removeAttribute("disabled");
    follow(replacing);
  });

  // A reply being written when the page was opened: followed from its first event.
  if (config.running) follow(config.replacing);
})();
