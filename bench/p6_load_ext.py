"""P6: what ``%load_ext jupyter_imagegen`` adds to a bare IPython shell.

Each sample is a fresh interpreter (so nothing is already imported) that starts an
InteractiveShell, then times ``%load_ext jupyter_imagegen`` alone. The baseline, measured in the
same run and the same way, is loading an extension that does nothing. Target: <= 150 ms above it.
Run: python bench/p6_load_ext.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

from _support import machine, record

SAMPLES = 15
_PROBE = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    ready = time.perf_counter()
    shell.run_line_magic("load_ext", sys.argv[1])
    loaded = time.perf_counter()
    assert "imagegen" in shell.magics_manager.magics["cell"] or sys.argv[1] != "jupyter_imagegen"
    heavy = [m for m in ("PIL.Image", "httpx", "ipywidgets", "numpy") if m in sys.modules]
    print(json.dumps({"shell": ready - started, "load": loaded - ready, "heavy": heavy}))
    """
)


def sample(extension: str, path: str) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=path + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, extension], capture_output=True, text=True, check=True, env=env
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "empty_extension.py"), "w", encoding="utf-8") as handle:
            handle.write("def load_ipython_extension(ipython):\n    pass\n")
        runs: dict[str, list[dict[str, object]]] = {"empty_extension": [], "jupyter_imagegen": []}
        for _ in range(SAMPLES):  # interleaved, so drift affects both alike
            for name in runs:
                runs[name].append(sample(name, folder))
    baseline = statistics.median(float(r["load"]) for r in runs["empty_extension"])  # type: ignore[arg-type]
    ours = statistics.median(float(r["load"]) for r in runs["jupyter_imagegen"])  # type: ignore[arg-type]
    shell = statistics.median(float(r["shell"]) for r in runs["jupyter_imagegen"])  # type: ignore[arg-type]
    heavy = sorted({m for r in runs["jupyter_imagegen"] for m in r["heavy"]})  # type: ignore[attr-defined]
    above = (ours - baseline) * 1000
    verdict = "meets" if above <= 150 else "MISSES"
    record(
        "P6 %load_ext time",
        f"""
Median of {SAMPLES} fresh interpreters each ({machine()}).

| step | ms |
|---|---|
| start a bare `InteractiveShell` (context) | {shell * 1000:.0f} |
| `%load_ext` of an empty extension (baseline) | {baseline * 1000:.1f} |
| `%load_ext jupyter_imagegen` | {ours * 1000:.1f} |

`%load_ext jupyter_imagegen` costs **{above:.0f} ms** above the baseline ({verdict} the <= 150 ms
target). Heavy modules imported by loading: {", ".join(heavy) or "none"} (Pillow, httpx and
ipywidgets load on the first generation).
""",
    )


if __name__ == "__main__":
    main()
