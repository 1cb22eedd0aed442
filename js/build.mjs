// Bundles the panel's ES modules and CSS into the Python package (src/jupyter_imagegen/notebook/static/),
// where the widget loads them; the bundle is committed so installing the package needs no npm.
// `node build.mjs --check` fails when the committed bundle differs from a fresh build.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const outputs = [
  { entry: "panel.js", out: "../src/jupyter_imagegen/notebook/static/panel.js" },
  { entry: "panel.css", out: "../src/jupyter_imagegen/notebook/static/panel.css" },
];
const banner = "/* Built from js/ by `npm run build` in js/: edit the sources there, not this file. */";

async function build(entry) {
  const result = await esbuild.build({
    entryPoints: [here(entry)],
    bundle: true,
    format: "esm",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    banner: { js: banner, css: banner },
    write: false,
    absWorkingDir: here("."),
    logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

const check = process.argv.includes("--check");
let stale = [];
for (const { entry, out } of outputs) {
  const fresh = await build(entry);
  if (check) {
    const committed = await readFile(here(out), "utf8").catch(() => "");
    if (committed !== fresh) stale.push(out);
  } else {
    await writeFile(here(out), fresh);
  }
}
if (stale.length) {
  console.error(`Out of date: ${stale.join(", ")}. Run \`npm run build\` in js/ and commit the result.`);
  process.exit(1);
}
