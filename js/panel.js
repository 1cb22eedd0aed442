// The control panel's front end, an anywidget ES module: it turns the model's state into DOM
// and user actions into state changes and messages. Requests, validation and files are the
// kernel's business. The views are ./form.js (with ./widgets.js and ./inputs.js) and ./gallery.js;
// their pure logic, tested by node --test, is ./code.js, ./controls.js, ./jobs.js, ./lists.js and
// ./text.js.
// The job list and the gallery are not traits: the kernel sends what changed as messages (see
// mergeById), and this view asks for the whole lists once when it starts.
import { h } from "./dom.js";
import { createForm } from "./form.js";
import { createResults } from "./gallery.js";
import { cancelledAfterSending } from "./jobs.js";
import { mergeById } from "./lists.js";
import { describeSpend } from "./text.js";

const LISTS = ["jobs", "gallery"];

// The kernel also saves a snapshot of the gallery beside the panel, for viewers without a kernel
// (GitHub, nbviewer, nbconvert). While the panel is live it repeats the gallery, so once the
// kernel has answered, a style rule hides it (a rule, not the element: the snapshot is re-rendered
// each time the kernel updates it).
function hideSnapshot(id) {
  if (!id || document.querySelector(`style[data-jig-snapshot="${id}"]`)) return;
  const style = document.createElement("style");
  style.dataset.jigSnapshot = id;
  style.textContent = `.jig-snapshot[data-snapshot="${id}"] { display: none; }`;
  document.head.append(style);
}

function render({ model, el }) {
  const listeners = [];
  const on = (event, fn) => {
    model.on(event, fn);
    listeners.push([event, fn]);
  };
  const lists = {}; // a list is undefined until its first message arrives
  const context = {
    model,
    list: (name) => lists[name],
    send: (content, buffers) => model.send(content, undefined, buffers),
    setState: (changes) => {
      for (const [key, value] of Object.entries(changes)) model.set(key, value);
      model.save_changes();
    },
    // Element ids must be unique on the page, and a notebook can show several panels.
    uid: `jig${Math.random().toString(36).slice(2, 10)}`,
  };

  const errorText = h("span", { class: "jig-error-text" });
  const errorBox = h(
    "div",
    { class: "jig-error", role: "alert", hidden: true },
    errorText,
    h("button", {
      class: "jig-icon",
      title: "Dismiss",
      "aria-label": "Dismiss the error",
      text: "×",
      onclick: () => context.setState({ error: "" }),
    }),
  );
  const showError = (message) => {
    errorText.textContent = message;
    errorBox.hidden = !message;
  };
  const failed = (error) => {
    showError(`Display error: ${error?.message ?? error}`);
    console.error(error);
  };

  const spendLine = h("div", { class: "jig-spend", "aria-live": "polite" });
  const showSpend = () => {
    spendLine.textContent = describeSpend(model.get("spend"), cancelledAfterSending(context.list("jobs")));
    spendLine.hidden = !spendLine.textContent;
  };

  const form = createForm(context);
  const results = createResults(context);
  // Keyboard shortcuts of the notebook stay outside: typing here never runs or edits cells.
  const onKey = (event) => {
    const handled = results.onKey(event) || (event.key === "Escape" && form.cancelAll());
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };
  const root = h(
    "div",
    {
      class: "jig-panel",
      role: "region",
      "aria-label": "Image generation panel",
      "data-lm-suppress-shortcuts": "true",
      onkeydown: onKey,
    },
    spendLine,
    errorBox,
    ...form.nodes,
    ...results.nodes,
  );
  el.append(root);

  const views = new Map();
  const add = (trait, view) => views.set(trait, [...(views.get(trait) ?? []), view]);
  for (const part of [form.views, results.views]) {
    for (const [trait, view] of Object.entries(part)) add(trait, view);
  }
  add("error", () => showError(model.get("error") ?? ""));
  add("spend", showSpend);
  add("jobs", showSpend);
  const refresh = (name) => {
    try {
      for (const view of views.get(name) ?? []) view();
    } catch (error) {
      failed(error);
    }
  };
  for (const trait of views.keys()) {
    if (!LISTS.includes(trait)) on(`change:${trait}`, () => refresh(trait));
  }
  on("msg:custom", (msg, buffers) => {
    if (msg?.type === "gallery" && msg.reset) hideSnapshot(model.get("snapshot_id"));
    if (LISTS.includes(msg?.type)) {
      // A gallery item's thumbnail is the buffer at its index.
      const items = (msg.items ?? []).map((item, i) => (msg.type === "gallery" ? { ...item, thumb: buffers?.[i] } : item));
      lists[msg.type] = mergeById(lists[msg.type], { ...msg, items });
      refresh(msg.type);
      return;
    }
    try {
      results.onMessage(msg, buffers);
    } catch (error) {
      failed(error);
    }
  });
  try {
    for (const view of new Set([...views.values()].flat())) view();
  } catch (error) {
    failed(error);
  }
  context.send({ type: "sync" });

  return () => {
    for (const [event, fn] of listeners) model.off(event, fn);
    results.destroy();
  };
}

export default { render };
