""" "Copy as code" and packaging: the code the gallery's front end writes (js/code.js, run in
Node) makes the same image in a real IPython shell, and the built wheel carries the front end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._panel_state import HISTORY
from jupyter_imagegen.runtime._runtime import get_runtime
from magic_support import ipython_shell
from magic_support import run as run_in_shell
from panel_support import FrontEnd, run

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "jupyter_imagegen" / "notebook" / "static"


@pytest.fixture(autouse=True)
def _fresh_history() -> Iterator[None]:
    HISTORY.clear()
    yield
    HISTORY.clear()


def node() -> str:
    found = shutil.which("node")
    if found is None:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail("Node.js is needed for this test and CI=true")
        pytest.skip("Node.js is not installed")
    return found


def code_for(item: dict[str, Any]) -> dict[str, str]:
    """What the gallery's "copy as code" shows for ``item``, computed by js/code.js itself."""
    script = (
        f"import {{ codeFor }} from {json.dumps((ROOT / 'js' / 'code.js').as_uri())};"
        "process.stdout.write(JSON.stringify(codeFor(JSON.parse(process.argv[1]))));"
    )
    shown = {k: v for k, v in item.items() if k != "thumb"}
    done = subprocess.run(
        [node(), "--input-type=module", "-e", script, json.dumps(shown)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    code: dict[str, str] = json.loads(done.stdout)
    return code


def api_requests(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if "/ai/run" in r.path]


def test_copied_code_makes_the_same_image(emulator_env: Emulator) -> None:
    prompt = 'a {curly} fox, "quoted"'

    async def scenario() -> dict[str, Any]:
        panel = ImageGenPanel()
        FrontEnd(panel).generate(prompt, params={"size": "256x256", "quality": "low", "style": "natural"})
        await panel.wait()
        assert panel.jobs[0]["state"] == "done"
        item = dict(panel.gallery[0])
        panel.close()
        return item

    item = run(scenario())
    code = code_for(item)
    [made] = api_requests(emulator_env)

    # The cell: the same request, so the magic finds the panel's image in the shared cache.
    with ipython_shell() as shell:
        ran = run_in_shell(shell, code["magic"])
        assert ran.error is None, ran.stderr
        assert ran.info()["prompt"] == prompt and ran.info()["params"] == item["params"]
        assert "cached" in ran.status
    assert len(api_requests(emulator_env)) == 1

    # The Python call: the very same API request.
    namespace: dict[str, Any] = {}
    exec(code["python"], namespace)
    image = namespace["image"]
    get_runtime().close()  # the client generate() made
    assert (image.prompt, image.model, image.params) == (prompt, item["model"], item["params"])
    assert api_requests(emulator_env)[-1].json == made.json


LIGHTNING = "@cf/bytedance/stable-diffusion-xl-lightning"
# Values a catalog enum or a user could hand the panel: each must reach the service as written,
# and none may run as code when the copied cell runs.
HOSTILE = [
    "{__import__('pathlib').Path('touched').touch() or 'vivid'}",
    "$(touch touched) $HOME ${x} $x",
    "{{doubled}} and }{ and {x!r}",
    'say "hi"',
    "it's",
    "back\\slash\\",
    "-n 5 --refresh #not a comment",
    "both ' and \"",
    "new\nline",
    "line\u2028separator",
]


def test_copied_code_reads_hostile_values_back_exactly_and_runs_none(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with ipython_shell() as shell:
        shell.user_ns.update(x="EXPANDED", HOME="EXPANDED")
        for value in HOSTILE:
            item = {"model": LIGHTNING, "prompt": f"a fox, {value}", "params": {"negative_prompt": value}}
            code = code_for(item)
            ran = run_in_shell(shell, code["magic"])
            assert ran.error is None, (code["magic"], ran.stderr)
            sent = api_requests(emulator_env)[-1].json
            assert sent["prompt"] == item["prompt"], code["magic"]
            if "negative_prompt" in sent:
                assert sent["negative_prompt"] == value, code["magic"]
            else:  # only a value no magic line can hold is left to the Python call, with a note
                assert "cannot be written on this line" in code["notes"]
                assert "\n" in value or "\u2028" in value or ("'" in value and '"' in value)
            namespace: dict[str, Any] = {}
            exec(code["python"], namespace)
            get_runtime().close()
            sent = api_requests(emulator_env)[-1].json
            assert (sent["prompt"], sent["negative_prompt"]) == (item["prompt"], value)
    assert not (tmp_path / "touched").exists()


def test_the_magic_expands_nothing_in_its_line_but_fills_the_prompt(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with ipython_shell() as shell:
        shell.user_ns["animal"] = "otter"
        line = f"%imagegen -m {LIGHTNING} --param \"negative_prompt={{__import__('os').getcwd()}} $animal\" a {{animal}}"
        ran = run_in_shell(shell, line)
        assert ran.error is None, ran.stderr
        sent = api_requests(emulator_env)[-1].json
        assert sent["negative_prompt"] == "{__import__('os').getcwd()} $animal"
        assert sent["prompt"] == "a otter"


def test_the_wheel_carries_the_front_end(tmp_path: Path) -> None:
    """``pip install`` needs no npm step: the built module and CSS are package data."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("jupyter_imagegen-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        for name in ("panel.js", "panel.css"):
            assert archive.read(f"jupyter_imagegen/notebook/static/{name}") == (STATIC / name).read_bytes()


def test_the_widget_loads_the_built_module() -> None:
    panel = ImageGenPanel()
    assert panel._esm == (STATIC / "panel.js").read_text(encoding="utf-8")
    # One self-contained module: anywidget cannot resolve relative imports.
    assert "as default" in panel._esm and not re.search(r"^\s*import\s", panel._esm, re.MULTILINE)
    assert panel._css == (STATIC / "panel.css").read_text(encoding="utf-8")
    panel.close()
