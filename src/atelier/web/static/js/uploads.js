// The uploads pages: files chosen or dropped are sent to the JSON API one after another
// with XMLHttpRequest (fetch cannot report upload progress), the API's refusals are
// worded next to their file, and rows whose processing has not ended follow their
// status until it has. Needs app.js (window.Atelier) for the CSRF token and API calls.
(function () {
  "use strict";
  const { api, csrf } = window.Atelier;
  const FAST_POLL_MS = 1000;
  const SLOW_POLL_MS = 5000;
  // Processing is usually done in seconds; OCR of a long scan can take minutes, for which
  // polling every second would be wasted requests.
  const FAST_FOR_MS = 60000;
  const SETTLED = new Set(["COMPLETED", "FAILED", "DELETED"]);

  function readJson(element, name) {
    try {
      return JSON.parse(element?.dataset[name] || "null");
    } catch (_) {
      return null;
    }
  }

  // Bytes as the pages show them (upload_views.human_size does the same on the server).
  function humanSize(size) {
    if (typeof size !== "number" || !isFinite(size)) return "";
    if (size < 1024) return size === 1 ? "1 byte" : `${size} bytes`;
    let value = size;
    let unit = "";
    for (unit of ["KB", "MB", "GB", "TB"]) {
      value /= 1024;
      if (value < 1024) break;
    }
    const text = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : Math.round(value).toString();
    return `${text} ${unit}`;
  }

  // The API's error answer ({"error": CODE, "detail": ...}) in words a person can act on.
  function explain(status, data, config) {
    const code = data?.error;
    const detail = data?.detail;
    const names = config.typeNames || {};
    switch (code) {
      case "file_too_large":
        return `too large: the limit is ${humanSize(detail?.limit_bytes ?? config.maxBytes)}`;
      case "storage_quota_exceeded":
        return detail?.quota_bytes !== undefined
          ? `your storage is full: uploads may take ${humanSize(detail.quota_bytes)} in all and ` +
            `${humanSize(detail.used_bytes)} are used; delete some files first`
          : "your storage is full: delete some files first";
      case "unsupported_type": {
        const accepted = [...new Set((detail?.accepted || []).map((type) => names[type] || type))];
        return accepted.length
          ? `this type is not accepted (accepted: ${accepted.join(", ")})`
          : "this type is not accepted";
      }
      case "empty_file":
        return "the file is empty";
      case "csrf_failed":
        return "this page has expired: reload it and try again";
      default:
        break;
    }
    if (status === 401) return "you are signed out: sign in again, then retry";
    if (status === 404) return "the project is gone, or no longer shared with you";
    if (Array.isArray(detail)) {
      const said = detail.map((error) => error?.message).filter(Boolean);
      if (said.length) return said.join("; ");
    }
    if (typeof detail === "string" && detail) return detail;
    if (detail?.message) return detail.message;
    return status ? `the server refused it (HTTP ${status})` : "the server did not answer";
  }

  // ------------------------------------------------------------------ the queue
  function queueItem(queue, file) {
    const item = document.createElement("li");
    item.className = "upload-item";
    const head = document.createElement("div");
    head.className = "upload-item-head";
    const name = document.createElement("span");
    name.className = "upload-item-name";
    name.textContent = file.name;
    const size = document.createElement("span");
    size.className = "small muted";
    size.textContent = humanSize(file.size);
    const percent = document.createElement("span");
    percent.className = "upload-percent small";
    percent.textContent = "waiting";
    head.append(name, size, percent);
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", `Sending ${file.name}`);
    // role=status: the outcome is read out; the percentages in between are not.
    const message = document.createElement("p");
    message.className = "upload-message small";
    message.setAttribute("role", "status");
    item.append(head, bar, message);
    queue.hidden = false;
    queue.append(item);
    return {
      progress(fraction) {
        const value = Math.max(0, Math.min(100, Math.round(fraction * 100)));
        bar.value = value;
        percent.textContent = `${value} %`;
      },
      start() {
        item.classList.add("is-sending");
        this.progress(0);
      },
      done(text) {
        item.classList.remove("is-sending");
        item.classList.add("is-done");
        message.textContent = text;
      },
      fail(text) {
        // What was sent of a refused file means nothing to its reader: only the reason.
        bar.hidden = true;
        percent.textContent = "";
        item.classList.remove("is-sending");
        item.classList.add("is-error");
        message.classList.add("field-error");
        message.textContent = `Not sent: ${text}.`;
      },
    };
  }

  function send(file, config, item) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      if (config.projectId) form.append("project_id", config.projectId);
      form.append("file", file, file.name);
      const request = new XMLHttpRequest();
      request.open("POST", config.url);
      request.setRequestHeader("X-CSRF-Token", csrf());
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total) item.progress(event.loaded / event.total);
      });
      request.addEventListener("load", () => {
        let data = null;
        try {
          data = request.responseText ? JSON.parse(request.responseText) : null;
        } catch (_) {
          data = null; // an answer from a proxy, not the API: worded by its status
        }
        if (request.status === 201 && data?.id) {
          item.progress(1);
          resolve(data);
        } else {
          reject(new Error(explain(request.status, data, config)));
        }
      });
      // The server may close the connection before reading a body over its limit.
      request.addEventListener("error", () => reject(new Error(
        file.size > config.maxBytes
          ? explain(413, { error: "file_too_large" }, config)
          : "the connection was lost; try again")));
      request.addEventListener("abort", () => reject(new Error("cancelled")));
      request.send(form);
    });
  }

  // ------------------------------------------------------------------ rows
  function setBadge(container, status, statuses) {
    const badge = container.querySelector("[data-status-badge]");
    const known = statuses?.[status];
    if (!badge || !known) return;
    badge.textContent = known[0];
    badge.className = `badge ${known[1]}`;
  }

  // Ask the API for the record until its processing has ended, then onSettled(record).
  function follow(id, onChange, onSettled) {
    const started = Date.now();
    let failures = 0;
    const next = () => {
      const wait = Date.now() - started < FAST_FOR_MS ? FAST_POLL_MS : SLOW_POLL_MS;
      setTimeout(check, Math.min(wait * (1 + failures), 30000));
    };
    const check = async () => {
      try {
        const record = await api("GET", `/api/v1/uploads/${id}`);
        failures = 0;
        onChange(record);
        if (SETTLED.has(record.status)) onSettled(record);
        else next();
      } catch (error) {
        if (error.status === 404 || error.status === 401) return; // gone, or signed out
        failures += 1; // a restart or a lost connection: try again, less often
        next();
      }
    };
    next();
  }

  async function rowHtml(id, listPath) {
    const response = await fetch(`/uploads/${id}/row?list=${encodeURIComponent(listPath)}`, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return response.text();
  }

  function watchRow(row, list) {
    if (!row || row.dataset.watched || SETTLED.has(row.dataset.status)) return;
    row.dataset.watched = "yes";
    const statuses = readJson(list, "statuses");
    const id = row.dataset.uploadId;
    follow(
      id,
      (record) => {
        row.dataset.status = record.status;
        setBadge(row, record.status, statuses);
      },
      async () => {
        // The finished row as the server renders it: thumbnail, failure reason, links.
        try {
          const html = await rowHtml(id, list.dataset.listPath);
          const current = document.getElementById(`upload-${id}`);
          if (current) current.outerHTML = html;
        } catch (_) {
          /* the badge already says how it ended */
        }
      },
    );
  }

  async function addRow(id, list) {
    const html = await rowHtml(id, list.dataset.listPath);
    document.getElementById(`upload-${id}`)?.remove();
    list.insertAdjacentHTML("afterbegin", html);
    document.getElementById("uploads-empty")?.remove();
    watchRow(document.getElementById(`upload-${id}`), list);
  }

  // ------------------------------------------------------------------ the zone
  function setUpZone(zone) {
    const config = readJson(zone, "config") || {};
    const input = zone.querySelector("input[type=file]");
    const queue = zone.querySelector(".upload-queue");
    const list = document.getElementById("upload-list");
    // One file after another: several at once would share the bandwidth and all finish
    // late, and the quota is checked against what is already stored.
    let chain = Promise.resolve();

    const enqueue = (files) => {
      for (const file of files) {
        const item = queueItem(queue, file);
        chain = chain.then(async () => {
          if (file.size > config.maxBytes) {
            item.fail(explain(413, { error: "file_too_large" }, config));
            return;
          }
          item.start();
          let record;
          try {
            record = await send(file, config, item);
          } catch (error) {
            item.fail(error.message);
            return;
          }
          // The row in the list below follows the processing; this line stays true.
          item.done("Sent: its processing shows in the list below.");
          if (list) {
            try {
              await addRow(record.id, list);
            } catch (_) {
              item.done("Sent; reload the page to see it in the list.");
            }
          }
        });
      }
    };

    input.addEventListener("change", () => {
      enqueue([...input.files]);
      input.value = ""; // choosing the same file again is a new upload
    });
    const hasFiles = (event) => [...(event.dataTransfer?.types || [])].includes("Files");
    zone.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      zone.classList.add("is-dragover");
    });
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("is-dragover");
    });
    zone.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.classList.remove("is-dragover");
      enqueue([...event.dataTransfer.files]);
    });
    // A file dropped beside the zone would otherwise replace the page with the file.
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
      });
    }
  }

  // ------------------------------------------------------------------ start
  const zone = document.getElementById("upload-zone");
  if (zone) setUpZone(zone);

  const list = document.getElementById("upload-list");
  if (list) {
    list.querySelectorAll(".upload-row").forEach((row) => watchRow(row, list));
    // Rows of "Load more" (htmx) that are still being processed.
    document.body.addEventListener("htmx:load", (event) => {
      const row = event.detail?.elt;
      if (row?.classList?.contains("upload-row")) watchRow(row, list);
    });
  }

  // The preview page of a file still being processed: its badge follows, and the page
  // reloads with the text once processing has ended.
  const preview = document.querySelector("[data-live-upload]");
  if (preview && !SETTLED.has(preview.dataset.status)) {
    const statuses = readJson(preview, "statuses");
    follow(
      preview.dataset.liveUpload,
      (record) => setBadge(preview, record.status, statuses),
      () => window.location.reload(),
    );
  }
})();
