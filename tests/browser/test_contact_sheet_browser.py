"""A comparison's contact sheet in Debian's Chromium, opened from a file URL with the network off:
every thumbnail shows (embedded, so it needs nothing else), every label, time and cost is on the
page, and it holds no script and no API token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from jupyter_imagegen.emulator import Emulator

pytestmark = [pytest.mark.browser]

MODELS = "@cf/leonardo/phoenix-1.0,@cf/bytedance/stable-diffusion-xl-lightning"


def test_the_contact_sheet_shows_every_image_offline(
    page: Any, emulator_env: Emulator, tmp_path: Path
) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_imagegen import Comparison

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_imagegen")
    try:
        result = shell.run_cell(
            f"%%imagegen -m {MODELS} --param width=512,768 --param height=512 -o cmp --no-display\na fox in snow"
        )
        assert result.error_in_exec is None
        comparison = shell.user_ns["cmp"]
    finally:
        shell.run_line_magic("unload_ext", "jupyter_imagegen")
        InteractiveShell.clear_instance()
    assert isinstance(comparison, Comparison)
    sheet = Path(comparison.save(tmp_path / "sheet"))
    html = sheet.read_text(encoding="utf-8")
    # The emulator's token is the API token the kernel used (CLOUDFLARE_API_TOKEN).
    assert "<script" not in html.lower() and emulator_env.token not in html

    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.context.set_offline(True)
    page.goto(sheet.as_uri())
    images = page.locator("img")
    assert images.count() == 4
    widths = page.eval_on_selector_all("img", "all => all.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(width > 0 for width in widths), widths
    text = page.inner_text("body")
    for label in [*MODELS.split(","), "width=512", "width=768", "Total:", "imagegen"]:
        assert label in text
    captions = page.locator("figcaption").all_inner_texts()
    assert len(captions) == 4 and all(" s · ~$" in c for c in captions)  # each cell's time and cost
    assert page.locator("script").count() == 0
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
    assert page.page_errors == []
