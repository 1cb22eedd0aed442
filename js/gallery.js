// The results half of the panel: the live status of each request and the gallery (newest
// first) with its actions. Both lists arrive as messages of what changed (see panel.js), with
// thumbnails as binary buffers; an original is asked for by message when it is enlarged or
// downloaded.
import { blobUrl, copyText, flash, h } from "./dom.js";
import { codeFor } from "./code.js";
import { comparisonCode, galleryBlocks } from "./compare.js";
import { announcement, isActive, jobLabel, summarizeJobs } from "./jobs.js";
import { arrowTarget, toggleSelected } from "./lists.js";
import { codeBlock, matrixView } from "./matrix.js";
import { describeParams, truncate } from "./text.js";

const TICK_MS = 500;

export function createResults({ model, list, send, setState }) {
  const jobsSummary = h("div", { class: "jig-jobs-summary" });
  const jobsList = h("ol", { class: "jig-jobs-list" });
  const gallery = h("div", { class: "jig-gallery" });
  const overlay = h("div", { class: "jig-overlay", hidden: true });
  // Said by screen readers: requests starting and finishing, and why one failed.
  const live = h("div", { class: "jig-sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  let announced = null; // the jobs last announced; null until the first list arrives
  let action; // the action being announced (see announcement)
  let shown = null; // the gallery id in the enlarged view
  let returnFocus = null; // where the keyboard goes back to when the dialog closes
  const thumbUrls = new Map(); // gallery id -> object URL of its thumbnail
  const pending = new Map(); // request id -> what to do with an original when it arrives
  const comparisons = new Map(); // comparison id -> its latest message, oldest first
  let requestCounter = 0;

  // --- status of each request -------------------------------------------------------------
  function showJobs() {
    const jobs = list("jobs") ?? [];
    const now = Date.now();
    const counts = summarizeJobs(jobs);
    // The list a view starts with is not news: only what changes after it is announced.
    let news = "";
    if (announced !== null) ({ text: news, run: action } = announcement(announced, jobs, action));
    if (list("jobs") !== undefined) announced = jobs;
    if (news) live.textContent = news;
    jobsSummary.textContent = Object.entries(counts)
      .filter(([, n]) => n)
      .map(([state, n]) => `${n} ${state}`)
      .join(" · ");
    jobsList.replaceChildren(
      ...jobs.map((job) =>
        h(
          "li",
          { class: `jig-job jig-${job.state}`, dataset: { job: job.id, state: job.state } },
          h("span", { class: "jig-job-state", text: jobLabel(job, now) }),
          h("span", { class: "jig-job-prompt", title: job.prompt, text: truncate(job.prompt, 60) }),
          isActive(job)
            ? h("button", {
                class: "jig-icon",
                title: "Cancel this request",
                "aria-label": `Cancel the request for ${truncate(job.prompt, 60)}`,
                text: "×",
                onclick: () => send({ type: "cancel", job: job.id }),
              })
            : null,
        ),
      ),
    );
  }
  // The seconds of a running request count up here, without a message from the kernel.
  const timer = setInterval(() => {
    const jobs = list("jobs") ?? [];
    if (!jobs.some((job) => job.state === "running")) return;
    const now = Date.now();
    for (const job of jobs) {
      const label = jobsList.querySelector(`[data-job="${job.id}"] .jig-job-state`);
      if (label) label.textContent = jobLabel(job, now);
    }
  }, TICK_MS);

  // --- originals, the enlarged view and the code dialog -----------------------------------
  const requestOriginal = (id, purpose, callback) => {
    const request = `r${++requestCounter}`;
    pending.set(request, callback);
    send({ type: "original", id, request, purpose });
  };
  const onMessage = (msg, buffers) => {
    if (msg?.type === "comparison") {
      comparisons.set(msg.id, msg);
      showGallery();
      return;
    }
    if (msg?.type !== "original") return;
    const callback = pending.get(msg.request);
    pending.delete(msg.request);
    if (callback && buffers?.length) callback(buffers[0], msg);
  };

  function closeOverlay() {
    overlay.hidden = true;
    for (const img of overlay.querySelectorAll("img[data-original]")) URL.revokeObjectURL(img.src);
    overlay.replaceChildren();
    const back = shown === null ? returnFocus : gallery.querySelector(`[data-id="${shown}"] .jig-thumb-button`);
    shown = null;
    returnFocus = null;
    if (back?.isConnected) back.focus();
  }
  overlay.addEventListener("click", (event) => {
    if (event.target === overlay) closeOverlay();
  });
  const openOverlay = (label, ...children) => {
    if (overlay.hidden) returnFocus = document.activeElement;
    for (const img of overlay.querySelectorAll("img[data-original]")) URL.revokeObjectURL(img.src);
    const close = h("button", {
      class: "jig-icon jig-close",
      title: "Close (Escape)",
      "aria-label": "Close",
      text: "×",
      onclick: closeOverlay,
    });
    overlay.replaceChildren(
      h("div", { class: "jig-dialog", role: "dialog", "aria-modal": "true", "aria-label": label }, close, ...children),
    );
    overlay.hidden = false;
    close.focus();
  };
  // Tab stays inside the open dialog.
  overlay.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const stops = [...overlay.querySelectorAll("button")];
    if (!stops.length) return;
    const [first, last] = [stops[0], stops[stops.length - 1]];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  });

  function enlarge(item) {
    const items = list("gallery") ?? [];
    const index = items.findIndex((other) => other.id === item.id);
    const img = h("img", { class: "jig-large", src: thumbUrls.get(item.id), alt: item.prompt });
    const position = items.length > 1 ? `Image ${index + 1} of ${items.length}; arrow keys for the others.` : "";
    openOverlay(
      "Enlarged image",
      img,
      h("p", { class: "jig-caption", text: item.prompt }),
      position ? h("p", { class: "jig-position", text: position }) : null,
    );
    shown = item.id;
    requestOriginal(item.id, "view", (data, info) => {
      if (overlay.hidden || !img.isConnected) return;
      img.src = blobUrl(data, info.mime);
      img.dataset.original = "true";
    });
  }

  function download(item) {
    requestOriginal(item.id, "download", (data, info) => {
      const url = blobUrl(data, info.mime);
      const link = h("a", { href: url, download: info.filename });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    });
  }

  function showCode(item) {
    const code = codeFor(item);
    shown = null;
    openOverlay(
      "Copy as code",
      codeBlock("Notebook cell", code.magic, code.notes),
      codeBlock("Python", code.python),
    );
    overlay.firstChild.classList.add("jig-code-dialog");
    copyText(`${code.magic}\n\n${code.python}`);
  }

  function showComparisonCode(comparison) {
    const { cell, notes } = comparisonCode(comparison.code ?? {});
    shown = null;
    openOverlay("Copy the comparison as code", codeBlock("Notebook cell", cell, notes));
    overlay.firstChild.classList.add("jig-code-dialog");
    copyText(cell);
  }

  // --- the gallery ------------------------------------------------------------------------
  const thumbUrl = (item) => {
    if (!thumbUrls.has(item.id)) thumbUrls.set(item.id, blobUrl(item.thumb, item.thumb_mime));
    return thumbUrls.get(item.id);
  };

  function matrix(comparison, itemsById, selected) {
    return matrixView(comparison, {
      thumbOf: (id) => {
        const item = itemsById.get(id);
        return item ? { url: thumbUrl(item), item, actions: itemActions(item, selected.has(id)) } : null;
      },
      enlarge,
      showCode: () => showComparisonCode(comparison),
    });
  }

  /** An image's actions, on its card or in a comparison's matrix. */
  function itemActions(item, selected) {
    const action = (name, label, title, handler) =>
      h("button", {
        class: "jig-action",
        title,
        "aria-label": title,
        text: label,
        dataset: { action: name },
        onclick: handler,
      });
    const copyPrompt = action("copy-prompt", "❝", "Copy the prompt", async () =>
      flash(copyPrompt, (await copyText(item.prompt)) ? "✓" : "✗"),
    );
    return h(
      "span",
      { class: "jig-card-actions" },
      h("button", {
        class: "jig-action",
        title: "Select (panel.selected)",
        "aria-label": "Select",
        "aria-pressed": String(selected),
        text: selected ? "☑" : "☐",
        dataset: { action: "select" },
        onclick: () => setState({ selected_ids: toggleSelected(model.get("selected_ids"), item.id) }),
      }),
      action("download", "⬇", "Download the original", () => download(item)),
      copyPrompt,
      action("use-input", "↪", "Use as input image", () => send({ type: "use_as_input", id: item.id })),
      action("reuse", "⟲", "Reuse these settings", () => send({ type: "reuse", id: item.id })),
      action("code", "</>", "Copy as code", () => showCode(item)),
    );
  }

  function card(item, selected) {
    thumbUrl(item);
    const size = item.width ? `${item.width}×${item.height}` : "";
    const meta = [item.model.split("/").pop(), size, item.cached && "cached"].filter(Boolean).join(" · ");
    return h(
      "figure",
      { class: `jig-card${selected ? " jig-selected" : ""}`, dataset: { id: item.id } },
      h(
        "button",
        {
          class: "jig-thumb-button",
          title: "Enlarge (Enter); arrow keys move between images",
          onclick: () => enlarge(item),
        },
        h("img", { class: "jig-thumb", src: thumbUrls.get(item.id), alt: item.prompt }),
      ),
      h(
        "figcaption",
        {},
        h("span", { class: "jig-card-prompt", title: item.prompt, text: truncate(item.prompt, 80) }),
        h("span", { class: "jig-card-meta", title: describeParams(item.params), text: meta }),
        itemActions(item, selected),
      ),
    );
  }

  function showGallery() {
    const items = list("gallery") ?? [];
    const selected = new Set(model.get("selected_ids") ?? []);
    const live = new Set(items.map((item) => item.id));
    for (const [id, url] of thumbUrls) {
      if (!live.has(id)) {
        URL.revokeObjectURL(url);
        thumbUrls.delete(id);
      }
    }
    const focused = gallery.contains(document.activeElement)
      ? [document.activeElement.closest("[data-id]")?.dataset.id, document.activeElement.className]
      : null;
    const itemsById = new Map(items.map((item) => [item.id, item]));
    const blocks = galleryBlocks(items, [...comparisons.values()].reverse());
    gallery.replaceChildren(
      ...blocks.map((b) => (b.kind === "card" ? card(b.item, selected.has(b.item.id)) : matrix(b.comparison, itemsById, selected))),
    );
    // A new image or a selection rebuilds the cards; the keyboard stays where it was.
    if (focused) {
      const [id, cls] = focused;
      const again = [...gallery.querySelectorAll(`[data-id="${id}"] button`)].find((b) => b.className === cls);
      again?.focus();
    }
  }

  // Arrow keys: between thumbnails in the gallery, between images in the enlarged view.
  function onArrow(event) {
    const items = list("gallery") ?? [];
    if (!overlay.hidden) {
      if (shown === null) return false;
      const index = items.findIndex((item) => item.id === shown);
      const next = arrowTarget(event.key, index, items.length);
      if (next === null) return false;
      if (next !== index) enlarge(items[next]);
      return true;
    }
    const thumbs = [...gallery.querySelectorAll(".jig-thumb-button")];
    const index = thumbs.indexOf(document.activeElement);
    if (index < 0) return false;
    const next = arrowTarget(event.key, index, thumbs.length);
    if (next === null) return false;
    thumbs[next].focus();
    return true;
  }

  return {
    nodes: [h("div", { class: "jig-jobs" }, jobsSummary, jobsList), live, gallery, overlay],
    views: { jobs: showJobs, gallery: showGallery, selected_ids: showGallery },
    onMessage,
    /** True when the key was for the gallery or the dialog. */
    onKey: (event) => {
      if (event.key === "Escape" && !overlay.hidden) {
        closeOverlay();
        return true;
      }
      return onArrow(event);
    },
    destroy: () => {
      clearInterval(timer);
      for (const url of thumbUrls.values()) URL.revokeObjectURL(url);
      thumbUrls.clear();
      pending.clear();
    },
  };
}
