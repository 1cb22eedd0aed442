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
