// The job view: its source (and original upload name), options, state, attempts,
// error and thumbnails as images with their sizes and links.

import { $, api, baseName, bytes, clock, el, link, NotFound, when } from "./core.js";
import { objectUrl, thumbnail } from "./gallery.js";

let act = null;
let shownKey = null;

export function useActions(runner) {
  act = runner;
}

export async function show(id) {
  let job;
  try {
    job = await api(`jobs/${encodeURIComponent(id)}`);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    gone(id);
    return;
  }
  const key = JSON.stringify(job);
  if (key === shownKey) return; // unchanged: the buttons keep the focus
  shownKey = key;
  const name = job.label || baseName(job.source);
  $("job-title").textContent = `Job ${job.id}: ${name}`;
  const facts = [
    ["state", stateBadge(job.state)],
    ["upload name", job.label],
    ["source", job.source],
    ["source size", job.source_size === null ? null : bytes(job.source_size)],
    ["video", videoFacts(job.info && job.info.video)],
    ["output folder", job.out_dir],
    [
      "options",
      job.options
        .map((o) => `${o.size} ${o.fit}, ${o.format}, quality ${o.quality}`)
        .join("; "),
    ],
    ["attempts", String(job.attempts)],
    ["priority", String(job.priority)],
    ["error", job.error],
  ];
  $("job-facts").replaceChildren(
    ...facts
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .flatMap(([term, value]) => {
        const dd = el("dd", null, term === "error" ? "reason" : "path");
        if (value instanceof Node) dd.append(value);
        else dd.textContent = value;
        return [el("dt", term), dd];
      }),
  );
  renderActions(job, name);
  renderAttempts(job.attempt_list);
  renderThumbnails(job, name);
}

// What the worker recorded of a video: "0:12.5, h264, 1920×1080" (null for others).
function videoFacts(video) {
  if (!video) return null;
  const length = typeof video.duration === "number" ? clock(video.duration) : "length unknown";
  return `${length}, ${video.codec}, ${video.width}×${video.height}`;
}

function stateBadge(state) {
  return el("span", state, `state state-${state}`);
}

function renderActions(job, name) {
  const box = $("job-actions");
  box.replaceChildren();
  if (["failed", "cancelled", "vanished"].includes(job.state)) {
    const b = el("button", "Retry", "button");
    b.type = "button";
    b.setAttribute("aria-label", `Retry ${name}`);
    b.addEventListener("click", () =>
      act(`jobs/${job.id}/retry`, b, { did: () => `Retried job ${job.id}` }),
    );
    box.append(b);
  }
  if (job.state === "queued") {
    const b = el("button", "Cancel", "button");
    b.type = "button";
    b.setAttribute("aria-label", `Cancel ${name}`);
    b.addEventListener("click", () =>
      act(`jobs/${job.id}/cancel`, b, {
        ask: `Cancel job ${job.id} (${name})? It leaves the queue; Retry queues it again.`,
        yes: "Cancel the job",
        did: () => `Cancelled job ${job.id}`,
      }),
    );
    box.append(b);
  }
}

function renderAttempts(attempts) {
  $("job-attempts").hidden = attempts.length === 0;
  $("job-attempt-rows").replaceChildren(
    ...attempts.map((a) => {
      const tr = el("tr");
      tr.append(el("td", a.number, "num"), el("td", a.host || "–"), el("td", a.worker, "path"));
      tr.append(el("td", when(a.started_at), "time"), el("td", when(a.ended_at), "time"));
      tr.append(el("td", a.outcome || "running"), el("td", a.error || "", "reason"));
      return tr;
    }),
  );
}

function renderThumbnails(job, name) {
  $("job-no-thumbs").hidden = job.thumbnails.length !== 0;
  $("job-no-thumbs").textContent =
    job.state === "done" ? "No thumbnail of this job is in the server's output folder." : "No thumbnails yet.";
  $("job-thumbs").replaceChildren(
    ...job.thumbnails.map((url) => {
      const figure = el("figure", null, "shot");
      const caption = el("figcaption");
      const file = decodeURIComponent(baseName(url));
      const dims = el("span", "", "dims");
      const img = thumbnail(url, `${name}: ${file}`, job.finished_at, (size, image) => {
        const shown = () => {
          dims.textContent = `${image.naturalWidth}×${image.naturalHeight} px, ${bytes(size)}`;
        };
        if (image.complete && image.naturalWidth) shown();
        else image.addEventListener("load", shown, { once: true });
        open.href = objectUrl(url) || url;
      });
      const open = link(url, file, "path");
      open.target = "_blank";
      open.rel = "noopener";
      open.download = file;
      caption.append(open, dims);
      figure.append(img, caption);
      return figure;
    }),
  );
}

// A job that is not (or no longer) in the queue: say so instead of showing it stale.
function gone(id) {
  shownKey = null;
  $("job-title").textContent = `Job ${id}: not in the queue`;
  $("job-actions").replaceChildren();
  $("job-facts").replaceChildren(
    el("dt", "state"),
    el("dd", "gone: cleared, or never queued (job ids are never reused)"),
  );
  $("job-thumbs").replaceChildren();
  $("job-no-thumbs").hidden = false;
  $("job-no-thumbs").textContent = "No thumbnails to show.";
  $("job-attempts").hidden = true;
}

export function forget() {
  shownKey = null;
}
