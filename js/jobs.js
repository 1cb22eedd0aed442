// The job list's logic: a job's status line, the counts per state, and what a screen reader
// hears when jobs change. Pure functions (no DOM), covered by `node --test`.

import { formatSeconds } from "./text.js";

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

/** Requests cancelled after they had been sent (they had started): the service may bill them. */
export function cancelledAfterSending(jobs) {
  return (jobs ?? []).filter((job) => job.state === "cancelled" && job.started_ms).length;
}

/** Counts per state, for the summary line above the job list. */
export function summarizeJobs(jobs) {
  const counts = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const job of jobs) {
    if (job.state in counts) counts[job.state] += 1;
  }
  return counts;
}

/**
 * What a screen reader should hear when the jobs change, and the action it belongs to. An action
 * is the requests started since the panel was last idle: while it runs each finished image is
 * counted against it ("2 of 3 images ready."), and when its last request ends the action's whole
 * result is said ("3 images ready."), with cancellations and failures. ``run`` is what the
 * previous call returned (undefined at first); "" when nothing worth saying happened.
 */
export function announcement(before, after, run) {
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
    if (was === undefined && isActive(job)) {
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
  const next = over ? undefined : { ids: [...ids], ready, cancelled };
  return { text: parts.join(" "), run: next };
}
