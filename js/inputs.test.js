// Unit tests of the mask's logic: when the form offers a mask, what a chosen file too large
// says, and "copy as code" of an image made with a mask (`npm test`, node --test).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as Code from "./code.js";
import * as Controls from "./controls.js";

describe("the mask control", () => {
  test("shown for a model that takes a mask file, disabled for URLs only, hidden otherwise", () => {
    assert.deepEqual(Controls.maskView({ mask: "upload", edits: true }), {
      hidden: false,
      disabled: false,
      note: "marks what to repaint in the input image",
    });
    const url = Controls.maskView({ mask: "url" });
    assert.equal(url.hidden, false);
    assert.equal(url.disabled, true);
    assert.match(url.note, /https:\/\/ URL only: pass it from Python \(mask=url\)/);
    for (const info of [{ mask: null }, {}, undefined, { mask: "something else" }]) {
      assert.equal(Controls.maskView(info).hidden, true, JSON.stringify(info));
    }
  });

  test("the input images' note", () => {
    assert.equal(Controls.inputsNote({ edits: false }), "this model does not take input images");
    assert.equal(Controls.inputsNote({ edits: true, max_images: 1 }), "up to 1 image(s) to edit");
    assert.match(Controls.inputsNote({ edits: true, url_only: true }), /URLs only/);
  });

  test("a file over the message size is refused with the Python way to give it", () => {
    const max = 9 * 1024 * 1024;
    assert.equal(Controls.uploadProblem({ name: "m.png", size: max }, max, "mask=path"), null);
    assert.equal(
      Controls.uploadProblem({ name: "m.png", size: max + 1 }, max, "mask=path"),
      "m.png is over 9 MB; pass it from Python instead: mask=path.",
    );
  });
});

describe("copy as code with a mask", () => {
  const item = {
    prompt: "a red door",
    model: "@cf/runwayml/stable-diffusion-v1-5-inpainting",
    params: { width: 256, height: 256 },
    variation: 0,
    inputs: 1,
    mask: true,
    gateway: {},
  };

  test("the magic cell says to add --mask, as it says --image", () => {
    const { magic, notes } = Code.codeFor(item);
    const lines = notes.split("\n");
    assert.ok(lines.some((l) => l.startsWith("# editing: add --image PATH")), notes);
    assert.ok(lines.some((l) => l.startsWith("# inpainting: add --mask PATH")), notes);
    assert.ok(magic.startsWith("%%imagegen --model @cf/runwayml/stable-diffusion-v1-5-inpainting "), magic);
  });

  test("the python call passes the mask by a file name to save it under", () => {
    const code = Code.pythonCode(item);
    assert.ok(code.includes('images=["input-1.png"]'), code);
    assert.ok(code.includes('mask="mask.png"'), code);
    assert.ok(code.includes("# save the input image(s) and the mask under these names first"), code);
  });

  test("an image made without a mask says nothing of one", () => {
    const { notes, python } = Code.codeFor({ ...item, mask: false });
    assert.ok(!notes.includes("--mask") && !python.includes("mask="), `${notes}\n${python}`);
  });
});
