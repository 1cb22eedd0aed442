// "Copy as code": the %%imagegen cell and the Python call that make a gallery image again.
// Pure functions (no DOM), covered by `node --test`.

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

// Characters that end or split the magic's line (Python's splitlines breaks on all of them).
const LINE_BREAKING = /[\x00-\x1f\x7f\x85\u2028\u2029]/;

/**
 * A word for the magic's option line, which splits on spaces and strips one pair of matching
 * outer quotes (no escapes; the magic expands nothing in its line, so braces, `$` and backslashes
 * are read as written). Every word but a plain name is quoted. Null when the text cannot be
 * written on one line so that it reads back exactly: both kinds of quote, or a line break or
 * other control character.
 */
export function magicQuote(text) {
  const s = String(text);
  if (LINE_BREAKING.test(s)) return null;
  if (/^[A-Za-z0-9_@./:=+-]+$/.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
}

/** The ``--param`` word for one value, or null when only the Python call can say it exactly. */
export function magicParam(name, value) {
  if (value === null || value === undefined || typeof value === "object") return null;
  const key = String(name);
  if (key === "" || key.includes("=") || value === "") return null;
  return magicQuote(`${key}=${value}`);
}

/** A parameter name as a comment may show it: escaped, so it can never end the comment's line. */
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

/**
 * The ``%%imagegen`` cell that makes this image, and notes on what it leaves to the Python call
 * (shown beside the cell, never in it: a cell magic must be the cell's first line). Variation k
 * is the k-th image of ``-n``; gateway options the magic has no flag for are left to the Python
 * call. The cell body is a template in the magic (``{name}`` is filled from the notebook), so
 * literal braces are doubled.
 */
export function magicParts(item) {
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

/** The ``%%imagegen`` cell alone (see :func:`magicParts`). */
export function magicCode(item) {
  return magicParts(item).cell;
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
  if (item.mask) args.push(`mask=${pyLiteral("mask.png")}`);
  if (item.variation) args.push(`variation=${item.variation}`);
  for (const [name, value] of gatewayEntries(item.gateway)) args.push(`${name}=${pyLiteral(value)}`);
  if (Object.keys(extra).length) args.push(`**${pyLiteral(extra)}`);
  const lines = ["from jupyter_imagegen import generate", ""];
  if (item.inputs || item.mask) {
    const files = [item.inputs ? "the input image(s)" : "", item.mask ? "the mask" : ""].filter(Boolean);
    lines.push(`# save ${files.join(" and ")} under these names first`);
  }
  lines.push(`image = generate(\n    ${args.join(",\n    ")},\n)`);
  lines.push("image");
  return lines.join("\n");
}

/** Both forms, and the notes on the cell, as the "copy as code" dialog shows them. */
export function codeFor(item) {
  const { cell, notes } = magicParts(item);
  return { magic: cell, notes: notes.join("\n"), python: pythonCode(item) };
}
