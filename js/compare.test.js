// Unit tests of the panel's comparison logic (compare.js): `npm test` (node --test).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as Compare from "./compare.js";
import { emptyText } from "./matrix.js";

describe("the compare choice", () => {
  test("starts from the form's value and keeps the options' order", () => {
    let compare = Compare.setCompared({}, "quality", true, "low");
    assert.deepEqual(compare, { quality: ["low"] });
    const options = ["low", "medium", "high", "auto"];
    compare = Compare.toggleCompared(compare, "quality", "high", options);
    compare = Compare.toggleCompared(compare, "quality", "medium", options);
    assert.deepEqual(compare.quality, ["low", "medium", "high"]);
    compare = Compare.toggleCompared(compare, "quality", "low", options);
    assert.deepEqual(compare.quality, ["medium", "high"]);
    assert.deepEqual(Compare.setCompared(compare, "quality", false), {});
    assert.deepEqual(Compare.setCompared({}, "size", true, ""), { size: [] });
  });

  test("at most MAX_COMPARED values may be ticked", () => {
    const compare = { steps: [1, 2, 3, 4] };
    assert.equal(Compare.canTick(compare, "steps", 5), false);
    assert.equal(Compare.canTick(compare, "steps", 4), true); // unticking is always allowed
    assert.equal(Compare.canTick({}, "steps", 1), true);
  });
});

describe("the gallery's blocks", () => {
  const items = [{ id: "x" }, { id: "b2" }, { id: "b1" }, { id: "y" }];
  const done = { id: "c1", running: false, cells: [{ entry: "b1" }, { entry: "b2" }] };
  const waiting = { id: "c2", running: true, cells: [{ entry: null }] };
  const gone = { id: "c3", running: false, cells: [{ entry: "z" }] };

  test("a comparison's images show once, as its matrix, where its newest image is", () => {
    const blocks = Compare.galleryBlocks(items, [waiting, done, gone]);
    assert.deepEqual(
      blocks.map((b) => (b.kind === "card" ? b.item.id : b.comparison.id)),
      ["c2", "x", "c1", "y"],
    );
    assert.deepEqual(Compare.galleryBlocks(items, undefined).length, 4);
  });
});

describe("copy a comparison as code", () => {
  const base = { models: ["openai/gpt-image-1.5", "openai/gpt-image-2"], prompt: "a {kite}", variations: 1 };

  test("options with several values are comma-separated words of the magic", () => {
    const { cell, notes } = Compare.comparisonCode({
      ...base,
      compare: { quality: ["low", "high"], background: ["opaque", "auto"] },
      params: { steps: 4 },
      left_out: ["size"],
      variations: 2,
    });
    assert.equal(
      cell,
      "%%imagegen -m openai/gpt-image-1.5,openai/gpt-image-2 -q low,high --param background=opaque,auto " +
        "--param steps=4 -n 2\na {{kite}}",
    );
    assert.equal(notes, "# size is left out: not every compared model takes the panel's value");
  });

  test("a value that is not a plain name is quoted inside the word, after name=", () => {
    const { cell } = Compare.comparisonCode({
      ...base,
      models: ["m"],
      compare: { size: ["1:1", "a,b", 'say"hi', "[1]"] },
      params: {},
    });
    assert.equal(cell.split("\n")[0], `%%imagegen -m m --param size=1:1,"a,b",'say"hi',"[1]"`);
  });

  test("what a line cannot hold is said in a note, never written half", () => {
    const { cell, notes } = Compare.comparisonCode({
      ...base,
      models: ["m"],
      compare: { style: ["a b", "c"], "x\ny": ["1", "2"] },
      params: { mood: `both ' and "`, tags: ["a"] },
    });
    assert.equal(cell, "%%imagegen -m m\na {{kite}}");
    assert.match(notes, /^# style cannot be written on this line/);
    assert.equal(notes.split("\n").length, 4); // each note one line, the odd name not repeated
    assert.ok(!notes.includes("x\ny"));
    assert.match(notes, /# tags is set in the panel only/);
  });

  test("input images and a mask the cell cannot name are said in notes, not dropped", () => {
    const { cell, notes } = Compare.comparisonCode({ ...base, compare: {}, params: {}, inputs: 1, mask: true });
    assert.equal(cell, "%%imagegen -m openai/gpt-image-1.5,openai/gpt-image-2\na {{kite}}");
    assert.deepEqual(notes.split("\n"), [
      "# editing: add --image PATH (or a variable name) for each of the 1 input image(s)",
      "# inpainting: add --mask PATH (or a variable name) for the mask these images were made with",
    ]);
  });

  test("list items", () => {
    assert.equal(Compare.listItem("low"), "low");
    assert.equal(Compare.listItem(4), "4");
    assert.equal(Compare.listItem(true), "true");
    assert.equal(Compare.listItem(""), null);
    assert.equal(Compare.listItem("a\tb"), null);
    assert.equal(Compare.listItem("{x}"), '"{x}"');
  });
});

describe("a matrix cell without its thumbnail", () => {
  test("says why", () => {
    assert.equal(emptyText({ state: "running", entry: null }), "…");
    assert.equal(emptyText({ state: "failed", entry: null }), "failed");
    assert.equal(emptyText({ state: "cancelled", entry: null }), "cancelled");
    assert.equal(emptyText({ state: "done", entry: "e1" }), "left the gallery");
  });
});
