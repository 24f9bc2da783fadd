// thumbgen dashboard: views picked by the URL fragment (#/jobs?state=failed, #/job/12,
// #/gallery, #/upload; the overview otherwise), all drawn from the JSON API, polled.
// No framework, no build step: ES modules served as they are.

import * as core from "./core.js";
import * as gallery from "./gallery.js";
import * as job from "./job.js";
import * as jobs from "./jobs.js";
import * as overview from "./overview.js";
import * as upload from "./upload.js";

const { $, AuthError, Unreachable, api, notice, said } = core;
const POLL_MS = 1500;
const HIDDEN_POLL_MS = 15000;
const VIEWS = ["overview", "jobs", "job", "gallery", "upload"];

// -- the route ---------------------------------------------------------------------------

function route() {
  const hash = location.hash.slice(1);
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const jobMatch = /^\/job\/(\d+)$/.exec(path);
  if (jobMatch) return { view: "job", id: jobMatch[1] };
  if (path === "/jobs") return { view: "jobs", filter: jobs.filterOf(params) };
  if (path === "/gallery") return { view: "gallery" };
  if (path === "/upload") return { view: "upload" };
  return { view: "overview" };
}

function showView(view) {
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== view;
  for (const a of document.querySelectorAll(".nav a")) {
    if (a.dataset.view === view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// -- the loop ----------------------------------------------------------------------------

let timer = null;
let busy = false;
let again = false;
let pollMs = POLL_MS;
let actionError = null;

async function poll({ moved = false } = {}) {
  clearTimeout(timer);
  if (busy) {
    again = true; // an action asked for fresh numbers while a poll was out
    return;
  }
  busy = true;
  const where = route();
  try {
    showView(where.view);
    const status = await api("status");
    overview.renderCounts(status);
    // Live again after a refusal or a press (disableControls, act).
    for (const b of document.querySelectorAll(".bulk button")) b.disabled = false;
    const { queued, running, failed } = status;
    document.title = `thumbgen · ${queued} queued · ${running} running · ${failed} failed`;
    if (where.view === "overview") {
      const through = await api("throughput");
      await overview.refreshFailedJobs(status);
      overview.renderWorkers(status, through.until);
      overview.renderFailures(status);
      overview.renderChart(through);
    } else if (where.view === "jobs") {
      await jobs.show(where.filter, { live: !moved });
    } else if (where.view === "job") {
      await job.show(where.id);
    } else if (where.view === "gallery") {
      await gallery.show();
    }
    hideTokenForm();
    notice(actionError ? "error" : null, actionError);
    pollMs = POLL_MS;
    core.$("live").dataset.state = "live";
    $("live-text").textContent = "live";
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (err) {
    problem(err);
  } finally {
    busy = false;
    if (again) {
      again = false;
      poll();
    } else {
      // A tab in the background asks rarely; it catches up when shown again.
      timer = setTimeout(poll, document.hidden ? HIDDEN_POLL_MS : pollMs);
    }
  }
}

function setLive(state, text) {
  $("live").dataset.state = state;
  $("live-text").textContent = text;
}

function problem(err) {
  disableControls();
  if (err instanceof AuthError) {
    pollMs = 5000; // nothing changes until a new token comes
    setLive("down", "no access");
    const what = core.hasToken() ? "The server refused this token" : "This server needs a token";
    notice("error", `${what} (${err.message}). Enter it below, or open the URL thumbgen serve printed.`);
    showTokenForm();
  } else if (err instanceof Unreachable) {
    setLive("down", "disconnected");
    notice("warning", "Disconnected: the server does not answer. Retrying every few seconds…");
  } else {
    setLive("down", "error");
    notice("error", `The server answered with an error: ${err.message}`);
  }
}

function disableControls() {
  for (const b of document.querySelectorAll("main button, .controls button")) b.disabled = true;
  overview.resetFailures(); // rebuilt, with live buttons, at the next good poll
  job.forget();
}

// -- the token form ----------------------------------------------------------------------

function showTokenForm() {
  const form = $("token-form");
  if (!form.hidden) return;
  form.hidden = false;
  $("token-input").focus();
}

function hideTokenForm() {
  $("token-form").hidden = true;
}

function useToken() {
  const value = $("token-input").value.trim();
  if (!value) return;
  core.setToken(value);
  $("token-input").value = "";
  hideTokenForm();
  overview.resetFailures();
  poll();
}

// Not the form's submit: the page's policy (form-action 'none') stops a submission.
$("token-form").addEventListener("submit", (event) => event.preventDefault());
$("token-use").addEventListener("click", useToken);
$("token-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    useToken();
  }
});

// -- actions -----------------------------------------------------------------------------

// POST `path`; with `ask`, only after the person says yes. Says what it did.
async function act(path, button, { ask = null, yes = "Yes", params = null, did = null } = {}) {
  if (ask && !(await core.confirmed(ask, yes))) return;
  if (button) button.disabled = true;
  actionError = null;
  said("");
  try {
    const result = await api(path, { method: "POST", params });
    if (did) said(did(result));
  } catch (err) {
    if (err instanceof AuthError || err instanceof Unreachable) problem(err);
    else actionError = `That did not work: ${err.message}`;
  }
  overview.resetFailures(); // ids may have moved, and a button pressed in vain is live again
  job.forget();
  poll({ moved: false });
}

overview.useActions(act);
jobs.useActions(act);
job.useActions(act);

$("pause").addEventListener("click", () =>
  act("queue/pause", $("pause"), {
    ask: "Pause the queue? No worker starts a new job until you resume; running ones finish.",
    yes: "Pause",
    did: () => "Paused: workers start no new job.",
  }),
);
$("resume").addEventListener("click", () =>
  act("queue/resume", $("resume"), { did: () => "Resumed: workers take jobs again." }),
);
$("retry-all").addEventListener("click", () =>
  act("jobs/retry", $("retry-all"), {
    ask: `Queue every failed job again (${$("count-failed").textContent})?`,
    yes: "Retry all",
    did: (r) => `Retried ${r.retried} failed job(s).`,
  }),
);
$("clear-finished").addEventListener("click", () => {
  const n = ["done", "failed", "cancelled", "vanished"]
    .map((s) => Number($(`count-${s}`).textContent) || 0)
    .reduce((a, b) => a + b, 0);
  act("jobs/clear", $("clear-finished"), {
    ask: `Forget all ${n} finished job(s) (done, failed, cancelled, vanished)? Their thumbnails stay.`,
    yes: "Clear them",
    did: (r) => `Cleared ${r.cleared} finished job(s).`,
  });
});
$("cancel-queued").addEventListener("click", () => {
  const n = $("count-queued").textContent;
  act("jobs/cancel", $("cancel-queued"), {
    ask: `Cancel all ${n} queued job(s)? Retry queues them again.`,
    yes: "Cancel them",
    did: (r) => `Cancelled ${r.cancelled} queued job(s).`,
  });
});

jobs.wire((href) => {
  location.hash = href;
});
upload.wire(() => poll());

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) poll();
});
window.addEventListener("hashchange", () => {
  // A new #token=... typed into the address bar is taken at once.
  if (location.hash.includes("token=")) core.takeToken();
  overview.resetFailures();
  window.scrollTo(0, 0);
  poll({ moved: true });
});
core.takeToken();
poll({ moved: true });
