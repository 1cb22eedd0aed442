"""GeneratedImage: one image the service made, with everything needed to reproduce it."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ._files import provenance_bytes, write_new_file

if TYPE_CHECKING:
    from os import PathLike

    from PIL import Image

__all__ = ["GeneratedImage"]

_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/svg+xml": ".svg",
}


@dataclass(frozen=True, eq=False)
class GeneratedImage:
    """An image as the service returned it (``data``) and how it was asked for.

    Displaying it in a notebook embeds one compact preview (JPEG or PNG), never two formats;
    the original bytes stay in ``data`` and go to disk with :meth:`save`.
    """

    data: bytes = field(repr=False)
    mime_type: str
    prompt: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    width: int = 0
    height: int = 0
    log_id: str | None = None
    elapsed: float = 0.0
    cached: bool = False
    created: str = ""
    variation: int = 0
    input_images: tuple[str, ...] = ()  # sha256 of each input image, for provenance and caching
    # An estimate from published prices (see _pricing); 0.0 when cached (free), None when unknown.
    estimated_cost_usd: float | None = None
    # The seed the image was made with (the user's, the one the client picked, or the one the
    # answer reported); None for a model that takes no seed, whose image cannot be made again.
    seed: int | None = None
    # Where the image stands in its answer: a model may return several images for one request.
    answer_index: int = 0
    answer_count: int = 1
    # The answer's other images (on the first image only): see :attr:`images`.
    others: tuple[GeneratedImage, ...] = field(default=(), repr=False, compare=False)

    @property
    def images(self) -> list[GeneratedImage]:
        """Every image the request's answer held, this one first (one for most models)."""
        return [self, *self.others]

    @property
    def extension(self) -> str:
        return _EXTENSIONS.get(self.mime_type, ".bin")

    @property
    def provenance(self) -> dict[str, Any]:
        """What was asked for, by whom and when: written into saved files and display metadata."""
        return {
            "prompt": self.prompt,
            "model": self.model,
            "params": self.params,
            "input_images": list(self.input_images),
            "variation": self.variation,
            "created": self.created,
            "log_id": self.log_id,
            "seed": self.seed,
            "reproducible": self.seed is not None,
            **(
                {"answer_image": f"{self.answer_index + 1} of {self.answer_count}"}
                if self.answer_count > 1
                else {}
            ),
            "generator": f"jupyter-imagegen {__version__}",
        }

    def to_pil(self) -> Image.Image:
        """The image as a loaded PIL image."""
        from PIL import Image

        image = Image.open(io.BytesIO(self.data))
        image.load()
        return image

    def save(self, path: str | PathLike[str], *, overwrite: bool = False, exclusive: bool = False) -> str:
        """Write the original image with its provenance embedded; return the path written.

        PNG gets iTXt chunks and JPEG a comment segment, both without re-encoding the pixels.
        An existing file is never replaced unless ``overwrite=True``; one that already holds this
        very image counts as saved (a re-run), unless ``exclusive=True``.
        """
        import os

        target = os.fspath(path)
        if not os.path.splitext(target)[1]:
            target += self.extension
        payload = provenance_bytes(self.data, self.mime_type, self.provenance)
        return write_new_file(target, payload, overwrite=overwrite, exclusive=exclusive)

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        from ._display import image_bundle

        return image_bundle(self)

    def _mime_(self) -> tuple[str, str]:
        """marimo's display protocol: the same compact preview, as a data URL. marimo asks for
        this before ``_repr_mimebundle_``, and a list of images then shows as images too."""
        import base64

        from ._display import preview_bytes

        mime, data = preview_bytes(self)
        return mime, f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"

    def __repr__(self) -> str:
        size = f"{self.width}x{self.height}" if self.width else "?"
        flag = ", cached" if self.cached else ""
        if self.others:
            flag += f", +{len(self.others)} more in .images"
        if not self.cached and self.estimated_cost_usd is not None:
            flag += f", ~${self.estimated_cost_usd:.4f} estimated"
        prompt = self.prompt if len(self.prompt) <= 40 else self.prompt[:37] + "..."
        return f"<GeneratedImage {self.model} {size} {self.mime_type} {prompt!r}{flag}>"

    def to_json_metadata(self) -> str:
        return json.dumps(self.provenance, ensure_ascii=False, sort_keys=True)
