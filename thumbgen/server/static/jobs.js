// The jobs view: every state, newest or oldest first, a search by name, paging by
// cursor (the server's X-Next-Cursor), failures grouped by reason with a retry each.

import { $, STATES, api, baseName, el, link, when } from "./core.js";

const PAGE = 50;
let act = null;
// Where the view is: the filter from the URL, the cursors of the pages before this
// one (for Previous) and of this one and the next.
let shown = { key: null, cursors: [], cursor: null, next: null };

export function useActions(runner) {
  act = runner;
}

// The filter the URL fragment asks for: #/jobs?state=failed&q=beach&order=oldest.
export function filterOf(params) {
  const state = STATES.includes(params.get("state")) ? params.get("state") : "";
  const order = params.get("order") === "oldest" ? "oldest" : "newest";
  return { state, q: params.get("q") || "", order, error: params.get("error") };
}

export function hrefOf(filter) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v) params.set(k, v);
  const query = params.toString();
  return "#/jobs" + (query ? "?" + query : "");
}

// Show the view for `filter`; from the first page when the filter changed.
export async function show(filter, { live = false } = {}) {
  const key = JSON.stringify(filter);
  if (key !== shown.key) {
    shown = { key, cursors: [], cursor: null, next: null };
    $("jobs-state").value = filter.state;
    $("jobs-order").value = filter.order;
    if (document.activeElement !== $("jobs-q")) $("jobs-q").value = filter.q;
  } else if (live && shown.cursor !== null) {
    return; // a deeper page stays as it is until asked; the first one is live
  }
  await load(filter);
}

async function load(filter) {
  const params = {
    state: filter.state,
    q: filter.q,
    order: filter.order,
    error: filter.error,
    cursor: shown.cursor,
    limit: PAGE,
  };
  const { body, headers } = await api("jobs", { params, full: true });
  shown.next = headers.get("X-Next-Cursor");
  renderRows(body);
  const what = filter.state ? `${filter.state} jobs` : "jobs";
  const searched = filter.q ? ` matching “${filter.q}”` : "";
  const reason = filter.error ? ` that failed with “${filter.error}”` : "";
  $("jobs-title").textContent = `${what[0].toUpperCase()}${what.slice(1)}${searched}${reason}`;
  const page = shown.cursors.length + 1;
  $("jobs-page").textContent = body.length ? `page ${page}` : "";
  $("jobs-prev").disabled = shown.cursors.length === 0;
  $("jobs-next").disabled = !shown.next;
  $("jobs-empty").hidden = body.length !== 0;
  $("jobs-table").hidden = body.length === 0;
  $("jobs-reason-note").hidden = !filter.error;
  $("jobs-retry-reason").hidden = !(filter.error && filter.state === "failed");
  await renderReasons(filter);
}

function renderRows(jobs) {
  $("jobs-rows").replaceChildren(...jobs.map(row));
}

function row(job) {
  const tr = el("tr");
  tr.dataset.job = String(job.id);
  const name = el("td", null, "path");
  name.append(link(`#/job/${job.id}`, job.label || baseName(job.source)));
  if (job.label) name.append(el("span", job.source, "sub-path"));
  const state = el("td", null);
  state.append(el("span", job.state, `state state-${job.state}`));
  tr.append(el("td", job.id, "num"), name, state, el("td", job.attempts, "num"));
  tr.append(el("td", when(job.finished_at || job.started_at || job.queued_at), "time"));
  tr.append(el("td", job.error || "", "reason"));
  const cell = el("td", null, "action");
  const label = job.label || baseName(job.source);
  if (["failed", "cancelled", "vanished"].includes(job.state)) {
    cell.append(actionButton("Retry", `Retry ${label}`, `jobs/${job.id}/retry`, `Retried job ${job.id}`));
  } else if (job.state === "queued") {
    cell.append(
      actionButton("Cancel", `Cancel ${label}`, `jobs/${job.id}/cancel`, `Cancelled job ${job.id}`, {
        ask: `Cancel job ${job.id} (${label})? It leaves the queue; Retry queues it again.`,
        yes: "Cancel the job",
      }),
    );
  }
  tr.append(cell);
  return tr;
}

function actionButton(text, label, path, did, ask = null) {
  const b = el("button", text, "button button-small");
  b.type = "button";
  b.setAttribute("aria-label", label);
  b.addEventListener("click", () => act(path, b, { did: () => did, ...(ask || {}) }));
  return b;
}

// Failures by reason, beside the failed jobs (or every job): each links to its jobs.
async function renderReasons(filter) {
  const panel = $("reasons");
  if (filter.state !== "failed" || filter.error) {
    panel.hidden = true;
    return;
  }
  const { reasons } = await api("failures", { params: { limit: 20 } });
  panel.hidden = reasons.length === 0;
  $("reason-rows").replaceChildren(
    ...reasons.map(({ error, count }) => {
      const tr = el("tr");
      const cell = el("td", null, "reason");
      cell.append(link(hrefOf({ ...filter, error }), error));
      tr.append(cell, el("td", count, "num"));
      const action = el("td", null, "action");
      action.append(retryReasonButton(error, count));
      tr.append(action);
      return tr;
    }),
  );
}

function retryReasonButton(error, count) {
  const b = el("button", "Retry these", "button button-small");
  b.type = "button";
  b.setAttribute("aria-label", `Retry the ${count} jobs that failed with ${error}`);
  b.addEventListener("click", () =>
    act("jobs/retry", b, {
      params: { error },
      ask: `Queue again the ${count} job(s) that failed with “${error}”?`,
      yes: "Retry them",
      did: (r) => `Retried ${r.retried} job(s) that failed with “${error}”`,
    }),
  );
  return b;
}

export function wire(go) {
  const current = () => ({
    state: $("jobs-state").value,
    q: $("jobs-q").value.trim(),
    order: $("jobs-order").value,
    error: null,
  });
  // Not the form's submit: the page's policy (form-action 'none') stops a submission.
  $("jobs-form").addEventListener("submit", (event) => event.preventDefault());
  $("jobs-search").addEventListener("click", () => go(hrefOf(current())));
  $("jobs-q").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      go(hrefOf(current()));
    }
  });
  for (const id of ["jobs-state", "jobs-order"]) {
    $(id).addEventListener("change", () => go(hrefOf(current())));
  }
  $("jobs-next").addEventListener("click", () => {
    shown.cursors.push(shown.cursor);
    shown.cursor = Number(shown.next);
    load(JSON.parse(shown.key));
  });
  $("jobs-prev").addEventListener("click", () => {
    shown.cursor = shown.cursors.pop() ?? null;
    load(JSON.parse(shown.key));
  });
  $("jobs-retry-reason").addEventListener("click", () => {
    const filter = JSON.parse(shown.key);
    act("jobs/retry", $("jobs-retry-reason"), {
      params: { error: filter.error },
      ask: `Queue again every job that failed with “${filter.error}”?`,
      yes: "Retry them",
      did: (r) => `Retried ${r.retried} job(s) that failed with “${filter.error}”`,
    });
  });
}
