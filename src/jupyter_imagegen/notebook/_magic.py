"""The ``%%imagegen`` cell magic and ``%imagegen`` line magic.

This module only translates: options and the cell body become :class:`ImageRequest` objects built
by the core (which validates them), and the results go to :mod:`._session` for display. The
options are :mod:`._options`'s, shared with the commands. The defaults are traitlets on
:class:`ImageGenMagics` (the process runtime's configuration once the extension is loaded), so
``%config ImageGenMagics.quality = "low"`` and ``ipython_config.py`` work for every front end;
precedence is option > config > environment > built-in.
"""

from __future__ import annotations

import keyword
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import MagicArgumentParser

from .._exceptions import ImageGenError
from ..client import DISPLAY_FORMATS
from ..runtime import (
    ImageGenConfig,
    Runtime,
    add_request_options,
    check_image_count,
    chosen_model,
    get_runtime,
    request_params,
)

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from ..runtime import Axis, GridCell
    from ._session import CellJob

__all__ = ["ImageGenMagics", "load_ipython_extension", "unload_ipython_extension"]

_F = TypeVar("_F", bound=Callable[..., Any])
# IPython's decorator carries no annotations; this typed name keeps the magic's signature checked.
_line_cell_magic = cast(Callable[[_F], _F], line_cell_magic)
_no_var_expand = cast(Callable[[_F], _F], no_var_expand)


@magics_class
class ImageGenMagics(Magics, ImageGenConfig):
    """Generate images in a cell: ``%%imagegen`` (body = prompt) and ``%imagegen`` (line).

    Its traits (inherited from :class:`ImageGenConfig`) are the kernel's defaults for every front
    end: loading the extension makes the process's runtime read them."""

    @property
    def runtime(self) -> Runtime:
        return get_runtime()

    def close(self) -> None:
        get_runtime().use_config(None)
        get_runtime().close()

    # IPython would expand {expression} and $name in the line, running code written into it (a
    # value copied from the panel, a catalog enum): the magic fills {name} in the prompt itself,
    # without evaluating anything, and takes every option value literally.
    @_line_cell_magic
    @_no_var_expand
    def imagegen(self, line: str, cell: str | None = None) -> None:
        """Generate images with Cloudflare Workers AI.

        %%imagegen [options]        the cell body is the prompt; {name} is filled from variables
        %imagegen [options] PROMPT  the rest of the line is the prompt

        Examples::

            %%imagegen -q low -n 4 -o foxes
            a red fox in the snow, {style}

            animals = ["a cat", "an owl"]; styles = ["watercolour", "pixel art"]
            %%imagegen --grid
            {animals} in {styles}

            %imagegen -i fox --save out/ the same fox at night   (edit the image in `fox`)

            %imagegen -m openai/gpt-image-1.5,openai/gpt-image-2 -q low,high -o cmp a fox
            (several values compare: one labelled matrix with times and costs; --dry-run first)

        Identical cells reuse images from the disk cache (--refresh for new ones). Defaults, shared
        with the panel, batch() and the imagegen command: %config ImageGenMagics.quality = "low"
        (also model, size, style, display_format, gateway, cache, api_cache, cache_dir,
        cache_max_mb, concurrency, max_images, max_images_per_day, max_usd_per_day); environment
        IMAGEGEN_MODEL, IMAGEGEN_QUALITY, IMAGEGEN_SIZE, IMAGEGEN_STYLE, IMAGEGEN_DISPLAY_FORMAT,
        IMAGEGEN_CACHE=0, IMAGEGEN_CACHE_DIR, IMAGEGEN_MAX_IMAGES_PER_DAY, IMAGEGEN_MAX_USD_PER_DAY.
        %imagegen --usage shows what was generated per day and model, with estimated spend.
        Credentials: CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN (or `imagegen emulator`).
        """
        __tracebackhide__ = True  # a user error shows one line, not this module's frames
        try:
            self._imagegen(line, cell)
        except ImageGenError as exc:
            raise UsageError(str(exc)) from None

    def _imagegen(self, line: str, cell: str | None) -> None:
        __tracebackhide__ = True
        from IPython.utils.process import arg_split  # type: ignore[attr-defined]

        from ..runtime import GridCell, expand_grid, fill

        split: list[str] = arg_split(line, posix=False, strict=False)  # type: ignore[no-untyped-call]
        # A quoted word with a comma keeps its quotes: to an option that takes several values
        # they say "one value"; everything else is unquoted after parsing.
        words = [word if "," in word else _unquote(word) for word in split]
        parser = magic_parser(chosen_model(words, self.runtime))
        if "-h" in words or "--help" in words:
            print(parser.format_help())
            return
        args = parser.parse_args(words)
        _unquote_plain(args)
        if args.usage:
            print(self.runtime.usage_report())
            return
        check_image_count(args.n, self.runtime.max_images)
        if args.panel:
            self._show_panel(args, cell if cell is not None else " ".join(args.prompt))
            return
        namespace = self.shell.user_ns if self.shell is not None else {}
        axes: list[Axis]
        if cell is None:
            if args.grid:
                raise UsageError("--grid works in the cell form: %%imagegen --grid, prompt in the cell body.")
            cells, axes = [GridCell(fill(" ".join(args.prompt), namespace), ())], []
        elif args.prompt:
            raise UsageError(
                f"Unexpected words after the options: {' '.join(args.prompt)!r}; in %%imagegen the "
                "prompt is the cell body (or use %imagegen for a one-line prompt)."
            )
        elif args.grid:
            axes, cells = expand_grid(cell.strip(), namespace)
        else:
            cells, axes = [GridCell(fill(cell.strip(), namespace), ())], []
        command = f"%%imagegen {line}\n{cell.strip()}" if cell is not None else f"%imagegen {line}"
        job = self._job(args, cells, axes, namespace, command)
        if args.dry_run:
            assert job.matrix is not None
            print(job.matrix.dry_run(self.runtime, refresh=args.refresh))
            return
        self._execute(job, args.out)

    def _show_panel(self, args: Any, prompt: str) -> None:
        from ..runtime import compares, model_spec
        from ._ipython_display import display
        from ._panel import ImageGenPanel

        if compares(args):
            raise UsageError("--panel takes one value for each option; compare in a cell without --panel.")
        model = args.model or self.runtime.default_model()
        params = request_params(
            args, model_spec(self.runtime, model)
        )  # --param values too; %config fills the rest
        display(ImageGenPanel(prompt.strip(), model=model, params=params, variations=args.n))

    def _job(
        self, args: Any, cells: list[GridCell], axes: list[Axis], namespace: dict[str, Any], command: str
    ) -> CellJob:
        from ..client import image_source_bytes, is_url_source
        from ..runtime import plan_requests
        from ._session import CellJob

        runtime = self.runtime
        sources = [self._image_source(src, namespace) for src in args.image]
        # A variable holding a list (say, the -o of an earlier -n 4 cell) gives all its images.
        flat = [item for s in sources for item in (s if isinstance(s, (list, tuple)) else [s])]
        images = [s if is_url_source(s) else image_source_bytes(s) for s in flat]
        mask = None if args.mask is None else self._image_source(args.mask, namespace)
        matrix = plan_requests(  # the one place a request option's several values are expanded
            runtime,
            args,
            cells,
            axes,
            images=images,
            mask=mask,
            gateway_id=args.gateway,
            skip_cache=args.skip_gateway_cache or args.refresh,
            command=command,
        )
        return CellJob(
            matrix.requests,
            axes=matrix.axes,
            grid=args.grid or len(matrix.requests) > 1,
            display=not args.no_display,
            display_format=runtime.display_format(args.display_format),
            refresh=args.refresh,
            save_dir=args.save,
            cell_size=self.grid_cell_size,
            matrix=matrix,
        )

    def _execute(self, job: CellJob, out: str | None) -> None:
        __tracebackhide__ = True
        from ._session import failure_message, run_cell

        if out is not None and (not out.isidentifier() or keyword.iskeyword(out)):
            raise UsageError(f"-o needs a variable name, got {out!r}.")
        result: Any = None
        if job.matrix is not None and job.matrix.varying:
            from ._compare_cell import run_comparison_cell

            outcome, result = run_comparison_cell(self.runtime, job, job.matrix)
        else:
            outcome = run_cell(self.runtime, job)
            if outcome.images:
                single = len(job.requests) == 1 and not job.grid and len(outcome.images) == 1
                result = outcome.images[0] if single else outcome.images
        if out is not None and self.shell is not None and outcome.images:  # a failure keeps the old value
            self.shell.user_ns[out] = result
        if outcome.interrupted:
            kept = f"{len(outcome.images)} finished image(s) kept" + (f" in {out}" if out else "")
            raise KeyboardInterrupt(f"{kept}; the other requests were cancelled.")
        message = outcome.save_error or failure_message(outcome, len(job.requests))
        if message:
            raise UsageError(message)

    @staticmethod
    def _image_source(source: str, namespace: dict[str, Any]) -> Any:
        if source.isidentifier() and source in namespace:
            return namespace[source]
        if source.lower().startswith("https://"):  # for models that take URLs; checked per model
            return source
        if not os.path.exists(source):
            raise UsageError(
                f"--image {source}: no such file (relative to {os.getcwd()}) and no variable of that name."
            )
        return source


_USAGE = ImageGenMagics.imagegen.__doc__ or ""


def magic_parser(model: str) -> MagicArgumentParser:
    """The magic's options, the request options written for ``model`` among them."""
    parser = MagicArgumentParser(  # type: ignore[no-untyped-call]
        prog="%imagegen", description="Generate images with Cloudflare Workers AI."
    )
    add_request_options(parser, model, get_runtime())
    add = parser.add_argument
    add("-o", "--out", metavar="VAR", help="store the GeneratedImage (a list when several) in VAR")
    add("--save", metavar="DIR", help="also write full-size files with provenance to DIR")
    add("--grid", action="store_true", help="one image per combination of {name} lists")
    add("--no-display", action="store_true", help="do not show the images")
    add("--display-format", choices=DISPLAY_FORMATS, help="how images are embedded")
    add("--gateway", metavar="ID", help="AI Gateway id")
    add("--skip-gateway-cache", action="store_true", help="bypass the AI Gateway's cache")
    add("--panel", action="store_true", help="show the control panel, prefilled from the options")
    add("--usage", action="store_true", help="show images and estimated spend per day and model")
    add("--dry-run", action="store_true", help="print the requests and their estimated cost; send nothing")
    add("prompt", nargs="*", help="the prompt (line form only; in a cell it is the body)")
    return parser


def _help_with_models() -> str:
    from ._magic_help import help_with_models

    # Read at call time: loading the extension writes the options into the docstring.
    return help_with_models(ImageGenMagics.imagegen.__doc__ or "")


# ``%imagegen?`` asks an object's getdoc() before its docstring: the help then lists every model's
# parameters, live catalog ones included. (setattr: mypy knows no such attribute on a function.)
setattr(ImageGenMagics.imagegen, "getdoc", _help_with_models)  # noqa: B010


def _unquote_plain(args: Any) -> None:
    """Unquote what is not a request option (those split their own quoted values)."""
    args.prompt = [_unquote(word) for word in args.prompt]
    args.image = [_unquote(word) for word in args.image]
    for name in ("out", "save", "gateway"):
        if getattr(args, name):
            setattr(args, name, _unquote(getattr(args, name)))


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def load_ipython_extension(ipython: InteractiveShell) -> None:
    from ..client import emulator_banner, uses_local_service
    from ._warnings import show_warnings_on_one_line

    show_warnings_on_one_line()
    magics = ImageGenMagics(shell=ipython)  # type: ignore[no-untyped-call]
    ipython.register_magics(magics)  # type: ignore[no-untyped-call]
    get_runtime().use_config(magics)
    # %imagegen? shows the options too, written for the configured model.
    function: Any = ImageGenMagics.imagegen
    function.__doc__ = _USAGE + "\n" + magic_parser(get_runtime().default_model()).format_help()
    if uses_local_service():
        print(emulator_banner(os.environ["CLOUDFLARE_BASE_URL"]))


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    manager: Any = ipython.magics_manager
    magics = manager.registry.pop(ImageGenMagics.__name__, None)
    for kind in ("line", "cell"):
        manager.magics[kind].pop("imagegen", None)
    configurables: list[Any] = ipython.configurables
    if magics in configurables:
        configurables.remove(magics)
    if isinstance(magics, ImageGenMagics):
        magics.close()
