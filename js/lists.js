// Lists the panel keeps: the gallery selection, arrow-key moves, and lists the kernel updates by
// message. Pure functions (no DOM), covered by `node --test`.

/** A new selection with ``id`` added or removed. */
export function toggleSelected(selected, id) {
  const list = Array.isArray(selected) ? selected : [];
  return list.includes(id) ? list.filter((x) => x !== id) : [...list, id];
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
