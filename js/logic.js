// Pure logic of the control panel: formatting, control descriptions from a model's schema,
// parameter and selection reducers, and the "copy as code" generators.
// No DOM here, so `node --test` covers all of it.

// Enums with at most this many short options show as toggle buttons, others as a dropdown.
const TOGGLE_MAX_OPTIONS = 4;
const TOGGLE_MAX_LABEL = 10;

/** "0.4 s", "12 s", "2 min 05 s". */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const s = Math.max(0, seconds);
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const minutes = Math.floor(s / 60);
  const rest = String(Math.floor(s % 60)).padStart(2, "0");
  return `${minutes} min ${rest} s`;
}

/** Seconds a job has taken: live while it runs, as reported once it has finished. */
export function jobElapsed(job, nowMs) {
  if (job.state === "running" && job.started_ms) {
    return Math.max(0, (nowMs - job.started_ms) / 1000);
  }
  return typeof job.elapsed === "number" ? job.elapsed : null;
}

/** The one-line status of a job: queued / running 3 s / done in 2.1 s / failed: why / cancelled. */
export function jobLabel(job, nowMs) {
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

export function isActive(job) {
  return job.state === "queued" || job.state === "running";
}

/** Counts per state, for the summary line above the job list. */
export function summarizeJobs(jobs) {
  const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const job of jobs) {
    if (job.state in counts) counts[job.state] += 1;
  }
  return counts;
}

/** "negative_prompt" -> "Negative prompt". */
export function labelFor(name) {
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

/**
 * How to show one parameter of a model's schema:
 * enum -> toggle buttons (few, short options) or a dropdown; boolean -> checkbox;
 * a number with a maximum -> slider over the schema's range (a missing minimum is taken as 0);
 * another number -> number box; text -> text box. Arrays and objects are not editable here.
 */
export function controlFor(name, rule) {
  const r = rule ?? {};
  const base = {
    name,
    label: labelFor(name),
    help: r.description ?? "",
    default: r.default ?? null,
  };
  if (Array.isArray(r.enum)) {
    const options = r.enum.slice();
    const short = options.every((o) => String(o).length <= TOGGLE_MAX_LABEL);
    const kind = options.length <= TOGGLE_MAX_OPTIONS && short ? "toggle" : "select";
    return { ...base, kind, options };
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
    case undefined:
      return { ...base, kind: "text" };
    default:
      return { ...base, kind: "unsupported" };
  }
}

/** The controls for a model's parameters, in schema order, editable ones only. */
export function controlsFor(parameters) {
  return Object.entries(parameters ?? {})
    .map(([name, rule]) => controlFor(name, rule))
    .filter((control) => control.kind !== "unsupported");
}

/** The value a control shows: what the user set, else the schema default, else empty. */
export function shownValue(control, params) {
  const value = params?.[control.name];
  if (value !== undefined && value !== null) return value;
  if (control.default !== null && control.default !== undefined) return control.default;
  if (control.kind === "slider") return control.min;
  if (control.kind === "checkbox") return false;
  return "";
}

/** A new params object with ``name`` set, or removed when ``value`` is empty (use the model default). */
export function setParam(params, name, value) {
  const next = { ...(params ?? {}) };
  const empty =
    value === undefined ||
    value === null ||
    value === "" ||
    (typeof value === "number" && Number.isNaN(value));
  if (empty) delete next[name];
  else next[name] = value;
  return next;
}

/** A new selection with ``id`` added or removed. */
export function toggleSelected(selected, id) {
  const list = Array.isArray(selected) ? selected : [];
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
}

/** Keep the number of variations within 1..max (the kernel's limit); unreadable input means 1. */
export function clampVariations(value, max) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, max);
}

export function truncate(text, length) {
  const s = String(text ?? "");
  return s.length <= length ? s : `${s.slice(0, Math.max(0, length - 1))}…`;
}

/** "size 512x512 · quality low". */
export function describeParams(params) {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k} ${v}`)
    .join(" · ");
}

/** A Python literal for a JSON value. */
export function pyLiteral(value) {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (Number.isNaN(value)) return 'float("nan")';
    if (!Number.isFinite(value)) return value > 0 ? 'float("inf")' : 'float("-inf")';
    return String(value);
  }
  // JSON string escapes (\n, \", \uXXXX) are valid in Python string literals.
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyLiteral).join(", ")}]`;
  const items = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${pyLiteral(v)}`);
  return `{${items.join(", ")}}`;
}

/**
 * A word for the magic's option line, which splits on spaces and strips one pair of matching
 * outer quotes (no escapes); null when the text holds both kinds of quote and cannot be written.
 */
export function magicQuote(text) {
  const s = String(text);
  if (/^[^\s'"]+$/.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
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

/**
 * The ``%%imagegen`` cell that makes this image. Variation k is the k-th image of ``-n``; gateway
 * options the magic has no flag for are left to the Python call. The cell body is a template in
 * the magic (``{name}`` is filled from the notebook), so literal braces are doubled.
 */
export function magicCode(item) {
  const words = ["%%imagegen", "--model", magicQuote(item.model)];
  const notes = [];
  for (const [name, value] of Object.entries(item.params ?? {})) {
    const word = magicQuote(`${name}=${value}`);
    if (word === null) notes.push(`# ${name} holds both kinds of quote: set it in the Python call`);
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
  const body = String(item.prompt ?? "").replace(/[{}]/g, (brace) => brace + brace);
  return [...notes, words.join(" "), body].join("\n");
}

/** The Python call that makes this image. */
export function pythonCode(item) {
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
  if (item.variation) args.push(`variation=${item.variation}`);
  for (const [name, value] of gatewayEntries(item.gateway)) args.push(`${name}=${pyLiteral(value)}`);
  if (Object.keys(extra).length) args.push(`**${pyLiteral(extra)}`);
  const lines = ["from jupyter_imagegen import generate", ""];
  if (item.inputs) lines.push("# save the input image(s) under these names first");
  lines.push(`image = generate(\n    ${args.join(",\n    ")},\n)`);
  lines.push("image");
  return lines.join("\n");
}

/** Both forms, as the "copy as code" dialog shows them. */
export function codeFor(item) {
  return { magic: magicCode(item), python: pythonCode(item) };
}

/**
 * What a screen reader should hear when the jobs change: requests that started, finished,
 * failed or were cancelled since ``before``; "" when nothing worth saying happened.
 */
export function announcement(before, after) {
  const old = new Map((before ?? []).map((job) => [job.id, job.state]));
  const fresh = { started: 0, done: 0, cancelled: 0 };
  const failures = [];
  for (const job of after ?? []) {
    const was = old.get(job.id);
    if (was === job.state) continue;
    if (was === undefined && isActive(job)) fresh.started += 1;
    else if (job.state === "done") fresh.done += 1;
    else if (job.state === "cancelled") fresh.cancelled += 1;
    else if (job.state === "failed") failures.push(job.message || "unknown error");
  }
  const images = (n) => `${n} image${n === 1 ? "" : "s"}`;
  const parts = [];
  if (fresh.started) parts.push(`Generating ${images(fresh.started)}.`);
  if (fresh.done) parts.push(`${images(fresh.done)} ready.`);
  if (fresh.cancelled) parts.push(`${fresh.cancelled} cancelled.`);
  for (const message of failures) parts.push(`Failed: ${message}`);
  return parts.join(" ");
}

/** Where an arrow key moves in a list of ``count`` items from ``index`` (Home/End too); null for other keys. */
export function arrowTarget(key, index, count) {
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

/**
 * A list (newest first) after a kernel message ``{reset, items, drop}``: with ``reset`` the
 * items are the whole list; otherwise an item whose id is known replaces it in place, new ones
 * go first in the message's order, and the ids in ``drop`` leave. The kernel sends only what
 * changed, so a message costs the same however long the list is.
 */
export function mergeById(list, { reset = false, items = [], drop = [] } = {}) {
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

// The panel header's line about today's use: the spend is an estimate from published prices.
export function describeSpend(spend) {
  if (!spend || typeof spend.images !== "number") return "";
  const usd = `~$${(spend.usd ?? 0).toFixed(4)} estimated`;
  const unpriced = spend.unpriced ? ` (+${spend.unpriced} of unknown price)` : "";
  const limits = [];
  if (typeof spend.max_images === "number") limits.push(`${spend.max_images} images`);
  if (typeof spend.max_usd === "number") limits.push(`$${spend.max_usd.toFixed(2)}`);
  const budget = limits.length ? ` · daily budget ${limits.join(" and ")}` : "";
  const images = `${spend.images} image${spend.images === 1 ? "" : "s"}`;
  return `Today (UTC): ${images}, ${usd}${unpriced}${budget}`;
}
