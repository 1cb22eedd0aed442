// Unit tests of the panel's pure logic (code, controls, jobs, lists, text): `npm test` (node --test).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as Code from "./code.js";
import * as Controls from "./controls.js";
import * as Jobs from "./jobs.js";
import * as Lists from "./lists.js";
import * as Text from "./text.js";

describe("formatting", () => {
  test("seconds", () => {
    assert.equal(Text.formatSeconds(0.44), "0.4 s");
    assert.equal(Text.formatSeconds(9.99), "9.9 s");
    assert.equal(Text.formatSeconds(12.7), "12 s");
    assert.equal(Text.formatSeconds(125), "2 min 05 s");
    assert.equal(Text.formatSeconds(-3), "0.0 s");
    assert.equal(Text.formatSeconds(null), "");
  });

  test("job labels for every state", () => {
    const now = 1_000_000;
    assert.equal(Jobs.jobLabel({ state: "queued" }, now), "queued");
    assert.equal(Jobs.jobLabel({ state: "running", started_ms: now - 3400 }, now), "running 3 s");
    assert.equal(Jobs.jobLabel({ state: "done", elapsed: 2.13 }, now), "done in 2.1 s");
    assert.equal(Jobs.jobLabel({ state: "done", elapsed: 0, cached: true }, now), "done (from cache)");
    assert.equal(Jobs.jobLabel({ state: "failed", message: "HTTP 429: slow down" }, now), "failed: HTTP 429: slow down");
    assert.equal(Jobs.jobLabel({ state: "failed" }, now), "failed: unknown error");
    assert.equal(Jobs.jobLabel({ state: "cancelled" }, now), "cancelled");
  });

  test("a running job's clock never goes negative (browser clock behind the kernel's)", () => {
    assert.equal(Jobs.jobLabel({ state: "running", started_ms: 2000 }, 1000), "running 0 s");
  });

  test("job summary counts states", () => {
    const jobs = [{ state: "queued" }, { state: "running" }, { state: "running" }, { state: "failed" }];
    assert.deepEqual(Jobs.summarizeJobs(jobs), { queued: 1, running: 2, done: 0, failed: 1, cancelled: 0 });
    assert.ok(Jobs.isActive({ state: "queued" }) && !Jobs.isActive({ state: "done" }));
  });

  test("labels, truncation, parameter summaries", () => {
    assert.equal(Controls.labelFor("negative_prompt"), "Negative prompt");
    assert.equal(Text.truncate("abcdef", 4), "abc…");
    assert.equal(Text.truncate("abc", 4), "abc");
    assert.equal(Text.describeParams({ size: "512x512", quality: "low" }), "size 512x512 · quality low");
  });
});

describe("controls from a schema", () => {
  test("short enums are toggles, long ones dropdowns", () => {
    const quality = Controls.controlFor("quality", { type: "string", enum: ["low", "medium", "high", "auto"] });
    assert.equal(quality.kind, "toggle");
    assert.deepEqual(quality.options, ["low", "medium", "high", "auto"]);
    const size = Controls.controlFor("size", { type: "string", enum: ["256x256", "512x512", "1024x1024", "1792x1024", "1024x1792"] });
    assert.equal(size.kind, "select");
    const long = Controls.controlFor("person_generation", { enum: ["dont_allow", "allow_adult", "allow_all"] });
    assert.equal(long.kind, "select");
  });

  test("bounded numbers are sliders over the schema's range", () => {
    const steps = Controls.controlFor("steps", { type: "integer", maximum: 8 });
    assert.deepEqual([steps.kind, steps.min, steps.max, steps.step], ["slider", 0, 8, 1]);
    const guidance = Controls.controlFor("guidance", { type: "number", minimum: 0, maximum: 10, default: 4.5 });
    assert.deepEqual([guidance.kind, guidance.min, guidance.max, guidance.step, guidance.default], ["slider", 0, 10, 0.1, 4.5]);
    const width = Controls.controlFor("width", { type: "integer", minimum: 256, maximum: 2048 });
    assert.deepEqual([width.min, width.max, width.step], [256, 2048, 1]);
  });

  test("unbounded numbers are number boxes, text is a text box, booleans checkboxes", () => {
    const seed = Controls.controlFor("seed", { type: "integer", minimum: 0 });
    assert.deepEqual([seed.kind, seed.min, seed.max, seed.step], ["number", 0, null, 1]);
    const strength = Controls.controlFor("strength", { type: "number", default: 1 });
    assert.deepEqual([strength.kind, strength.step], ["number", "any"]);
    assert.equal(Controls.controlFor("negative_prompt", { type: "string" }).kind, "text");
    assert.equal(Controls.controlFor("tiling", { type: "boolean" }).kind, "checkbox");
  });

  test("arrays and objects get no control", () => {
    const controls = Controls.controlsFor({ seed: { type: "integer" }, tags: { type: "array" }, opts: { type: "object" } });
    assert.deepEqual(controls.map((c) => c.name), ["seed"]);
    assert.deepEqual(Controls.controlsFor(undefined), []);
  });

  test("a parameter the model requires says so in its label", () => {
    const kling = { resolution: { enum: ["1k", "2k"], default: "1k" }, negative_prompt: { type: "string" } };
    const controls = Controls.controlsFor(kling, ["resolution"]);
    assert.deepEqual(
      controls.map((c) => [c.name, c.label, c.required ?? false]),
      [
        ["resolution", "Resolution (required)", true],
        ["negative_prompt", "Negative prompt", false],
      ],
    );
  });

  test("any enum value, description or default is shown as text and one bad rule hides no other", () => {
    const hostile = { toString: 1 }; // String(hostile) throws
    const controls = Controls.controlsFor({
      style: { type: "string", enum: [hostile, "vivid", 3, null], description: hostile, default: hostile },
      broken: { get enum() { throw new Error("a getter that throws"); } },
      steps: { type: "integer", minimum: 1, maximum: 8 },
    });
    assert.deepEqual(controls.map((c) => c.name), ["style", "steps"]);
    const [style] = controls;
    assert.deepEqual(style.labels, ['{"toString":1}', "vivid", "3", ""]);
    assert.equal(style.options[0], hostile); // sent as the schema gives it
    assert.equal(style.help, '{"toString":1}');
    assert.equal(Text.asText(hostile), '{"toString":1}');
    const loop = {};
    loop.self = loop;
    assert.equal(Text.asText(loop), "[object Object]");
    assert.equal(Text.describeParams({ style: hostile }), 'style {"toString":1}');
  });

  test("switching schemas changes the controls", () => {
    const gpt = { quality: { enum: ["low", "high"] }, size: { enum: ["256x256", "512x512"] } };
    const flux = { steps: { type: "integer", maximum: 8 } };
    assert.deepEqual(Controls.controlsFor(gpt).map((c) => c.name), ["quality", "size"]);
    assert.deepEqual(Controls.controlsFor(flux).map((c) => [c.name, c.kind]), [["steps", "slider"]]);
  });

  test("shown values: set value, else default, else the control's empty value", () => {
    const guidance = Controls.controlFor("guidance", { type: "number", minimum: 2, maximum: 10, default: 3 });
    assert.equal(Controls.shownValue(guidance, { guidance: 7 }), 7);
    assert.equal(Controls.shownValue(guidance, {}), 3);
    const steps = Controls.controlFor("steps", { type: "integer", minimum: 1, maximum: 8 });
    assert.equal(Controls.shownValue(steps, {}), 1);
    assert.equal(Controls.shownValue(Controls.controlFor("x", { type: "string" }), {}), "");
    assert.equal(Controls.shownValue(Controls.controlFor("b", { type: "boolean" }), {}), false);
  });
});

describe("reducers", () => {
  test("setParam sets and clears without mutating", () => {
    const params = { size: "512x512" };
    const next = Controls.setParam(params, "quality", "low");
    assert.deepEqual(next, { size: "512x512", quality: "low" });
    assert.deepEqual(params, { size: "512x512" });
    assert.deepEqual(Controls.setParam(next, "size", null), { quality: "low" });
    assert.deepEqual(Controls.setParam(next, "size", ""), { quality: "low" });
    assert.deepEqual(Controls.setParam(next, "size", Number.NaN), { quality: "low" });
    assert.deepEqual(Controls.setParam(undefined, "seed", 0), { seed: 0 });
    assert.deepEqual(Controls.setParam({}, "flag", false), { flag: false });
  });

  test("toggleSelected adds and removes", () => {
    assert.deepEqual(Lists.toggleSelected([], "a"), ["a"]);
    assert.deepEqual(Lists.toggleSelected(["a", "b"], "a"), ["b"]);
    assert.deepEqual(Lists.toggleSelected(null, "a"), ["a"]);
  });

  test("clampVariations", () => {
    assert.equal(Controls.clampVariations("3", 8), 3);
    assert.equal(Controls.clampVariations(0, 8), 1);
    assert.equal(Controls.clampVariations(99, 8), 8);
    assert.equal(Controls.clampVariations(99, 12), 12); // the limit comes from the kernel
    assert.equal(Controls.clampVariations("x", 8), 1);
  });
});

describe("copy as code", () => {
  const item = {
    prompt: 'a "red" fox\nin {snow}',
    model: "openai/gpt-image-1.5",
    params: { size: "512x512", quality: "low" },
    variation: 0,
    inputs: 0,
    gateway: {},
  };

  test("python literals", () => {
    assert.equal(Code.pyLiteral(null), "None");
    assert.equal(Code.pyLiteral(true), "True");
    assert.equal(Code.pyLiteral(false), "False");
    assert.equal(Code.pyLiteral(7.5), "7.5");
    assert.equal(Code.pyLiteral('say "hi"\n'), '"say \\"hi\\"\\n"');
    assert.equal(Code.pyLiteral([1, "a"]), '[1, "a"]');
    assert.equal(Code.pyLiteral({ k: null }), '{"k": None}');
    assert.equal(Code.pyLiteral(Number.POSITIVE_INFINITY), 'float("inf")');
  });

  test("magic quoting only when needed, never with escapes", () => {
    assert.equal(Code.magicQuote("size=512x512"), "size=512x512");
    assert.equal(Code.magicQuote("@cf/black-forest-labs/flux-1-schnell"), "@cf/black-forest-labs/flux-1-schnell");
    assert.equal(Code.magicQuote("negative_prompt=blurry, dark"), '"negative_prompt=blurry, dark"');
    assert.equal(Code.magicQuote('x=say "hi"'), `'x=say "hi"'`);
    assert.equal(Code.magicQuote(`x=it's "so"`), null);
  });

  test("every magic value is quoted so that the magic reads it back exactly, or left to the python call", () => {
    // The magic splits its line on whitespace outside quotes and strips one pair of outer quotes.
    const readBack = (word) => (/^(["']).*\1$/s.test(word) ? word.slice(1, -1) : word);
    const hostile = [
      "{__import__('pathlib').Path('X').touch() or 'vivid'}",
      "$HOME $(id) ${x}",
      "{{doubled}} and }{",
      'say "hi"',
      "it's",
      `both ' and "`,
      "back\\slash\\",
      "new\nline",
      "carriage\rreturn",
      "line\u2028separator",
      "tab\there",
      "-n 5 --refresh",
      "#not a comment",
      "",
    ];
    for (const value of hostile) {
      const word = Code.magicParam("negative_prompt", value);
      if (word === null) {
        assert.ok(/['"].*['"]|[\x00-\x1f\u2028]|^$/s.test(value), `refused without need: ${JSON.stringify(value)}`);
        continue;
      }
      assert.ok(!/[\n\r\u2028\u2029]/.test(word), word);
      if (!/^["']/.test(word)) assert.ok(!/\s/.test(word), word);
      assert.equal(readBack(word), `negative_prompt=${value}`);
    }
    assert.equal(Code.magicParam("steps", 4), "steps=4");
    assert.equal(Code.magicParam("a=b", "x"), null);
    assert.equal(Code.magicParam("list", ["a"]), null);
    assert.equal(Code.magicParam("obj", { toString: 1 }), null);
    assert.equal(Code.magicParam("none", null), null);
  });

  test("a note naming a hostile parameter stays on its comment line", () => {
    const { notes, magic } = Code.codeFor({ ...item, params: { "bad\nname\u2028": `it's "x"` } });
    assert.equal(notes.split("\n").length, 1, notes);
    assert.ok(notes.startsWith("# ") && !/[\u2028\u2029]/.test(notes), notes);
    assert.ok(magic.startsWith("%%imagegen "), magic);
  });

  test("the magic cell names the model and parameters and escapes template braces", () => {
    const code = Code.magicCode(item);
    const [first, ...body] = code.split("\n");
    assert.equal(first, "%%imagegen --model openai/gpt-image-1.5 --param size=512x512 --param quality=low");
    assert.equal(body.join("\n"), 'a "red" fox\nin {{snow}}');
  });

  test("the magic cell carries variation, gateway options and an editing note", () => {
    const parts = Code.codeFor({
      ...item,
      params: { negative_prompt: "blurry, dark", odd: `it's "x"` },
      variation: 2,
      inputs: 1,
      gateway: { gateway_id: "my gw", skip_cache: true, cache_ttl: 600, cache_key: "", request_timeout_ms: null },
    });
    const code = `${parts.notes}\n${parts.magic}`;
    const lines = code.split("\n");
    assert.ok(parts.magic.startsWith("%%imagegen "), parts.magic); // a cell magic is the cell's first line
    assert.ok(lines.includes("# odd cannot be written on this line: set it in the Python call"), code);
    assert.ok(lines.includes("# this image is the last of the 3 variations"), code);
    assert.ok(lines.includes("# gateway option cache_ttl has no magic flag: see the Python call"), code);
    assert.ok(lines.some((l) => l.startsWith("# editing: add --image PATH")), code);
    assert.ok(
      lines.includes(
        '%%imagegen --model openai/gpt-image-1.5 --param "negative_prompt=blurry, dark" -n 3 --gateway "my gw" --skip-gateway-cache',
      ),
      code,
    );
  });

  test("the python call is a valid generate() call", () => {
    const code = Code.pythonCode({ ...item, params: { steps: 4, "odd-name": 1 }, variation: 3, inputs: 2 });
    assert.match(code, /^from jupyter_imagegen import generate$/m);
    assert.ok(code.includes('"a \\"red\\" fox\\nin {snow}"'), code);
    assert.ok(code.includes('model="openai/gpt-image-1.5"'));
    assert.ok(code.includes("steps=4"));
    assert.ok(code.includes('images=["input-1.png", "input-2.png"]'));
    assert.ok(code.includes("variation=3"));
    assert.ok(code.includes('**{"odd-name": 1}'));
    assert.deepEqual(Object.keys(Code.codeFor(item)), ["magic", "notes", "python"]);
  });
});

describe("screen reader announcements", () => {
  const job = (id, state, message = "") => ({ id, state, message });

  const say = (steps) => {
    // Feeds each job list in turn, as the panel does; the texts said.
    let before = [];
    let run;
    return steps.map((after) => {
      const { text, run: next } = Jobs.announcement(before, after, run);
      before = after;
      run = next;
      return text;
    });
  };

  test("an action is counted as its images arrive, and its whole result is said at the end", () => {
    const texts = say([
      [job("a", "running"), job("b", "queued"), job("c", "queued")],
      [job("a", "done"), job("b", "running"), job("c", "queued")],
      [job("a", "done"), job("b", "done"), job("c", "running")],
      [job("a", "done"), job("b", "done"), job("c", "done")],
    ]);
    assert.deepEqual(texts, ["Generating 3 images.", "1 of 3 images ready.", "2 of 3 images ready.", "3 images ready."]);
  });

  test("cancellations and failures are said with the action's result", () => {
    const texts = say([
      [job("a", "running"), job("b", "queued")],
      [job("a", "failed", "quota exceeded"), job("b", "cancelled")],
    ]);
    assert.deepEqual(texts, ["Generating 2 images.", "1 cancelled. Failed: quota exceeded"]);
    assert.deepEqual(say([[job("a", "running")], [job("a", "done")]]), ["Generating 1 image.", "1 image ready."]);
  });

  test("a second action is counted on its own", () => {
    const first = [job("a", "done")];
    const texts = say([[job("a", "running")], first, [...first, job("b", "running")], [...first, job("b", "done")]]);
    assert.deepEqual(texts, ["Generating 1 image.", "1 image ready.", "Generating 1 image.", "1 image ready."]);
  });

  test("nothing changed, or only queued -> running, is silent", () => {
    const jobs = [job("a", "done")];
    assert.equal(Jobs.announcement(jobs, jobs).text, "");
    assert.equal(Jobs.announcement([job("b", "queued")], [job("b", "running")]).text, "");
    assert.equal(Jobs.announcement(undefined, []).text, "");
  });
});

describe("arrow keys in the gallery", () => {
  test("move one step, stop at the ends, Home and End jump", () => {
    assert.equal(Lists.arrowTarget("ArrowRight", 0, 3), 1);
    assert.equal(Lists.arrowTarget("ArrowDown", 2, 3), 2);
    assert.equal(Lists.arrowTarget("ArrowLeft", 0, 3), 0);
    assert.equal(Lists.arrowTarget("ArrowUp", 2, 3), 1);
    assert.equal(Lists.arrowTarget("Home", 2, 3), 0);
    assert.equal(Lists.arrowTarget("End", 0, 3), 2);
    assert.equal(Lists.arrowTarget("Enter", 0, 3), null);
    assert.equal(Lists.arrowTarget("ArrowRight", 0, 0), null);
  });
});

describe("lists the kernel updates by message", () => {
  const a = { id: "a", state: "done" };
  const b = { id: "b", state: "running" };
  test("new items go first, known ones change in place, dropped ones leave", () => {
    const list = [b, a];
    const c = { id: "c", state: "queued" };
    const d = { id: "d", state: "queued" };
    const after = Lists.mergeById(list, { items: [d, c, { id: "b", state: "done" }], drop: ["a"] });
    assert.deepEqual(after, [d, c, { id: "b", state: "done" }]);
    assert.deepEqual(list, [b, a], "the old list is not changed");
  });
  test("a reset is the whole list; an empty message changes nothing", () => {
    assert.deepEqual(Lists.mergeById([a, b], { reset: true, items: [b] }), [b]);
    assert.deepEqual(Lists.mergeById([a, b], {}), [a, b]);
    assert.deepEqual(Lists.mergeById(undefined, { items: [a] }), [a]);
  });
});

describe("today's spend in the header", () => {
  test("labelled as an estimate, with the budget when one is set", () => {
    assert.equal(Text.describeSpend({}), "");
    assert.equal(Text.describeSpend({ images: 1, usd: 0.0087 }), "Today (UTC): 1 image, ~$0.0087 estimated");
    assert.equal(
      Text.describeSpend({ images: 2, usd: 0.0174, emulator: true }),
      "Today (UTC) on the emulator, not billed: 2 images, ~$0.0174 estimated",
    );
    assert.equal(
      Text.describeSpend({ images: 3, usd: 0.15, unpriced: 2, max_images: 10, max_usd: 1 }),
      "Today (UTC): 3 images, ~$0.1500 estimated (+2 of unknown price) · daily budget 10 images and $1.00",
    );
  });
});

describe("validity", () => {
  test("a blank prompt says nothing and leaves Generate pressable", () => {
    const blank = { valid: false, reason: "The prompt is empty: describe the image.", blank: true };
    assert.deepEqual(Controls.validityView(blank), { disabled: false, text: "", invalid: false });
  });
  test("any other problem disables Generate and says why", () => {
    const bad = { valid: false, reason: "quality must be one of low, high." };
    assert.deepEqual(Controls.validityView(bad), { disabled: true, text: bad.reason, invalid: true });
    assert.deepEqual(Controls.validityView({ valid: true, reason: "" }), { disabled: false, text: "", invalid: false });
    assert.deepEqual(Controls.validityView(undefined), { disabled: true, text: "", invalid: true });
  });
});

describe("variations", () => {
  test("a value over the panel's limit is lowered with a word why", () => {
    assert.equal(Controls.clampVariations(16, 8), 8);
    assert.equal(
      Controls.variationsNote(16, 8, 64),
      "16 is more than one click makes: at most 8 variations in the panel. For more, use %%imagegen -n (up to 64).",
    );
    assert.equal(Controls.variationsNote(5, 8, 64), "");
    assert.equal(Controls.variationsNote(3, 3, 3), "");
    assert.equal(Controls.variationsNote(9, 3, 3), "9 is more than one click makes: at most 3 variations in the panel.");
  });
});

describe("spend line", () => {
  test("says when cancelled requests that had been sent are counted", () => {
    const spend = { images: 3, usd: 0.03 };
    assert.equal(Text.describeSpend(spend), "Today (UTC): 3 images, ~$0.0300 estimated");
    const jobs = [
      { id: "a", state: "cancelled", started_ms: 5 },
      { id: "b", state: "cancelled", started_ms: null },
      { id: "c", state: "done", started_ms: 3 },
    ];
    assert.equal(Jobs.cancelledAfterSending(jobs), 1);
    assert.equal(
      Text.describeSpend(spend, Jobs.cancelledAfterSending(jobs)),
      "Today (UTC): 3 images, ~$0.0300 estimated · 1 cancelled after sending, counted (may be billed)",
    );
  });
});
