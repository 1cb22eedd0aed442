"""The user's defaults for every front end, and the one check of how many images an action asks for.

:class:`ImageGenConfig` holds the defaults as traitlets, so ``%config`` and ``ipython_config.py`` set
them; a value left unset falls back to the environment, then to the built-in default (see
:class:`~._runtime.Runtime`, which reads them).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from traitlets import Bool, Enum, Float, Int, Unicode
from traitlets.config import Configurable

from .._exceptions import ValidationError
from ..client import DISPLAY_FORMATS, MAX_IMAGES

__all__ = [
    "ENVIRONMENT_NAMES",
    "MODEL_DEFAULTS",
    "OFF_WORDS",
    "ON_WORDS",
    "ImageGenConfig",
    "check_image_count",
    "standalone_config",
]

MODEL_DEFAULTS = ("quality", "size", "style")  # defaults applied only to models that take them
# Where each setting is read from when neither a keyword nor the configuration sets it.
ENVIRONMENT_NAMES = {
    "quality": "IMAGEGEN_QUALITY",
    "size": "IMAGEGEN_SIZE",
    "style": "IMAGEGEN_STYLE",
    "display_format": "IMAGEGEN_DISPLAY_FORMAT",
    "cache": "IMAGEGEN_CACHE",
    "api_cache": "IMAGEGEN_API_CACHE",
    "cache_dir": "IMAGEGEN_CACHE_DIR",
    "cache_max_mb": "IMAGEGEN_CACHE_MAX_MB",
    "concurrency": "IMAGEGEN_CONCURRENCY",
    "max_images_per_day": "IMAGEGEN_MAX_IMAGES_PER_DAY",
    "max_usd_per_day": "IMAGEGEN_MAX_USD_PER_DAY",
}
OFF_WORDS = ("0", "false", "no", "off")
ON_WORDS = ("1", "true", "yes", "on")


class ImageGenConfig(Configurable):
    """The user's defaults. ``%config ImageGenMagics.<name>`` sets them in a kernel where the
    extension is loaded (the magic is this class); unset values come from the environment."""

    model = Unicode(None, allow_none=True, help="Model id (else $IMAGEGEN_MODEL, else the default).").tag(
        config=True
    )
    quality = Unicode(None, allow_none=True, help="Default quality, for models that take one.").tag(
        config=True
    )
    size = Unicode(None, allow_none=True, help="Default size, e.g. 1024x1024, for models that take one.").tag(
        config=True
    )
    style = Unicode(None, allow_none=True, help="Default style, for models that take one.").tag(config=True)
    display_format = Enum(
        DISPLAY_FORMATS, None, allow_none=True, help="How images are embedded (default auto)."
    ).tag(config=True)
    gateway = Unicode(None, allow_none=True, help="AI Gateway id (else $CLOUDFLARE_AI_GATEWAY_ID).").tag(
        config=True
    )
    cache = Bool(
        None,
        allow_none=True,
        help="Reuse images from the disk cache in the magic, panel and CLI (default on).",
    ).tag(config=True)
    api_cache = Bool(
        None, allow_none=True, help="Reuse cached images in generate()/generate_many() too (default off)."
    ).tag(config=True)
    cache_dir = Unicode(None, allow_none=True, help="Cache folder (else $IMAGEGEN_CACHE_DIR).").tag(
        config=True
    )
    cache_max_mb = Int(None, allow_none=True, help="Cache size bound in MB (else 2048).").tag(config=True)
    concurrency = Int(None, allow_none=True, help="Requests run at the same time (default 4).").tag(
        config=True
    )
    max_images = Int(MAX_IMAGES, help="Most images one cell, panel click or command may request.").tag(
        config=True
    )
    max_images_per_day = Int(
        None, allow_none=True, help="Daily cap on images generated, all front ends and kernels (UTC days)."
    ).tag(config=True)
    max_usd_per_day = Float(
        None, allow_none=True, help="Daily cap on estimated USD spent, all front ends and kernels (UTC days)."
    ).tag(config=True)
    proxy = Unicode(
        None,
        allow_none=True,
        help="Proxy URL for every request (else $IMAGEGEN_PROXY, else $HTTPS_PROXY etc.).",
    ).tag(config=True)
    ca_bundle = Unicode(
        None, allow_none=True, help="CA certificates file (else $IMAGEGEN_CA_BUNDLE, else $SSL_CERT_FILE)."
    ).tag(config=True)
    http2 = Bool(None, allow_none=True, help="HTTP/2 to the API (else $IMAGEGEN_HTTP2; needs h2).").tag(
        config=True
    )
    grid_cell_size = Int(384, help="Thumbnail size in pixels in a grid of several images.").tag(config=True)


def check_image_count(count: int, limit: int = MAX_IMAGES, *, what: str = "-n") -> None:
    """The one check of how many images an action asks for: 1 to ``limit``."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= limit:
        raise ValidationError(f"{what} must be 1 to {limit}, got {count!r}.")


def standalone_config() -> ImageGenConfig:
    """Configuration outside a loaded extension: ``c.ImageGenMagics`` of a running IPython's
    config (``ipython_config.py``) if there is one, else nothing but the environment."""
    with contextlib.suppress(ImportError):
        from IPython.core.getipython import get_ipython

        # IPython 8 leaves get_ipython untyped and IPython 9 types it: calling it through a typed
        # name checks the same under both, without an ignore that one of them calls unused.
        current_shell: Callable[[], Any] = get_ipython
        shell = current_shell()
        if shell is not None:
            return ImageGenConfig(config=shell.config, **dict(shell.config.get("ImageGenMagics", {})))
    return ImageGenConfig()
