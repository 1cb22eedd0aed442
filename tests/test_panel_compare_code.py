""" "Copy as code" of a panel comparison: the cell js/compare.js writes (run in Node) is the same
matrix in a real IPython shell, so every image comes from the cache the panel filled."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from jupyter_imagegen import ImageGenPanel
from jupyter_imagegen.emulator import Emulator
from magic_support import ipython_shell
from magic_support import run as run_in_shell
from panel_support import FrontEnd, api_requests, fresh_history, run
from test_panel_code import ROOT, node

pytestmark = pytest.mark.usefixtures(fresh_history.__name__)

GPT, GPT2 = "openai/gpt-image-1.5", "openai/gpt-image-2"


def comparison_code(code: dict[str, Any]) -> dict[str, str]:
    script = (
        f"import {{ comparisonCode }} from {json.dumps((ROOT / 'js' / 'compare.js').as_uri())};"
        "process.stdout.write(JSON.stringify(comparisonCode(JSON.parse(process.argv[1]))));"
    )
    done = subprocess.run(
        [node(), "--input-type=module", "-e", script, json.dumps(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    shown: dict[str, str] = json.loads(done.stdout)
    return shown


def test_the_copied_cell_is_the_same_matrix(emulator_env: Emulator) -> None:
    prompt = "a {curly} kite, 'quoted'"

    async def scenario() -> dict[str, Any]:
        panel = ImageGenPanel(model=GPT, params={"size": "1024x1024", "quality": "low"})
        front = FrontEnd(panel)
        front.generate(prompt, compare={"model": [GPT, GPT2], "quality": ["low", "high"]}, variations=2)
        await panel.wait()
        message = front.replies("comparison")[-1][0]
        panel.close()
        return message

    message = run(scenario())
    assert message["code"]["params"] == {"size": "1024x1024"} and message["code"]["left_out"] == []
    code = comparison_code(message["code"])
    assert code["cell"].startswith(f"%%imagegen -m {GPT},{GPT2} -q low,high -s 1024x1024 -n 2\n")
    assert code["notes"] == ""
    sent = len(api_requests(emulator_env))
    assert sent == 8

    with ipython_shell() as shell:
        ran = run_in_shell(shell, code["cell"])
        assert ran.error is None, ran.stderr
        info = ran.info()
    assert info["cells"] == [cell["labels"] for cell in message["cells"]]
    assert info["captions"] == ["cached"] * 8
    assert len(api_requests(emulator_env)) == sent  # the same requests: nothing new was sent
