// A comparison in the gallery, as DOM: one labelled matrix (a table per group: rows x columns named
// by what differs), each cell the image's thumbnail with its time and cost or "cached", and the
// totals under it. The labels, captions and totals are the kernel's (the same as the magic's);
// thumbnails are the gallery's, so each image's bytes travel once.
import { copyText, flash, h } from "./dom.js";

/**
 * The matrix of ``comparison`` (a ``{"type": "comparison"}`` message). ``thumbOf(entryId)``: the
 * thumbnail's URL, item and actions, or null while it has not arrived; ``enlarge(item)``;
 * ``showCode()``.
 */
export function matrixView(comparison, { thumbOf, enlarge, showCode }) {
  const cells = comparison.cells ?? [];
  const cellView = (index, named) => {
    const cell = cells[index];
    const shown = cell?.entry ? thumbOf(cell.entry) : null;
    const name = (cell?.labels ?? []).join(" · ");
    const picture = shown
      ? h(
          "button",
          { class: "jig-thumb-button", title: `Enlarge ${name}`, onclick: () => enlarge(shown.item) },
          h("img", { class: "jig-thumb", src: shown.url, alt: `${name}: ${shown.item.prompt}` }),
        )
      : h("span", { class: "jig-matrix-empty", text: emptyText(cell) });
    return h(
      "td",
      {
        class: "jig-matrix-cell",
        dataset: { state: cell?.state ?? "", labels: name, ...(cell?.entry ? { id: cell.entry } : {}) },
      },
      picture,
      h("span", { class: "jig-matrix-caption", text: named ? `${name} · ${cell?.caption ?? ""}` : (cell?.caption ?? "") }),
      shown?.actions ?? null,
    );
  };
  const table = (group) => {
    const columns = group.columns?.length ? group.columns : null;
    const across = group.across || (columns ? columns.length : group.indices.length);
    // One varying thing has no row labels: its cells wrap, ``across`` to a line.
    const rows = group.rows?.length
      ? group.rows
      : Array.from({ length: Math.ceil(group.indices.length / across) }, () => "");
    const labelled = Boolean(group.rows?.length);
    const head = columns
      ? h("thead", {}, h("tr", {}, labelled ? h("td") : null, columns.map((c) => h("th", { scope: "col", text: c }))))
      : null;
    const body = rows.map((row, r) =>
      h(
        "tr",
        {},
        labelled ? h("th", { scope: "row", text: row }) : null,
        group.indices.slice(r * across, (r + 1) * across).map((index) => cellView(index, !columns)),
      ),
    );
    return h(
      "div",
      { class: "jig-matrix-group" },
      group.title ? h("div", { class: "jig-matrix-title", text: group.title }) : null,
      h("table", { class: "jig-matrix-table" }, head, h("tbody", {}, body)),
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
        onclick: showCode,
      }),
    ),
    (comparison.groups ?? []).map(table),
    h("div", { class: "jig-matrix-footer", text: comparison.footer ?? "" }),
  );
}

/** What a cell without its thumbnail says: why there is none, or that it is on its way. */
export function emptyText(cell) {
  if (cell?.state === "failed" || cell?.state === "cancelled") return cell.state;
  return cell?.entry ? "left the gallery" : "…";
}

/** The "copy as code" dialog's block: a title, a Copy button, notes, the text. */
export function codeBlock(title, text, notes = "") {
  const copy = h("button", { text: "Copy" });
  copy.addEventListener("click", async () => flash(copy, (await copyText(text)) ? "Copied" : "Copy failed"));
  return h(
    "div",
    { class: "jig-code" },
    h("div", { class: "jig-code-head" }, h("b", { text: title }), copy),
    notes ? h("pre", { class: "jig-code-notes", text: notes }) : null,
    h("pre", { text }),
  );
}
