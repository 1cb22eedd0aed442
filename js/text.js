// Text the panel shows: durations, shortened prompts, parameter summaries, today's spend.
// Pure functions (no DOM), covered by `node --test`.

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

/**
 * Any value as text, never throwing: a schema or a synced trait may hold an object whose
 * ``toString`` is not a function (``{"toString": 1}``), which ``String()`` cannot convert.
 */
export function asText(value) {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  if (typeof value !== "object" && typeof value !== "function") return String(value);
  try {
    return JSON.stringify(value) ?? Object.prototype.toString.call(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function truncate(text, length) {
  const s = asText(text);
  return s.length <= length ? s : `${s.slice(0, Math.max(0, length - 1))}…`;
}

/** "size 512x512 · quality low". */
export function describeParams(params) {
  return Object.entries(params ?? {})
    .map(([k, v]) => `${k} ${asText(v)}`)
    .join(" · ");
}

// The panel header's line about today's use: the spend is an estimate from published prices.
export function describeSpend(spend, cancelledAfterSending = 0) {
  if (!spend || typeof spend.images !== "number") return "";
  const usd = `~$${(spend.usd ?? 0).toFixed(4)} estimated`;
  const unpriced = spend.unpriced ? ` (+${spend.unpriced} of unknown price)` : "";
  const limits = [];
  if (typeof spend.max_images === "number") limits.push(`${spend.max_images} images`);
  if (typeof spend.max_usd === "number") limits.push(`$${spend.max_usd.toFixed(2)}`);
  const budget = limits.length ? ` · daily budget ${limits.join(" and ")}` : "";
  const images = `${spend.images} image${spend.images === 1 ? "" : "s"}`;
  // The emulator keeps a ledger of its own: its images are test patterns nobody pays for.
  const day = spend.emulator ? "Today (UTC) on the emulator, not billed" : "Today (UTC)";
  // A request cancelled after it was sent stays counted: the service may still bill it.
  const cancelled = cancelledAfterSending
    ? ` · ${cancelledAfterSending} cancelled after sending, counted (may be billed)`
    : "";
  return `${day}: ${images}, ${usd}${unpriced}${budget}${cancelled}`;
}
