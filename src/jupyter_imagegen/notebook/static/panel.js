/* Built from js/ by `npm run build` in js/: edit the sources there, not this file. */

// dom.js
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === void 0 || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === void 0 || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h("textarea", { class: "jig-offscreen" });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}
function blobUrl(data, mime) {
  return URL.createObjectURL(new Blob([data], { type: mime || "application/octet-stream" }));
}
function flash(button, text) {
  const before = button.textContent;
  button.textContent = text;
  setTimeout(() => button.textContent = before, 1200);
}

// text.js
function formatSeconds(seconds) {
  if (seconds === null || seconds === void 0 || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const minutes = Math.floor(s / 60);
  const rest = String(Math.floor(s % 60)).padStart(2, "0");
  return `${minutes} min ${rest} s`;
}
function asText(value) {
  if (typeof value === "string") return value;
  if (value === null || value === void 0) return "";
  if (typeof value !== "object" && typeof value !== "function") return String(value);
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
function truncate(text, length) {
  const s = asText(text);
  return s.length <= length ? s : `${s.slice(0, Math.max(0, length - 1))}…`;
}
function describeParams(params) {
  return Object.entries(params ?? {}).map(([k, v]) => `${k} ${asText(v)}`).join(" · ");
}
function describeSpend(spend, cancelledAfterSending2 = 0) {
  if (!spend || typeof spend.images !== "number") return "";
  const usd = `~$${(spend.usd ?? 0).toFixed(4)} estimated`;
  const unpriced = spend.unpriced ? ` (+${spend.unpriced} of unknown price)` : "";
  const limits = [];
  if (typeof spend.max_images === "number") limits.push(`${spend.max_images} images`);
  if (typeof spend.max_usd === "number") limits.push(`$${spend.max_usd.toFixed(2)}`);
  const budget = limits.length ? ` · daily budget ${limits.join(" and ")}` : "";
  const images = `${spend.images} image${spend.images === 1 ? "" : "s"}`;
  const day = spend.emulator ? "Today (UTC) on the emulator, not billed" : "Today (UTC)";
  const cancelled = cancelledAfterSending2 ? ` · ${cancelledAfterSending2} cancelled after sending, counted (may be billed)` : "";
  return `${day}: ${images}, ${usd}${unpriced}${budget}${cancelled}`;
}

// controls.js
var TOGGLE_MAX_OPTIONS = 4;
var TOGGLE_MAX_LABEL = 10;
function labelFor(name) {
  const words = String(name).replace(/[_-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
function niceStep(min, max) {
  const span = max - min;
  if (!(span > 0)) return 0.1;
  const raw = span / 100;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) {
    if (raw <= factor * magnitude) return factor * magnitude;
  }
  return 10 * magnitude;
}
function controlFor(name, rule) {
  const r = rule ?? {};
  const base = {
    name,
    label: labelFor(name),
    help: asText(r.description),
    default: r.default ?? null
  };
  if (Array.isArray(r.enum)) {
    const options = r.enum.slice();
    const labels = options.map(asText);
    const short = labels.every((label) => label.length <= TOGGLE_MAX_LABEL);
    const kind = options.length <= TOGGLE_MAX_OPTIONS && short ? "toggle" : "select";
    return { ...base, kind, options, labels };
  }
  switch (r.type) {
    case "boolean":
      return { ...base, kind: "checkbox" };
    case "integer":
    case "number": {
      const integer = r.type === "integer";
      const min = typeof r.minimum === "number" ? r.minimum : null;
      const max = typeof r.maximum === "number" ? r.maximum : null;
      if (max !== null) {
        const low = min ?? 0;
        const step = integer ? 1 : niceStep(low, max);
        return { ...base, kind: "slider", integer, min: low, max, step };
      }
      return { ...base, kind: "number", integer, min, max, step: integer ? 1 : "any" };
    }
    case "string":
    case void 0:
      return { ...base, kind: "text" };
    default:
      return { ...base, kind: "unsupported" };
  }
}
function controlsFor(parameters, required = []) {
  const needed = new Set(required ?? []);
  const described = [];
  for (const [name, rule] of Object.entries(parameters ?? {})) {
    try {
      described.push(controlFor(name, rule));
    } catch {
    }
  }
  return described.filter((control) => control.kind !== "unsupported").map(
    (control) => needed.has(control.name) ? { ...control, required: true, label: `${control.label} (required)` } : control
  );
}
function shownValue(control, params) {
  const value = params?.[control.name];
  if (value !== void 0 && value !== null) return value;
  if (control.default !== null && control.default !== void 0) return control.default;
  if (control.kind === "slider") return control.min;
  if (control.kind === "checkbox") return false;
  return "";
}
function setParam(params, name, value) {
  const next = { ...params ?? {} };
  const empty = value === void 0 || value === null || value === "" || typeof value === "number" && Number.isNaN(value);
  if (empty) delete next[name];
  else next[name] = value;
  return next;
}
function clampVariations(value, max) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, max);
}
function variationsNote(value, max, maxImages) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n <= max) return "";
  const more = maxImages > max ? ` For more, use %%imagegen -n (up to ${maxImages}).` : "";
  return `${n} is more than one click makes: at most ${max} variations in the panel.${more}`;
}
function validityView(validity) {
  const valid = Boolean(validity?.valid);
  if (!valid && validity?.blank) return { disabled: false, text: "", invalid: false };
  return { disabled: !valid, text: String(validity?.reason ?? ""), invalid: !valid };
}
function inputsNote(info) {
  if (!info?.edits) return "this model does not take input images";
  if (info.url_only) return "this model takes reference images as https:// URLs only: pass them from Python (images=[url])";
  return `up to ${info.max_images} image(s) to edit`;
}
function maskView(info) {
  const mask = info?.mask;
  if (mask !== "upload" && mask !== "url") return { hidden: true, disabled: true, note: "" };
  if (mask === "url") {
    return { hidden: false, disabled: true, note: "this model takes a mask as an https:// URL only: pass it from Python (mask=url)" };
  }
  return { hidden: false, disabled: false, note: "marks what to repaint in the input image" };
}
function uploadProblem(file, maxBytes, pythonHint) {
  return file.size > maxBytes ? `${file.name} is over ${Math.floor(maxBytes / 2 ** 20)} MB; pass it from Python instead: ${pythonHint}.` : null;
}

// compare.js
var MAX_COMPARED = 4;
function setCompared(compare, name, on, current) {
  const next = { ...compare ?? {} };
  if (!on) delete next[name];
  else next[name] = current === void 0 || current === null || current === "" ? [] : [current];
  return next;
}
function toggleCompared(compare, name, value, options) {
  const chosen = new Set(compare?.[name] ?? []);
  if (chosen.has(value)) chosen.delete(value);
  else chosen.add(value);
  const ordered = (options ?? []).filter((option) => chosen.has(option));
  return { ...compare ?? {}, [name]: ordered };
}
function canTick(compare, name, value) {
  const chosen = compare?.[name] ?? [];
  return chosen.includes(value) || chosen.length < MAX_COMPARED;
}
function galleryBlocks(items, comparisons) {
  const owner = /* @__PURE__ */ new Map();
  for (const comparison of comparisons ?? []) {
    for (const cell of comparison.cells ?? []) if (cell.entry) owner.set(cell.entry, comparison);
  }
  const blocks = [];
  const placed = /* @__PURE__ */ new Set();
  for (const item of items ?? []) {
    const comparison = owner.get(item.id);
    if (!comparison) blocks.push({ kind: "card", item });
    else if (!placed.has(comparison.id)) {
      placed.add(comparison.id);
      blocks.push({ kind: "matrix", comparison });
    }
  }
  const waiting = (comparisons ?? []).filter((c) => !placed.has(c.id) && c.running);
  return [...waiting.map((comparison) => ({ kind: "matrix", comparison })), ...blocks];
}
var PLAIN = /^[A-Za-z0-9_@./:=+-]+$/;
var UNWRITABLE = /[\s\x00-\x1f\x7f\x85\u2028\u2029]/;
var FLAGS = { quality: "-q", size: "-s", style: "--style" };
function listItem(value) {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  if (s === void 0 || s === "" || UNWRITABLE.test(s)) return null;
  if (PLAIN.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
}
function optionWords(name, values) {
  if (!/^[A-Za-z0-9_.-]+$/.test(String(name))) return null;
  const items = values.map(listItem);
  if (items.includes(null)) return null;
  const plain = items.every((item, i) => item === String(values[i]));
  if (name === "model") return plain ? ["-m", items.join(",")] : null;
  if (FLAGS[name] && plain) return [FLAGS[name], items.join(",")];
  return ["--param", `${name}=${items.join(",")}`];
}
function comparisonCode(code) {
  const named = (name) => PLAIN.test(String(name)) ? String(name) : "a parameter";
  const words = ["%%imagegen"];
  const notes = [];
  const add = (name, values) => {
    const option = optionWords(name, values);
    if (option === null) notes.push(`# ${named(name)} cannot be written on this line: its values hold spaces or both quotes`);
    else words.push(...option);
  };
  add("model", code.models ?? []);
  for (const [name, values] of Object.entries(code.compare ?? {})) add(name, values);
  for (const [name, value] of Object.entries(code.params ?? {})) {
    if (value === null || typeof value === "object") notes.push(`# ${named(name)} is set in the panel only`);
    else add(name, [value]);
  }
  if ((code.variations ?? 1) > 1) words.push("-n", String(code.variations));
  for (const name of code.left_out ?? []) {
    notes.push(`# ${named(name)} is left out: not every compared model takes the panel's value`);
  }
  if (code.inputs) {
    notes.push(`# editing: add --image PATH (or a variable name) for each of the ${code.inputs} input image(s)`);
  }
  if (code.mask) notes.push("# inpainting: add --mask PATH (or a variable name) for the mask these images were made with");
  const body = String(code.prompt ?? "").replace(/[{}]/g, (brace) => brace + brace);
  return { cell: [words.join(" "), body].join("\n"), notes: notes.join("\n") };
}

// inputs.js
var MAX_UPLOAD_BYTES = 9 * 1024 * 1024;
function preview(item, label, onRemove) {
  const url = URL.createObjectURL(new Blob([item.thumb], { type: item.thumb_mime }));
  return h(
    "span",
    { class: "jig-input" },
    h("img", { src: url, alt: `${label}${item.name}`, title: item.name, onload: () => URL.revokeObjectURL(url) }),
    h("button", {
      class: "jig-icon",
      title: "Remove",
      "aria-label": `Remove ${label}${item.name}`,
      text: "×",
      onclick: onRemove
    })
  );
}
function createInputs({ model, send, setState, uid }) {
  const fileInput = h("input", { type: "file", accept: "image/*", multiple: true, class: "jig-file" });
  const inputsList = h("div", { class: "jig-inputs-list" });
  const note = h("span", { class: "jig-note" });
  const maskInput = h("input", {
    type: "file",
    accept: "image/*",
    class: "jig-mask-file",
    "aria-describedby": `${uid}-mask-note`
  });
  const maskNote = h("span", { class: "jig-mask-note", id: `${uid}-mask-note` });
  const maskShown = h("div", { class: "jig-inputs-list jig-mask-list" });
  const maskBox = h("div", { class: "jig-mask" }, h("label", { class: "jig-upload" }, "Mask ", maskInput), maskNote, maskShown);
  const upload = async (input, type, pythonHint) => {
    for (const file of [...input.files]) {
      const problem = uploadProblem(file, MAX_UPLOAD_BYTES, pythonHint);
      if (problem) setState({ error: problem });
      else send({ type, name: file.name }, [await file.arrayBuffer()]);
    }
    input.value = "";
  };
  fileInput.addEventListener("change", () => upload(fileInput, "add_input", "images=[path]"));
  maskInput.addEventListener("change", () => upload(maskInput, "set_mask", "mask=path"));
  function showModel() {
    const info = model.get("model_info") ?? {};
    note.textContent = inputsNote(info);
    const view = maskView(info);
    maskBox.hidden = view.hidden;
    maskInput.disabled = view.disabled;
    maskNote.textContent = view.note;
  }
  function showInputs() {
    const items = model.get("inputs") ?? [];
    inputsList.replaceChildren(...items.map((item, index) => preview(item, "", () => send({ type: "remove_input", index }))));
  }
  function showMask() {
    const mask = model.get("mask") ?? {};
    maskShown.replaceChildren(...mask.name ? [preview(mask, "the mask ", () => send({ type: "remove_mask" }))] : []);
  }
  const nodes = [
    h("div", { class: "jig-inputs" }, h("label", { class: "jig-upload" }, "Input images ", fileInput), note, inputsList, maskBox)
  ];
  return { nodes, views: { model_info: showModel, inputs: showInputs, mask: showMask } };
}

// jobs.js
function jobElapsed(job, nowMs) {
  if (job.state === "running" && job.started_ms) {
    return Math.max(0, (nowMs - job.started_ms) / 1e3);
  }
  return typeof job.elapsed === "number" ? job.elapsed : null;
}
function jobLabel(job, nowMs) {
  const elapsed = jobElapsed(job, nowMs);
  switch (job.state) {
    case "queued":
      return "queued";
    case "running":
      return `running ${Math.floor(elapsed ?? 0)} s`;
    case "done":
      return job.cached ? "done (from cache)" : `done in ${formatSeconds(elapsed ?? 0)}`;
    case "failed":
      return `failed: ${job.message || "unknown error"}`;
    case "cancelled":
      return "cancelled";
    default:
      return String(job.state ?? "");
  }
}
function isActive(job) {
  return job.state === "queued" || job.state === "running";
}
function cancelledAfterSending(jobs) {
  return (jobs ?? []).filter((job) => job.state === "cancelled" && job.started_ms).length;
}
function summarizeJobs(jobs) {
  const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const job of jobs) {
    if (job.state in counts) counts[job.state] += 1;
  }
  return counts;
}
function announcement(before, after, run) {
  const old = new Map((before ?? []).map((job) => [job.id, job.state]));
  const action = run ?? { ids: [], ready: 0, cancelled: 0 };
  const ids = new Set(action.ids);
  let { ready, cancelled } = action;
  let started = 0;
  let finished = 0;
  const failures = [];
  for (const job of after ?? []) {
    const was = old.get(job.id);
    if (was === job.state) continue;
    if (was === void 0 && isActive(job)) {
      started += 1;
      ids.add(job.id);
      continue;
    }
    if (job.state === "done") ready += 1;
    else if (job.state === "cancelled") cancelled += 1;
    else if (job.state === "failed") failures.push(job.message || "unknown error");
    else continue;
    finished += 1;
  }
  const images = (n) => `${n} image${n === 1 ? "" : "s"}`;
  const parts = [];
  if (started) parts.push(`Generating ${images(started)}.`);
  const current = (after ?? []).filter((job) => ids.has(job.id));
  const over = current.length > 0 && !current.some(isActive);
  if (finished && !over && ready) parts.push(`${ready} of ${images(ids.size)} ready.`);
  if (over && (finished || started)) {
    if (ready) parts.push(`${images(ready)} ready.`);
    if (cancelled) parts.push(`${cancelled} cancelled.`);
  }
  for (const message of failures) parts.push(`Failed: ${message}`);
  const next = over ? void 0 : { ids: [...ids], ready, cancelled };
  return { text: parts.join(" "), run: next };
}

// widgets.js
function numberOrNull(input) {
  return input.value === "" ? null : input.valueAsNumber;
}
function controlRow(control, params, uid, setParam2, compare) {
  const id = `${uid}-${control.name}`;
  const isSet = params[control.name] !== void 0 && params[control.name] !== null;
  const reset = isSet ? h("button", {
    class: "jig-icon jig-reset",
    title: "Use the model's default",
    "aria-label": `Use the model's default ${control.label.toLowerCase()}`,
    text: "↺",
    onclick: () => setParam2(control.name, null)
  }) : h("span");
  return h(
    "div",
    { class: "jig-control", dataset: { param: control.name, kind: control.kind } },
    h("label", {
      for: id,
      id: `${id}-label`,
      title: control.help,
      text: control.label
    }),
    compare && (control.kind === "toggle" || control.kind === "select") ? h(
      "span",
      { class: "jig-compare-wrap" },
      compare.values ? compareChoices(control.options, control.labels, compare, `${id}-label`) : controlWidget(control, shownValue(control, params), isSet, id, setParam2),
      compareBox(compare, control.label, `${id}-compare`)
    ) : controlWidget(control, shownValue(control, params), isSet, id, setParam2),
    reset
  );
}
function compareBox(compare, label, id) {
  const box = h("input", {
    id,
    type: "checkbox",
    class: "jig-compare",
    "aria-label": `Compare several values of ${label.toLowerCase()}`,
    onchange: (e) => compare.set(e.target.checked)
  });
  box.checked = Boolean(compare.values);
  return h("label", { class: "jig-compare-toggle", title: "Pick several values to compare side by side" }, box, "compare");
}
function compareChoices(options, labels, compare, labelledBy) {
  return h(
    "span",
    { class: "jig-compare-choices", role: "group", "aria-labelledby": labelledBy },
    options.map((option, i) => {
      const on = compare.values.includes(option);
      const box = h("input", {
        type: "checkbox",
        dataset: { value: String(option) },
        disabled: !compare.canTick(option),
        onchange: () => compare.tick(option)
      });
      box.checked = on;
      return h("label", { class: "jig-compare-choice" }, box, String(labels?.[i] ?? option));
    })
  );
}
function controlWidget(control, value, isSet, id, setParam2) {
  switch (control.kind) {
    case "toggle":
      return h(
        "span",
        { class: "jig-toggles", role: "group", id, "aria-labelledby": `${id}-label` },
        control.options.map((option, i) => {
          const on = isSet && value === option;
          return h("button", {
            class: `jig-toggle${on ? " jig-on" : ""}`,
            text: control.labels[i],
            "aria-pressed": String(on),
            onclick: () => setParam2(control.name, on ? null : option)
          });
        })
      );
    case "select": {
      const select = h(
        "select",
        {
          id,
          onchange: (e) => setParam2(control.name, e.target.value === "" ? null : control.options[Number(e.target.value)])
        },
        h("option", { value: "", text: "(model default)" }),
        control.options.map((o, i) => h("option", { value: String(i), text: control.labels[i] }))
      );
      const chosen = isSet ? control.options.indexOf(value) : -1;
      select.value = chosen >= 0 ? String(chosen) : "";
      return select;
    }
    case "checkbox": {
      const box = h("input", { id, type: "checkbox", onchange: (e) => setParam2(control.name, e.target.checked) });
      box.checked = Boolean(value);
      return box;
    }
    case "slider": {
      const shown = h("output", { class: "jig-slider-value", text: isSet ? asText(value) : "default" });
      const slider = h("input", {
        id,
        type: "range",
        min: control.min,
        max: control.max,
        step: control.step,
        oninput: (e) => shown.textContent = e.target.value,
        onchange: (e) => setParam2(control.name, e.target.valueAsNumber)
      });
      slider.value = asText(value);
      return h("span", { class: "jig-slider" }, slider, shown);
    }
    case "number": {
      const box = h("input", {
        id,
        type: "number",
        step: control.step,
        min: control.min ?? void 0,
        max: control.max ?? void 0,
        placeholder: control.default !== null ? asText(control.default) : "default",
        onchange: (e) => setParam2(control.name, numberOrNull(e.target))
      });
      box.value = isSet ? asText(value) : "";
      return box;
    }
    default: {
      const box = h("input", {
        id,
        type: "text",
        placeholder: asText(control.default),
        onchange: (e) => setParam2(control.name, e.target.value)
      });
      box.value = isSet ? asText(value) : "";
      return box;
    }
  }
}

// form.js
var GATEWAY_FIELDS = [
  ["gateway_id", "Gateway id", "text"],
  ["skip_cache", "Skip the gateway cache", "checkbox"],
  ["cache_ttl", "Gateway cache TTL (s)", "number"],
  ["cache_key", "Gateway cache key", "text"],
  ["request_timeout_ms", "Request timeout (ms)", "number"]
];
function createForm({ model, list, send, setState, uid }) {
  const prompt = h("textarea", {
    class: "jig-prompt",
    rows: 3,
    placeholder: "Describe the image… (Ctrl+Enter or ⌘+Enter to generate, Escape to cancel)",
    "aria-label": "Prompt"
  });
  const modelSelect = h("select", { class: "jig-model", "aria-label": "Model" });
  const variations = h("input", {
    class: "jig-variations",
    type: "number",
    min: 1,
    max: maxVariations(model),
    step: 1,
    "aria-label": "Variations"
  });
  const controls = h("div", { class: "jig-controls" });
  const inputs = createInputs({ model, send, setState, uid });
  const advanced = h("details", { class: "jig-advanced" }, h("summary", { text: "Advanced" }));
  const generate = h("button", { class: "jig-generate jig-primary", text: "Generate" });
  const cancel = h("button", { class: "jig-cancel", text: "Cancel", disabled: true });
  const reason = h("span", { class: "jig-reason", "aria-live": "polite" });
  const requestGeneration = () => {
    setState({ prompt: prompt.value });
    send({ type: "generate", prompt: prompt.value });
  };
  prompt.addEventListener("input", () => setState({ prompt: prompt.value }));
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      event.stopPropagation();
      requestGeneration();
    }
  });
  modelSelect.addEventListener("change", () => setState({ model: modelSelect.value }));
  const variationsSaid = h("span", { class: "jig-note jig-variations-note", "aria-live": "polite" });
  variations.addEventListener("change", () => {
    const max = maxVariations(model);
    variationsSaid.textContent = variationsNote(variations.value, max, model.get("limits")?.max_images ?? max);
    const n = clampVariations(variations.value, max);
    variations.value = String(n);
    setState({ variations: n });
  });
  generate.addEventListener("click", requestGeneration);
  cancel.addEventListener("click", () => send({ type: "cancel" }));
  const setParam2 = (name, value) => setState({ params: setParam(model.get("params"), name, value) });
  const compareFor = (name, options, current) => {
    const compare = model.get("compare") ?? {};
    return {
      values: compare[name],
      set: (on) => setState({ compare: setCompared(model.get("compare"), name, on, current) }),
      tick: (value) => setState({ compare: toggleCompared(model.get("compare"), name, value, options) }),
      canTick: (value) => canTick(compare, name, value)
    };
  };
  function showControls() {
    const info = model.get("model_info") ?? {};
    const params = model.get("params") ?? {};
    const rows = controlsFor(info.parameters, info.required).map((control) => {
      try {
        return controlRow(control, params, uid, setParam2, compareFor(control.name, control.options, params[control.name]));
      } catch {
        return h("div", { class: "jig-control", text: `${control.label}: cannot be shown (left to the model's default)` });
      }
    });
    const focused = controls.contains(document.activeElement) ? document.activeElement.id : null;
    controls.replaceChildren(...rows);
    if (focused) document.getElementById(focused)?.focus();
  }
  const gatewayInputs = /* @__PURE__ */ new Map();
  for (const [name, label, kind] of GATEWAY_FIELDS) {
    const input = h("input", {
      type: kind,
      dataset: { gateway: name },
      onchange: (e) => {
        const value = kind === "checkbox" ? e.target.checked : kind === "number" ? numberOrNull(e.target) : e.target.value;
        setState({ gateway: { ...model.get("gateway") ?? {}, [name]: value } });
      }
    });
    gatewayInputs.set(name, input);
    advanced.append(h("label", { class: "jig-field" }, h("span", { text: label }), input));
  }
  const useCache = h("input", {
    type: "checkbox",
    class: "jig-use-cache",
    onchange: (e) => setState({ use_cache: e.target.checked })
  });
  advanced.append(
    h("label", { class: "jig-field" }, h("span", { text: "Reuse images from the local cache" }), useCache)
  );
  function showAdvanced() {
    const gateway = model.get("gateway") ?? {};
    for (const [name, input] of gatewayInputs) {
      const value = gateway[name];
      if (input.type === "checkbox") input.checked = Boolean(value);
      else input.value = value === null || value === void 0 ? "" : String(value);
    }
    useCache.checked = Boolean(model.get("use_cache"));
  }
  function showPrompt() {
    const value = model.get("prompt") ?? "";
    if (prompt.value !== value) prompt.value = value;
  }
  const modelSlot = h("span", { class: "jig-compare-wrap" });
  function showModels() {
    const current = model.get("model");
    const ids = [...model.get("models") ?? []];
    if (current && !ids.includes(current)) ids.push(current);
    modelSelect.replaceChildren(...ids.map((id) => h("option", { value: id, text: id })));
    modelSelect.value = current;
    const compare = compareFor("model", ids, current);
    modelSlot.replaceChildren(
      compare.values ? compareChoices(ids, ids, compare, `${uid}-model-label`) : modelSelect,
      compareBox(compare, "Model", `${uid}-model-compare`)
    );
  }
  function showValidity() {
    const view = validityView(model.get("validity"));
    generate.disabled = view.disabled;
    reason.textContent = view.text;
    reason.classList.toggle("jig-invalid", view.invalid);
  }
  function showCancellable() {
    const counts = summarizeJobs(list("jobs") ?? []);
    cancel.disabled = counts.queued + counts.running === 0;
  }
  const cancelAll = () => {
    if (cancel.disabled) return false;
    send({ type: "cancel" });
    return true;
  };
  const nodes = [
    prompt,
    h(
      "div",
      { class: "jig-row" },
      h("span", { id: `${uid}-model-label`, text: "Model" }),
      modelSlot,
      h("label", {}, "Variations ", variations),
      variationsSaid
    ),
    controls,
    ...inputs.nodes,
    advanced,
    h("div", { class: "jig-actions" }, generate, cancel, reason)
  ];
  const views = {
    prompt: showPrompt,
    models: showModels,
    model: showModels,
    variations: () => variations.value = String(model.get("variations") ?? 1),
    limits: () => variations.max = String(maxVariations(model)),
    model_info: () => {
      showControls();
      inputs.views.model_info();
    },
    params: showControls,
    compare: () => {
      showModels();
      showControls();
    },
    inputs: inputs.views.inputs,
    mask: inputs.views.mask,
    gateway: showAdvanced,
    use_cache: showAdvanced,
    validity: showValidity,
    jobs: showCancellable
  };
  return { nodes, views, cancelAll };
}
function maxVariations(model) {
  return model.get("limits")?.max_variations ?? 1;
}

// code.js
function pyLiteral(value) {
  if (value === null || value === void 0) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return 'float("nan")';
    if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : 'float("-inf")';
    return String(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyLiteral).join(", ")}]`;
  const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v)}`);
  return `{${items.join(", ")}}`;
}
var LINE_BREAKING = /[\x00-\x1f\x7f\x85\u2028\u2029]/;
function magicQuote(text) {
  const s = String(text);
  if (LINE_BREAKING.test(s)) return null;
  if (/^[A-Za-z0-9_@./:=+-]+$/.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
}
function magicParam(name, value) {
  if (value === null || value === void 0 || typeof value === "object") return null;
  const key = String(name);
  if (key === "" || key.includes("=") || value === "") return null;
  return magicQuote(`${key}=${value}`);
}
function commentName(name) {
  const s = String(name);
  if (/^[A-Za-z0-9_.-]+$/.test(s)) return s;
  return JSON.stringify(s).replace(/[\x7f\x85\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
function isIdentifier(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
function gatewayEntries(gateway) {
  const g = gateway ?? {};
  const entries = [];
  if (g.gateway_id) entries.push(["gateway_id", g.gateway_id]);
  if (g.skip_cache) entries.push(["skip_cache", true]);
  if (typeof g.cache_ttl === "number") entries.push(["cache_ttl", g.cache_ttl]);
  if (g.cache_key) entries.push(["cache_key", g.cache_key]);
  if (typeof g.request_timeout_ms === "number") entries.push(["request_timeout_ms", g.request_timeout_ms]);
  return entries;
}
function magicParts(item) {
  const words = ["%%imagegen"];
  const notes = [];
  const model = magicQuote(item.model);
  if (model === null) notes.push("# the model id cannot be written on this line: see the Python call");
  else words.push("--model", model);
  for (const [name, value] of Object.entries(item.params ?? {})) {
    const word = magicParam(name, value);
    if (word === null) notes.push(`# ${commentName(name)} cannot be written on this line: set it in the Python call`);
    else words.push("--param", word);
  }
  if (item.variation) {
    words.push("-n", String(item.variation + 1));
    notes.push(`# this image is the last of the ${item.variation + 1} variations`);
  }
  for (const [name, value] of gatewayEntries(item.gateway)) {
    if (name === "gateway_id" && magicQuote(value) !== null) words.push("--gateway", magicQuote(value));
    else if (name === "skip_cache") words.push("--skip-gateway-cache");
    else notes.push(`# gateway option ${name} has no magic flag: see the Python call`);
  }
  if (item.inputs) {
    notes.push(`# editing: add --image PATH (or a variable name) for each of the ${item.inputs} input image(s)`);
  }
  if (item.mask) notes.push("# inpainting: add --mask PATH (or a variable name) for the mask this image was made with");
  const body = String(item.prompt ?? "").replace(/[{}]/g, (brace) => brace + brace);
  return { cell: [words.join(" "), body].join("\n"), notes };
}
function pythonCode(item) {
  const args = [pyLiteral(item.prompt ?? ""), `model=${pyLiteral(item.model)}`];
  const extra = {};
  for (const [name, value] of Object.entries(item.params ?? {})) {
    if (isIdentifier(name)) args.push(`${name}=${pyLiteral(value)}`);
    else extra[name] = value;
  }
  if (item.inputs) {
    const paths = Array.from({ length: item.inputs }, (_, i) => `input-${i + 1}.png`);
    args.push(`images=${pyLiteral(paths)}`);
  }
  if (item.mask) args.push(`mask=${pyLiteral("mask.png")}`);
  if (item.variation) args.push(`variation=${item.variation}`);
  for (const [name, value] of gatewayEntries(item.gateway)) args.push(`${name}=${pyLiteral(value)}`);
  if (Object.keys(extra).length) args.push(`**${pyLiteral(extra)}`);
  const lines = ["from jupyter_imagegen import generate", ""];
  if (item.inputs || item.mask) {
    const files = [item.inputs ? "the input image(s)" : "", item.mask ? "the mask" : ""].filter(Boolean);
    lines.push(`# save ${files.join(" and ")} under these names first`);
  }
  lines.push(`image = generate(
    ${args.join(",\n    ")},
)`);
  lines.push("image");
  return lines.join("\n");
}
function codeFor(item) {
  const { cell, notes } = magicParts(item);
  return { magic: cell, notes: notes.join("\n"), python: pythonCode(item) };
}

// lists.js
function toggleSelected(selected, id) {
  const list = Array.isArray(selected) ? selected : [];
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
}
function arrowTarget(key, index, count) {
  if (count <= 0) return null;
  switch (key) {
    case "ArrowRight":
    case "ArrowDown":
      return Math.min(count - 1, index + 1);
    case "ArrowLeft":
    case "ArrowUp":
      return Math.max(0, index - 1);
    case "Home":
      return 0;
    case "End":
      return count - 1;
    default:
      return null;
  }
}
function mergeById(list, { reset = false, items = [], drop = [] } = {}) {
  if (reset) return [...items];
  const changed = new Map(items.map((item) => [item.id, item]));
  const gone = new Set(drop);
  const kept = [];
  for (const item of list ?? []) {
    if (gone.has(item.id)) continue;
    const update = changed.get(item.id);
    changed.delete(item.id);
    kept.push(update ?? item);
  }
  return [...changed.values(), ...kept];
}

// matrix.js
function matrixView(comparison, { thumbOf, enlarge, showCode }) {
  const cells = comparison.cells ?? [];
  const cellView = (index, named) => {
    const cell = cells[index];
    const shown = cell?.entry ? thumbOf(cell.entry) : null;
    const name = (cell?.labels ?? []).join(" · ");
    const picture = shown ? h(
      "button",
      { class: "jig-thumb-button", title: `Enlarge ${name}`, onclick: () => enlarge(shown.item) },
      h("img", { class: "jig-thumb", src: shown.url, alt: `${name}: ${shown.item.prompt}` })
    ) : h("span", { class: "jig-matrix-empty", text: emptyText(cell) });
    return h(
      "td",
      {
        class: "jig-matrix-cell",
        dataset: { state: cell?.state ?? "", labels: name, ...cell?.entry ? { id: cell.entry } : {} }
      },
      picture,
      h("span", { class: "jig-matrix-caption", text: named ? `${name} · ${cell?.caption ?? ""}` : cell?.caption ?? "" }),
      shown?.actions ?? null
    );
  };
  const table = (group) => {
    const columns = group.columns?.length ? group.columns : null;
    const across = group.across || (columns ? columns.length : group.indices.length);
    const rows = group.rows?.length ? group.rows : Array.from({ length: Math.ceil(group.indices.length / across) }, () => "");
    const labelled = Boolean(group.rows?.length);
    const head = columns ? h("thead", {}, h("tr", {}, labelled ? h("td") : null, columns.map((c) => h("th", { scope: "col", text: c })))) : null;
    const body = rows.map(
      (row, r) => h(
        "tr",
        {},
        labelled ? h("th", { scope: "row", text: row }) : null,
        group.indices.slice(r * across, (r + 1) * across).map((index) => cellView(index, !columns))
      )
    );
    return h(
      "div",
      { class: "jig-matrix-group" },
      group.title ? h("div", { class: "jig-matrix-title", text: group.title }) : null,
      h("table", { class: "jig-matrix-table" }, head, h("tbody", {}, body))
    );
  };
  return h(
    "section",
    { class: "jig-matrix", dataset: { comparison: comparison.id }, "aria-label": `Comparison: ${comparison.title}` },
    h(
      "div",
      { class: "jig-matrix-head" },
      h("b", { text: `Comparison: ${comparison.title}` }),
      h("button", {
        class: "jig-action",
        title: "Copy as code",
        "aria-label": "Copy the comparison as code",
        text: "</>",
        dataset: { action: "code-comparison" },
        onclick: showCode
      })
    ),
    (comparison.groups ?? []).map(table),
    h("div", { class: "jig-matrix-footer", text: comparison.footer ?? "" })
  );
}
function emptyText(cell) {
  if (cell?.state === "failed" || cell?.state === "cancelled") return cell.state;
  return cell?.entry ? "left the gallery" : "…";
}
function codeBlock(title, text, notes = "") {
  const copy = h("button", { text: "Copy" });
  copy.addEventListener("click", async () => flash(copy, await copyText(text) ? "Copied" : "Copy failed"));
  return h(
    "div",
    { class: "jig-code" },
    h("div", { class: "jig-code-head" }, h("b", { text: title }), copy),
    notes ? h("pre", { class: "jig-code-notes", text: notes }) : null,
    h("pre", { text })
  );
}

// gallery.js
var TICK_MS = 500;
function createResults({ model, list, send, setState }) {
  const jobsSummary = h("div", { class: "jig-jobs-summary" });
  const jobsList = h("ol", { class: "jig-jobs-list" });
  const gallery = h("div", { class: "jig-gallery" });
  const overlay = h("div", { class: "jig-overlay", hidden: true });
  const live = h("div", { class: "jig-sr-only", role: "status", "aria-live": "polite", "aria-atomic": "true" });
  let announced = null;
  let action;
  let shown = null;
  let returnFocus = null;
  const thumbUrls = /* @__PURE__ */ new Map();
  const pending = /* @__PURE__ */ new Map();
  const comparisons = /* @__PURE__ */ new Map();
  let requestCounter = 0;
  function showJobs() {
    const jobs = list("jobs") ?? [];
    const now = Date.now();
    const counts = summarizeJobs(jobs);
    let news = "";
    if (announced !== null) ({ text: news, run: action } = announcement(announced, jobs, action));
    if (list("jobs") !== void 0) announced = jobs;
    if (news) live.textContent = news;
    jobsSummary.textContent = Object.entries(counts).filter(([, n]) => n).map(([state, n]) => `${n} ${state}`).join(" · ");
    jobsList.replaceChildren(
      ...jobs.map(
        (job) => h(
          "li",
          { class: `jig-job jig-${job.state}`, dataset: { job: job.id, state: job.state } },
          h("span", { class: "jig-job-state", text: jobLabel(job, now) }),
          h("span", { class: "jig-job-prompt", title: job.prompt, text: truncate(job.prompt, 60) }),
          isActive(job) ? h("button", {
            class: "jig-icon",
            title: "Cancel this request",
            "aria-label": `Cancel the request for ${truncate(job.prompt, 60)}`,
            text: "×",
            onclick: () => send({ type: "cancel", job: job.id })
          }) : null
        )
      )
    );
  }
  const timer = setInterval(() => {
    const jobs = list("jobs") ?? [];
    if (!jobs.some((job) => job.state === "running")) return;
    const now = Date.now();
    for (const job of jobs) {
      const label = jobsList.querySelector(`[data-job="${job.id}"] .jig-job-state`);
      if (label) label.textContent = jobLabel(job, now);
    }
  }, TICK_MS);
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
      onclick: closeOverlay
    });
    overlay.replaceChildren(
      h("div", { class: "jig-dialog", role: "dialog", "aria-modal": "true", "aria-label": label }, close, ...children)
    );
    overlay.hidden = false;
    close.focus();
  };
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
      position ? h("p", { class: "jig-position", text: position }) : null
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
      setTimeout(() => URL.revokeObjectURL(url), 1e4);
    });
  }
  function showCode(item) {
    const code = codeFor(item);
    shown = null;
    openOverlay(
      "Copy as code",
      codeBlock("Notebook cell", code.magic, code.notes),
      codeBlock("Python", code.python)
    );
    overlay.firstChild.classList.add("jig-code-dialog");
    copyText(`${code.magic}

${code.python}`);
  }
  function showComparisonCode(comparison) {
    const { cell, notes } = comparisonCode(comparison.code ?? {});
    shown = null;
    openOverlay("Copy the comparison as code", codeBlock("Notebook cell", cell, notes));
    overlay.firstChild.classList.add("jig-code-dialog");
    copyText(cell);
  }
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
      showCode: () => showComparisonCode(comparison)
    });
  }
  function itemActions(item, selected) {
    const action2 = (name, label, title, handler) => h("button", {
      class: "jig-action",
      title,
      "aria-label": title,
      text: label,
      dataset: { action: name },
      onclick: handler
    });
    const copyPrompt = action2(
      "copy-prompt",
      "❝",
      "Copy the prompt",
      async () => flash(copyPrompt, await copyText(item.prompt) ? "✓" : "✗")
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
        onclick: () => setState({ selected_ids: toggleSelected(model.get("selected_ids"), item.id) })
      }),
      action2("download", "⬇", "Download the original", () => download(item)),
      copyPrompt,
      action2("use-input", "↪", "Use as input image", () => send({ type: "use_as_input", id: item.id })),
      action2("reuse", "⟲", "Reuse these settings", () => send({ type: "reuse", id: item.id })),
      action2("code", "</>", "Copy as code", () => showCode(item))
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
          onclick: () => enlarge(item)
        },
        h("img", { class: "jig-thumb", src: thumbUrls.get(item.id), alt: item.prompt })
      ),
      h(
        "figcaption",
        {},
        h("span", { class: "jig-card-prompt", title: item.prompt, text: truncate(item.prompt, 80) }),
        h("span", { class: "jig-card-meta", title: describeParams(item.params), text: meta }),
        itemActions(item, selected)
      )
    );
  }
  function showGallery() {
    const items = list("gallery") ?? [];
    const selected = new Set(model.get("selected_ids") ?? []);
    const live2 = new Set(items.map((item) => item.id));
    for (const [id, url] of thumbUrls) {
      if (!live2.has(id)) {
        URL.revokeObjectURL(url);
        thumbUrls.delete(id);
      }
    }
    const focused = gallery.contains(document.activeElement) ? [document.activeElement.closest("[data-id]")?.dataset.id, document.activeElement.className] : null;
    const itemsById = new Map(items.map((item) => [item.id, item]));
    const blocks = galleryBlocks(items, [...comparisons.values()].reverse());
    gallery.replaceChildren(
      ...blocks.map((b) => b.kind === "card" ? card(b.item, selected.has(b.item.id)) : matrix(b.comparison, itemsById, selected))
    );
    if (focused) {
      const [id, cls] = focused;
      const again = [...gallery.querySelectorAll(`[data-id="${id}"] button`)].find((b) => b.className === cls);
      again?.focus();
    }
  }
  function onArrow(event) {
    const items = list("gallery") ?? [];
    if (!overlay.hidden) {
      if (shown === null) return false;
      const index2 = items.findIndex((item) => item.id === shown);
      const next2 = arrowTarget(event.key, index2, items.length);
      if (next2 === null) return false;
      if (next2 !== index2) enlarge(items[next2]);
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
    }
  };
}

// panel.js
var LISTS = ["jobs", "gallery"];
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
  const lists = {};
  const context = {
    model,
    list: (name) => lists[name],
    send: (content, buffers) => model.send(content, void 0, buffers),
    setState: (changes) => {
      for (const [key, value] of Object.entries(changes)) model.set(key, value);
      model.save_changes();
    },
    // Element ids must be unique on the page, and a notebook can show several panels.
    uid: `jig${Math.random().toString(36).slice(2, 10)}`
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
      onclick: () => context.setState({ error: "" })
    })
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
  const onKey = (event) => {
    const handled = results.onKey(event) || event.key === "Escape" && form.cancelAll();
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
      onkeydown: onKey
    },
    spendLine,
    errorBox,
    ...form.nodes,
    ...results.nodes
  );
  el.append(root);
  const views = /* @__PURE__ */ new Map();
  const add = (trait, view) => views.set(trait, [...views.get(trait) ?? [], view]);
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
      const items = (msg.items ?? []).map((item, i) => msg.type === "gallery" ? { ...item, thumb: buffers?.[i] } : item);
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
var panel_default = { render };
export {
  panel_default as default
};
