// The overview: jobs per state (each a link to its list), workers, throughput and
// the newest failures. Drawn from /status, /throughput and the failed jobs' ids.

import { $, STATES, api, el, ago, link } from "./core.js";

let act = null;

// The app's action runner (POST, say what it did, poll again).
export function useActions(runner) {
  act = runner;
}

// Forget the failures shown, so that the next poll rebuilds them with live buttons.
export function resetFailures() {
  failedJobs.key = null;
  failuresShown = null;
}

export function renderCounts(status) {
  for (const state of STATES) {
    // A dash for a state an older server does not report.
    $(`count-${state}`).textContent = String(status[state] ?? "–");
  }
  $("queue-location").textContent = status.queue;
  $("paused-badge").hidden = !status.paused;
  $("paused-note").hidden = !status.paused;
  $("pause").disabled = status.paused;
  $("resume").disabled = !status.paused;
  const stranded = $("stranded");
  stranded.hidden = !status.stranded;
  stranded.textContent = status.stranded
    ? `${status.stranded} running job(s) have no live worker: ` +
      "the next worker start puts them back."
    : "";
}

export function renderWorkers(status, now) {
  // `now` is the server's clock (the throughput window's end), so that a
  // browser on another machine with a wrong clock still shows true ages.
  const rows = $("worker-rows");
  rows.replaceChildren(
    ...status.worker_list.map((w) => {
      const tr = el("tr");
      tr.dataset.worker = w.id;
      tr.append(el("td", w.host), el("td", w.pid, "num"));
      const current = w.current ? el("td", w.current, "path") : el("td", "idle", "idle");
      tr.append(current, el("td", w.jobs_done, "num"), el("td", ago(now - w.started_at), "num"));
      return tr;
    }),
  );
  const n = status.worker_list.length;
  $("workers-summary").textContent = n === 1 ? "1 alive" : `${n} alive`;
  $("workers").hidden = n === 0;
  $("workers-empty").hidden = n !== 0;
}

// Failed jobs' ids by source, refreshed only when the failures change.
let failedJobs = { key: null, jobs: [] };

export async function refreshFailedJobs(status) {
  const key = JSON.stringify([status.failed, status.failures]);
  if (key === failedJobs.key) return;
  const limit = Math.min(Math.max(status.failed, 1), 10000);
  const jobs = status.failed ? await api("jobs", { params: { state: "failed", limit } }) : [];
  failedJobs = { key, jobs };
}

// What the failures table shows now; it is rebuilt only when that changes, so
// that a Retry button keeps the keyboard focus between polls.
let failuresShown = null;

export function renderFailures(status) {
  // status.failures is newest first; each gets the id of a failed job of that source.
  const unclaimed = [...failedJobs.jobs];
  const matched = status.failures.map((f) => {
    let at = unclaimed.findIndex((j) => j.source === f.source && j.error === f.error);
    if (at < 0) at = unclaimed.findIndex((j) => j.source === f.source);
    return { failure: f, id: at >= 0 ? unclaimed.splice(at, 1)[0].id : null };
  });
  const summary =
    status.failed > matched.length
      ? `newest ${matched.length} of ${status.failed}; thumbgen status --failed lists them all`
      : "";
  $("failures-summary").textContent = summary;
  $("failures").hidden = matched.length === 0;
  $("failures-empty").hidden = matched.length !== 0;
  const key = JSON.stringify(matched);
  if (key === failuresShown) return;
  failuresShown = key;
  $("failure-rows").replaceChildren(...matched.map(({ failure, id }) => failureRow(failure, id)));
}

function failureRow(failure, id) {
  const tr = el("tr");
  const source = el("td", null, "path");
  source.append(id === null ? el("span", failure.source) : link(`#/job/${id}`, failure.source));
  tr.append(source, el("td", failure.error, "reason"));
  const cell = el("td", null, "action");
  const button = el("button", "Retry", "button button-small");
  button.type = "button";
  button.setAttribute("aria-label", `Retry ${failure.source}`);
  if (id !== null) {
    tr.dataset.job = String(id);
    button.addEventListener("click", () =>
      act(`jobs/${encodeURIComponent(id)}/retry`, button, { did: (r) => `Retried job ${id}` }),
    );
  } else {
    button.disabled = true;
    button.title = "not in the failed list any more";
  }
  cell.append(button);
  tr.append(cell);
  return tr;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// The smallest of 1, 2, 5, 10, 20, 50... at or above n: round numbers for the axis.
function niceCeiling(n) {
  let scale = 1;
  for (;;) {
    for (const m of [1, 2, 5]) if (m * scale >= n) return m * scale;
    scale *= 10;
  }
}

export function renderChart(through) {
  const counts = through.minutes.map((n) => Number(n) || 0);
  const chart = $("chart-svg");
  // Drawn at the element's own width, so that text is never stretched.
  const width = Math.max(240, Math.round(chart.getBoundingClientRect().width) || 600);
  const height = 160, left = 36, right = 4, bottom = 20, top = 10;
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const plotW = width - left - right, plotH = height - bottom - top;
  const peak = niceCeiling(Math.max(1, ...counts));
  const step = plotW / counts.length;
  const nodes = [];
  const ticks = peak % 2 === 0 ? [0, peak / 2, peak] : [0, peak];
  for (const value of ticks) {
    const y = top + plotH - (value / peak) * plotH;
    nodes.push(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    const label = { x: left - 8, y: y + 4, "text-anchor": "end", class: "label" };
    nodes.push(svg("text", label, String(value)));
  }
  counts.forEach((n, i) => {
    const h = (n / peak) * plotH;
    const bar = svg("rect", {
      x: left + i * step + step * 0.12,
      y: top + plotH - h,
      width: step * 0.76,
      height: h,
      rx: Math.min(3, h / 2),
      class: i === counts.length - 1 ? "bar-rect newest" : "bar-rect",
    });
    const age = counts.length - i;
    bar.append(svg("title", {}, `${n} finished ${age - 1}–${age} min ago`));
    nodes.push(bar);
  });
  const xLabel = (x, anchor, text) =>
    svg("text", { x, y: height - 4, "text-anchor": anchor, class: "label" }, text);
  nodes.push(xLabel(left, "start", `${counts.length} min ago`));
  nodes.push(xLabel(width - right, "end", "now"));
  chart.replaceChildren(...nodes);
  const total = counts.reduce((a, b) => a + b, 0);
  const last = counts[counts.length - 1] || 0;
  const minutes = counts.length;
  $("throughput-summary").textContent = `${last} in the last minute, ${total} in ${minutes} min`;
  $("chart-desc").textContent =
    `Jobs finished per minute over the last ${minutes} minutes, oldest first: ` +
    counts.join(", ");
}
