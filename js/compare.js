// Comparisons in the panel: the "compare" choice of the model and of each enum parameter (the
// ``compare`` trait, {name: [values]}), where a comparison's images go in the gallery, and the
// ``%%imagegen`` cell that makes the same matrix. Pure functions (no DOM), covered by `node --test`.

/** Values of one option the panel compares at once (the kernel checks it too). */
export const MAX_COMPARED = 4;

/** ``compare`` with ``name`` compared (starting from ``current``, the value the form shows) or not. */
export function setCompared(compare, name, on, current) {
  const next = { ...(compare ?? {}) };
  if (!on) delete next[name];
  else next[name] = current === undefined || current === null || current === "" ? [] : [current];
  return next;
}

/** ``compare`` with ``value`` ticked or unticked for ``name``, in the order of ``options``. */
export function toggleCompared(compare, name, value, options) {
  const chosen = new Set(compare?.[name] ?? []);
  if (chosen.has(value)) chosen.delete(value);
  else chosen.add(value);
  const ordered = (options ?? []).filter((option) => chosen.has(option));
  return { ...(compare ?? {}), [name]: ordered };
}

/** True when ``value`` may still be ticked for ``name`` (at most MAX_COMPARED values). */
export function canTick(compare, name, value) {
  const chosen = compare?.[name] ?? [];
  return chosen.includes(value) || chosen.length < MAX_COMPARED;
}

/**
 * Where each gallery item goes: ``[{kind: "card", item}, {kind: "matrix", comparison}, ...]``,
 * newest first. A comparison's images show only in its matrix, at the place of its newest image;
 * a comparison none of whose images is in the list yet shows on top while it runs.
 */
export function galleryBlocks(items, comparisons) {
  const owner = new Map();
  for (const comparison of comparisons ?? []) {
    for (const cell of comparison.cells ?? []) if (cell.entry) owner.set(cell.entry, comparison);
  }
  const blocks = [];
  const placed = new Set();
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

// The magic reads an option's values as one word split on commas (split_values): a value that is
// not a plain name is quoted inside the word; a word cannot hold whitespace or a line break.
const PLAIN = /^[A-Za-z0-9_@./:=+-]+$/;
const UNWRITABLE = /[\s\x00-\x1f\x7f\x85\u2028\u2029]/;
const FLAGS = { quality: "-q", size: "-s", style: "--style" };

/** One value inside an option's comma-separated word, or null when it cannot be written there. */
export function listItem(value) {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  if (s === undefined || s === "" || UNWRITABLE.test(s)) return null;
  if (PLAIN.test(s)) return s;
  if (!s.includes('"')) return `"${s}"`;
  if (!s.includes("'")) return `'${s}'`;
  return null;
}

/** The words of one option with ``values`` (several compare), or null when they cannot be written. */
function optionWords(name, values) {
  if (!/^[A-Za-z0-9_.-]+$/.test(String(name))) return null; // "name=" must read back as the name
  const items = values.map(listItem);
  if (items.includes(null)) return null;
  const plain = items.every((item, i) => item === String(values[i]));
  // A word that starts with a quote ends at the closing quote: quoted values go after "name=".
  if (name === "model") return plain ? ["-m", items.join(",")] : null;
  if (FLAGS[name] && plain) return [FLAGS[name], items.join(",")];
  return ["--param", `${name}=${items.join(",")}`];
}

/**
 * The ``%%imagegen`` cell of a comparison (the ``code`` of its message: models, compared values,
 * the form's values every model takes, the ones ``left_out``, prompt and variations), and notes on
 * what it cannot say (shown beside the cell, never in it).
 */
export function comparisonCode(code) {
  const named = (name) => (PLAIN.test(String(name)) ? String(name) : "a parameter"); // a comment stays one line
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
