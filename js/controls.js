// The form's controls, described from a model's schema, and the reducers of the form's values.
// Pure functions (no DOM), covered by `node --test`.
import { asText } from "./text.js";

// Enums with at most this many short options show as toggle buttons, others as a dropdown.
const TOGGLE_MAX_OPTIONS = 4;
const TOGGLE_MAX_LABEL = 10;

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
    help: asText(r.description),
    default: r.default ?? null,
  };
  if (Array.isArray(r.enum)) {
    // The values as the schema gives them (sent as they are), each shown as text.
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
    case undefined:
      return { ...base, kind: "text" };
    default:
      return { ...base, kind: "unsupported" };
  }
}

/**
 * The controls for a model's parameters, in schema order, editable ones only: a rule that cannot
 * be described leaves out its own control, never the others. Those the model requires besides
 * the prompt (``required``) say so in their label.
 */
export function controlsFor(parameters, required = []) {
  const needed = new Set(required ?? []);
  const described = [];
  for (const [name, rule] of Object.entries(parameters ?? {})) {
    try {
      described.push(controlFor(name, rule));
    } catch {
      // an unreadable rule: that parameter is left to the model's default
    }
  }
  return described
    .filter((control) => control.kind !== "unsupported")
    .map((control) =>
      needed.has(control.name) ? { ...control, required: true, label: `${control.label} (required)` } : control,
    );
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

/** Keep the number of variations within 1..max (the kernel's limit); unreadable input means 1. */
export function clampVariations(value, max) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n < 1) return 1;
  return Math.min(n, max);
}

/**
 * What to say when the Variations field was lowered to the panel's limit, or "" when it was not.
 * The panel shows one click's images together; the magic and the command take more (``maxImages``).
 */
export function variationsNote(value, max, maxImages) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n) || n <= max) return "";
  const more = maxImages > max ? ` For more, use %%imagegen -n (up to ${maxImages}).` : "";
  return `${n} is more than one click makes: at most ${max} variations in the panel.${more}`;
}

/**
 * What the form shows for the kernel's ``validity``: Generate's state and the reason beside it.
 * A blank prompt is not an error yet: nothing is said and Generate stays pressable until the
 * user presses it (the kernel then answers with the reason).
 */
export function validityView(validity) {
  const valid = Boolean(validity?.valid);
  if (!valid && validity?.blank) return { disabled: false, text: "", invalid: false };
  return { disabled: !valid, text: String(validity?.reason ?? ""), invalid: !valid };
}

/** The note beside "Input images" for a model (``model_info``). */
export function inputsNote(info) {
  if (!info?.edits) return "this model does not take input images";
  if (info.url_only) return "this model takes reference images as https:// URLs only: pass them from Python (images=[url])";
  return `up to ${info.max_images} image(s) to edit`;
}

/**
 * The "Mask" control for a model (``model_info.mask``: "upload", "url" or null): hidden for a
 * model that takes none (the kernel drops the mask then), disabled for one that takes URLs only.
 */
export function maskView(info) {
  const mask = info?.mask;
  if (mask !== "upload" && mask !== "url") return { hidden: true, disabled: true, note: "" };
  if (mask === "url") {
    return { hidden: false, disabled: true, note: "this model takes a mask as an https:// URL only: pass it from Python (mask=url)" };
  }
  return { hidden: false, disabled: false, note: "marks what to repaint in the input image" };
}

/** Why a chosen file is not sent (over the size one message may carry), or null. */
export function uploadProblem(file, maxBytes, pythonHint) {
  return file.size > maxBytes ? `${file.name} is over ${Math.floor(maxBytes / 2 ** 20)} MB; pass it from Python instead: ${pythonHint}.` : null;
}
