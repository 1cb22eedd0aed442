"""jupyter-imagegen in marimo: the control panel and the Python API.

    marimo edit notebooks/marimo_quickstart.py   # or: marimo run notebooks/marimo_quickstart.py

With CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN set, images come from Cloudflare Workers AI.
Without them the first cell starts the bundled emulator in this process and a banner says so:
every image is then a labelled test pattern, made offline at no cost.
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium")


@app.cell
def _():
    import os
    from urllib.parse import urlsplit

    import marimo as mo

    import jupyter_imagegen as ig
    from jupyter_imagegen import ImageGenPanel

    emulator = None
    if not (os.environ.get("CLOUDFLARE_ACCOUNT_ID") and os.environ.get("CLOUDFLARE_API_TOKEN")):
        # No credentials: the bundled emulator, a local HTTP server that answers like Cloudflare.
        from jupyter_imagegen.emulator import Emulator

        emulator = Emulator(port=0).start()
        os.environ.update(emulator.env)
    service = os.environ.get("CLOUDFLARE_BASE_URL", "")
    offline = urlsplit(service).hostname in ("127.0.0.1", "localhost", "::1")
    return ImageGenPanel, emulator, ig, mo, offline, service


@app.cell
def _(mo, offline, service):
    banner = mo.callout(
        mo.md(
            f"**OFFLINE MODE**: images come from the local Cloudflare emulator at `{service}`. "
            "They are labelled test patterns, not model output. To use Cloudflare, set "
            "`CLOUDFLARE_ACCOUNT_ID` and `CLOUDFLARE_API_TOKEN` before starting marimo."
        ),
        kind="danger",
    )
    banner if offline else None
    return


@app.cell
def _(mo):
    mo.md(r"""
    # Images from a marimo notebook

    Type a prompt, pick a model (its parameters become controls) and press **Generate**
    (or Ctrl/Cmd+Enter). Images generate in the background, so other cells keep running;
    Cancel stops them. The gallery keeps every image: enlarge, download, use one as the
    input of an edit, or copy the equivalent code.
    """)
    return


@app.cell
def _(ImageGenPanel, mo):
    panel_widget = ImageGenPanel(params={"size": "1024x1024", "quality": "low"})
    panel = mo.ui.anywidget(panel_widget)
    panel
    return (panel_widget,)


@app.cell
def _(mo):
    show = mo.ui.run_button(label="Show the gallery's newest images")
    mo.vstack(
        [
            mo.md(
                "From Python the panel is `panel_widget`: `panel_widget.images` lists the "
                "gallery (newest first), `panel_widget.save('out/')` writes it at full size."
            ),
            show,
        ]
    )
    return (show,)


@app.cell
def _(mo, panel_widget, show):
    mo.stop(not show.value)
    newest = panel_widget.images[:4]
    shown = [mo.image(image.data, width=160, alt=image.prompt) for image in newest]
    mo.vstack(
        [mo.md(f"Images in the gallery: {len(panel_widget.images)}"), mo.hstack(shown, justify="start")]
    )
    return


@app.cell
def _(mo):
    mo.md(r"""
    The Python API works as in Jupyter, and an image shows as an image:
    """)
    return


@app.cell
def _(ig):
    fox = ig.generate("a red fox in the snow, watercolour", size="1024x1024", quality="low")
    fox
    return (fox,)


if __name__ == "__main__":
    app.run()
