// Upload: files dropped (or chosen) go up one request each, two at a time, with a
// progress bar and the result per file; the form's output options go with each.

import { $, authHeader, el, link } from "./core.js";

const AT_ONCE = 2;
let waiting = [];
let running = 0;
let after = () => {};

export function wire(onDone) {
  after = onDone;
  const zone = $("drop");
  const input = $("upload-files");
  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = "";
  });
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    zone.addEventListener(name, () => zone.classList.remove("over"));
  }
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    add([...event.dataTransfer.files]);
  });
  // Dropped anywhere else on the upload view: taken too, never opened by the browser.
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!$("view-upload").hidden && !zone.contains(event.target)) {
      add([...event.dataTransfer.files]);
    }
  });
}

// The form fields every file is sent with: only what the user set.
function fields() {
  const found = [];
  for (const size of $("upload-size").value.split(/[\s,]+/)) if (size) found.push(["size", size]);
  for (const name of ["fit", "format", "quality"]) {
    const value = $(`upload-${name}`).value.trim();
    if (value) found.push([name, value]);
  }
  return found;
}

function add(files) {
  const options = fields();
  for (const file of files) {
    const row = el("li", null, "upload");
    const name = el("span", file.name, "path");
    const bar = el("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Upload of ${file.name}`);
    const result = el("span", "waiting", "result");
    result.setAttribute("role", "status");
    row.append(name, bar, result);
    $("upload-list").prepend(row);
    waiting.push({ file, options, bar, result, row });
  }
  pump();
}

function pump() {
  while (running < AT_ONCE && waiting.length) {
    running += 1;
    send(waiting.shift()).finally(() => {
      running -= 1;
      pump();
      if (!running && !waiting.length) after();
    });
  }
}

// XMLHttpRequest, not fetch: only it reports the upload's progress.
function send({ file, options, bar, result, row }) {
  return new Promise((resolve) => {
    const form = new FormData();
    for (const [name, value] of options) form.append(name, value);
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "thumbnails");
    for (const [name, value] of Object.entries(authHeader())) xhr.setRequestHeader(name, value);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) {
        bar.max = event.total;
        bar.value = event.loaded;
      }
      result.textContent = "uploading";
    });
    xhr.addEventListener("load", () => {
      bar.value = bar.max;
      finish(xhr, result, row);
      resolve();
    });
    xhr.addEventListener("error", () => {
      row.dataset.outcome = "error";
      result.textContent = "the server did not answer";
      resolve();
    });
    xhr.send(form);
  });
}

function finish(xhr, result, row) {
  let body = null;
  try {
    body = JSON.parse(xhr.responseText);
  } catch (err) {
    // Not JSON: a proxy's page; the status line says enough.
  }
  const entry = body && Array.isArray(body.files) ? body.files[0] : null;
  if (xhr.status === 202 && entry && entry.status === 202) {
    row.dataset.outcome = "accepted";
    result.replaceChildren(
      el("span", `${entry.outcome.replace("_", " ")} as `),
      link(`#/job/${entry.id}`, `job ${entry.id}`),
    );
    return;
  }
  row.dataset.outcome = "refused";
  const line = (entry && entry.error) || (body && body.error) || `${xhr.status} ${xhr.statusText}`;
  result.textContent = `refused: ${line}`;
}
