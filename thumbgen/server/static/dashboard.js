// thumbgen dashboard: polls the server's JSON and draws it. No framework, no build step.
// Every value from the server is written with textContent (or as an SVG attribute
// holding a number), never as HTML: file names are whatever users uploaded.
"use strict";

(() => {
  const POLL_MS = 1500;
  const HIDDEN_POLL_MS = 15000;
  const TOKEN_KEY = "thumbgen.token";
  const STATES = ["queued", "running", "done", "failed", "cancelled", "vanished"];
  const $ = (id) => document.getElementById(id);

  // -- the token: from the URL fragment (#token=...) into this tab's session ----------

  function takeToken() {
    const params = new URLSearchParams(location.hash.slice(1));
    if (params.has("token")) {
      sessionStorage.setItem(TOKEN_KEY, params.get("token"));
      // Out of the address bar, the history and any screenshot.
      history.replaceState(null, "", location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  let token = takeToken();

  // -- talking to the server -----------------------------------------------------------

  class AuthError extends Error {}
  class Unreachable extends Error {}

  async function api(path, method = "GET") {
    const headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    let response;
    try {
      // Relative URLs: the page works behind a proxy that mounts it under a prefix.
      response = await fetch(path, { method, headers, cache: "no-store" });
    } catch (err) {
      throw new Unreachable(String(err));
    }
    if (response.status === 401) throw new AuthError(await errorLine(response));
    if (!response.ok) throw new Error(await errorLine(response));
    return response.json();
  }

  async function errorLine(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === "string") return body.error;
    } catch (err) {
      // Not JSON (a proxy's page): fall back to the status line.
    }
    return `${response.status} ${response.statusText}`.trim();
  }

  // -- notices -------------------------------------------------------------------------

  function notice(kind, text) {
    const box = $("notice");
    if (!kind) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    box.dataset.kind = kind;
    box.textContent = text;
    box.hidden = false;
  }

  function setLive(state, text) {
    $("live").dataset.state = state;
    $("live-text").textContent = text;
  }

  // -- rendering -----------------------------------------------------------------------

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function ago(seconds) {
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
    return `${Math.floor(s / 86400)} d`;
  }

  function renderCounts(status) {
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

  function renderWorkers(status, now) {
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

  async function refreshFailedJobs(status) {
    const key = JSON.stringify([status.failed, status.failures]);
    if (key === failedJobs.key) return;
    const limit = Math.min(Math.max(status.failed, 1), 10000);
    const jobs = status.failed ? await api(`jobs?state=failed&limit=${limit}`) : [];
    failedJobs = { key, jobs };
  }

  // What the failures table shows now; it is rebuilt only when that changes, so
  // that a Retry button keeps the keyboard focus between polls.
  let failuresShown = null;

  function renderFailures(status) {
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
    tr.append(el("td", failure.source, "path"), el("td", failure.error, "reason"));
    const cell = el("td", null, "action");
    const button = el("button", "Retry", "button button-small");
    button.type = "button";
    button.setAttribute("aria-label", `Retry ${failure.source}`);
    if (id !== null) {
      tr.dataset.job = String(id);
      button.addEventListener("click", () => act(`jobs/${encodeURIComponent(id)}/retry`, button));
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

  function renderChart(through) {
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

  // -- the loop --------------------------------------------------------------------------

  let timer = null;
  let busy = false;
  let again = false;
  let pollMs = POLL_MS;
  // The last button press that failed (say, a job retried elsewhere first): shown
  // until the next press, not wiped by the next poll.
  let actionError = null;

  async function poll() {
    clearTimeout(timer);
    if (busy) {
      again = true; // an action asked for fresh numbers while a poll was out
      return;
    }
    busy = true;
    try {
      const [status, through] = await Promise.all([api("status"), api("throughput")]);
      await refreshFailedJobs(status);
      renderCounts(status);
      const { queued, running, failed } = status;
      document.title = `thumbgen · ${queued} queued · ${running} running · ${failed} failed`;
      renderWorkers(status, through.until);
      renderFailures(status);
      renderChart(through);
      notice(actionError ? "error" : null, actionError);
      pollMs = POLL_MS;
      setLive("live", "live");
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

  function problem(err) {
    disableControls();
    if (err instanceof AuthError) {
      pollMs = 5000; // nothing changes until a new token comes
      setLive("down", "no access");
      const what = token ? "The server refused this token" : "This server needs a token";
      const fix = "Open the dashboard with the URL thumbgen serve printed (ending in #token=...).";
      notice("error", `${what} (${err.message}). ${fix}`);
    } else if (err instanceof Unreachable) {
      setLive("down", "disconnected");
      notice("warning", "Disconnected: the server does not answer. Retrying every few seconds…");
    } else {
      setLive("down", "error");
      notice("error", `The server answered with an error: ${err.message}`);
    }
  }

  function disableControls() {
    for (const button of document.querySelectorAll("button")) button.disabled = true;
    failuresShown = null; // rebuilt, with live buttons, at the next good poll
  }

  async function act(path, button) {
    if (button) button.disabled = true;
    actionError = null;
    try {
      await api(path, "POST");
    } catch (err) {
      if (err instanceof AuthError || err instanceof Unreachable) problem(err);
      else actionError = `That did not work: ${err.message}`;
    }
    failedJobs.key = null; // ids may have moved
    failuresShown = null; // and a button pressed in vain is live again
    poll();
  }

  $("pause").addEventListener("click", () => act("queue/pause", $("pause")));
  $("resume").addEventListener("click", () => act("queue/resume", $("resume")));
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });
  // A new #token=... typed into the address bar is taken at once.
  window.addEventListener("hashchange", () => {
    token = takeToken();
    failedJobs.key = null;
    poll();
  });
  poll();
})();
