// What every view of the dashboard shares: the token, the API, safe element making,
// notices and the confirmation dialog. Every value from the server is written with
// textContent or as an attribute, never as HTML: file names are whatever users uploaded.

const TOKEN_KEY = "thumbgen.token";
export const STATES = ["queued", "running", "done", "failed", "cancelled", "vanished"];
export const $ = (id) => document.getElementById(id);

// -- the token: from the URL fragment (#token=...) or the form, kept for this tab only --

let token = null;

export function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.has("token")) {
    sessionStorage.setItem(TOKEN_KEY, params.get("token"));
    // Out of the address bar, the history and any screenshot.
    history.replaceState(null, "", location.pathname + location.search);
  }
  token = sessionStorage.getItem(TOKEN_KEY);
  return token;
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  token = value;
}

export const hasToken = () => Boolean(token);
export const authHeader = () => (token ? { Authorization: "Bearer " + token } : {});

// -- talking to the server ------------------------------------------------------------

export class AuthError extends Error {}
export class Unreachable extends Error {}
// 404: what was asked for is not there (a job cleared meanwhile), not a server fault.
export class NotFound extends Error {}

// GET or POST a relative path (the page works behind a proxy that mounts it under a
// prefix); params become the query. The parsed body, or with `full` {body, headers}.
export async function api(path, { method = "GET", params = null, full = false } = {}) {
  let url = path;
  if (params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const one of [].concat(value)) {
        if (one !== null && one !== undefined && one !== "") query.append(name, String(one));
      }
    }
    if ([...query].length) url += "?" + query;
  }
  const response = await send(url, method);
  const body = await response.json();
  return full ? { body, headers: response.headers } : body;
}

// A thumbnail (or any file) as a Blob: fetched with the token, which an <img> cannot send.
export async function blob(path) {
  return (await send(path, "GET", "*/*")).blob();
}

async function send(url, method, accept = "application/json") {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: { Accept: accept, ...authHeader() },
      cache: "no-store",
    });
  } catch (err) {
    throw new Unreachable(String(err));
  }
  if (response.status === 401) throw new AuthError(await errorLine(response));
  if (response.status === 404) throw new NotFound(await errorLine(response));
  if (!response.ok) throw new Error(await errorLine(response));
  return response;
}

export async function errorLine(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === "string") return body.error;
  } catch (err) {
    // Not JSON (a proxy's page): fall back to the status line.
  }
  return `${response.status} ${response.statusText}`.trim();
}

// -- elements ---------------------------------------------------------------------------

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

export function link(href, text, className) {
  const a = el("a", text, className);
  a.href = href;
  return a;
}

export function button(text, label, onClick, className = "button button-small") {
  const b = el("button", text, className);
  b.type = "button";
  if (label) b.setAttribute("aria-label", label);
  b.addEventListener("click", () => onClick(b));
  return b;
}

export function ago(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

export function when(unixSeconds) {
  return unixSeconds ? new Date(unixSeconds * 1000).toLocaleString() : "–";
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// The last part of a path: what a person calls the file.
export const baseName = (path) => path.slice(path.lastIndexOf("/") + 1);

// -- notices and confirmations -----------------------------------------------------------

export function notice(kind, text) {
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

// What an action did, in words, until the next one (role=status: read out politely).
export function said(text) {
  $("said").textContent = text;
  $("said").hidden = !text;
}

// Ask before something that cannot be undone; resolves true for "yes". A native
// <dialog>: focus moves into it, Escape says no, Tab stays inside.
export function confirmed(question, yes) {
  const dialog = $("confirm");
  $("confirm-text").textContent = question;
  $("confirm-yes").textContent = yes;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
  });
}

// A length in seconds as a player shows it: 0:02.5, 12:04.0.
export function clock(seconds) {
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${(seconds - 60 * minutes).toFixed(1).padStart(4, "0")}`;
}
