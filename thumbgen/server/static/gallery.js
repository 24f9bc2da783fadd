// The gallery: the newest thumbnails as a grid, each a link to its job; and the
// images every view shows. Thumbnails are fetched with the token (an <img> cannot
// send one) and shown from blob: URLs, kept while the page shows them.

import { $, api, baseName, blob, clock, el, link } from "./core.js";

const COUNT = 24;
// url -> {src, size}: a thumbnail is fetched once per name and finish time.
const cache = new Map();

// An <img> for a thumbnail URL, filled once fetched; `key` changes when it is redone.
export function thumbnail(url, alt, key, onSize = null) {
  const img = el("img", null, "thumb");
  img.alt = alt;
  img.loading = "lazy";
  img.decoding = "async";
  const entry = cache.get(url);
  if (entry && entry.key === key) {
    img.src = entry.src;
    if (onSize) onSize(entry.size, img);
    return img;
  }
  blob(url)
    .then((data) => {
      if (entry) URL.revokeObjectURL(entry.src);
      const src = URL.createObjectURL(data);
      cache.set(url, { key, src, size: data.size });
      img.src = src;
      if (onSize) onSize(data.size, img);
    })
    .catch(() => {
      img.alt = `${alt} (could not be loaded)`;
      img.classList.add("missing");
    });
  return img;
}

// The blob: URL of a thumbnail already fetched (for "open"), or null.
export const objectUrl = (url) => cache.get(url)?.src ?? null;

let shownKey = null;

export async function show() {
  const jobs = await api("jobs", { params: { state: "done", order: "newest", limit: COUNT } });
  const withImages = jobs.filter((j) => j.thumbnails.length);
  const key = JSON.stringify(withImages.map((j) => [j.id, j.finished_at]));
  $("gallery-empty").hidden = withImages.length !== 0;
  if (key === shownKey) return; // unchanged: no flicker, focus kept
  shownKey = key;
  $("gallery-grid").replaceChildren(
    ...withImages.map((job) => {
      const name = job.label || baseName(job.source);
      // The smallest thumbnail: the first one the job lists.
      const item = link(`#/job/${job.id}`, null, "tile");
      item.dataset.job = String(job.id);
      item.setAttribute("aria-label", `Job ${job.id}: ${name}`);
      item.append(thumbnail(job.thumbnails[0], name, job.finished_at));
      item.append(el("span", name, "tile-name"));
      if (job.video && typeof job.video.duration === "number") {
        // A video's poster says it is one: its length, as players show it.
        item.append(el("span", clock(job.video.duration), "tile-length"));
      }
      return item;
    }),
  );
}

export function forget() {
  shownKey = null;
}
