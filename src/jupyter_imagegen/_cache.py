"""ImageCache: generated images on disk, found again by what was asked for.

An entry is keyed by ``ImageRequest.cache_key`` (model, prompt, parameters, input-image hashes and
variation index; never credentials or gateway settings) together with the service that made it
(base URL and account id), so an image from the local emulator is never served as the real
service's, and one server cannot fill the cache for another. It is stored as ONE file: a small JSON header
(the image's provenance and the sha256 of its bytes) followed by the original image bytes. One file
per entry means a write is a single atomic rename, so several kernels can share a cache directory
and a reader sees a whole entry or none. An entry that fails its checksum, or whose bytes are not
an image of the recorded type and dimensions, is deleted and reported as a miss, so the image is
generated again rather than the cell failing.

Display previews (the compact JPEG/PNG a notebook embeds) are stored too, keyed by the sha256 of
the original image and the display format, so Restart & Run All neither decodes nor re-encodes.

The directory is bounded: after each write the least recently used files (by modification time,
which a hit refreshes) are deleted until the total is under ``max_bytes``. Pruning and clearing
never follow a symbolic link: a link in the cache folder is at most removed itself, and nothing
outside the folder is touched. Cache files are private to the user (mode 0600): they are the
user's own store, never meant to be shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import io
import json
import os
import struct
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._exceptions import ConfigurationError, ImageGenWarning
from ._files import write_atomic
from ._imagebytes import sniff_mime
from ._result import GeneratedImage

if TYPE_CHECKING:
    from ._client import AsyncClient, Client
    from ._request import ImageRequest

__all__ = ["DEFAULT_MAX_BYTES", "CacheStats", "ImageCache", "fetch", "fetch_async", "service_of"]

DEFAULT_MAX_BYTES = 2 * 1024**3
_MAGIC = b"JIGCACHE1\n"
_SUFFIX = ".entry"
_PREVIEW_SUFFIX = ".preview"
_STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to a writer that died
# The GeneratedImage fields an entry stores; ``data`` travels after the header and ``cached`` is
# decided on read.
_FIELDS = tuple(f.name for f in dataclasses.fields(GeneratedImage) if f.name not in ("data", "cached"))


@dataclass(frozen=True)
class CacheStats:
    """How much a cache holds: entry count and total bytes on disk."""

    directory: str
    entries: int
    bytes: int
    max_bytes: int


class ImageCache:
    """A content-addressed, size-bounded, multi-process-safe store of generated images."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}.")
        self.directory = os.path.abspath(os.fspath(directory))
        self.max_bytes = max_bytes

    @classmethod
    def default(cls, max_bytes: int | None = None) -> ImageCache:
        """The user's cache: ``$IMAGEGEN_CACHE_DIR``, else the platform's user cache directory;
        bounded by ``max_bytes``, else ``$IMAGEGEN_CACHE_MAX_MB`` megabytes, else 2 GB."""
        directory = os.environ.get("IMAGEGEN_CACHE_DIR", "").strip()
        if not directory:
            import platformdirs

            directory = platformdirs.user_cache_dir("jupyter-imagegen", appauthor=False)
        if max_bytes is None:
            max_bytes = _env_megabytes("IMAGEGEN_CACHE_MAX_MB")
        return cls(directory, max_bytes=max_bytes or DEFAULT_MAX_BYTES)

    def __repr__(self) -> str:
        return f"<ImageCache {self.directory!r} max_bytes={self.max_bytes}>"

    def path_for(self, request: ImageRequest, service: str = "") -> str:
        key = _entry_key(request, service)
        return os.path.join(self.directory, key[:2], key + _SUFFIX)

    def get(self, request: ImageRequest, service: str = "") -> GeneratedImage | None:
        """The cached image for ``request`` made by ``service`` (see :func:`service_of`), marked
        ``cached=True``, or None (also when damaged)."""
        path = self.path_for(request, service)
        try:
            # A link is never an entry (the cache writes none): it could point anywhere.
            with open(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb") as handle:
                raw = handle.read()
        except FileNotFoundError:
            return None
        except OSError:
            if os.path.islink(path):
                _remove_quietly(path)
            return None
        image = _decode(raw, _entry_key(request, service))
        if image is None:
            _remove_quietly(path)  # damaged: drop it so the next put starts clean
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # a hit makes the entry recent for LRU pruning
        return image

    def put(self, request: ImageRequest, image: GeneratedImage, service: str = "") -> None:
        """Store ``image`` as ``service``'s answer to ``request``, then prune to ``max_bytes``."""
        write_atomic(
            self.path_for(request, service), _encode(image, _entry_key(request, service)), private=True
        )
        self.prune()

    def _preview_path(self, digest: str, fmt: str) -> str:
        return os.path.join(self.directory, digest[:2], f"{digest}.{fmt}{_PREVIEW_SUFFIX}")

    def get_preview(self, digest: str, fmt: str) -> tuple[str, bytes] | None:
        """``(mime, bytes)`` stored for the image whose sha256 is ``digest``, or None."""
        path = self._preview_path(digest, fmt)
        try:
            with open(path, "rb") as handle:
                header, _, data = handle.read().partition(b"\n")
        except OSError:
            return None
        mime, _, checksum = header.decode("ascii", "replace").partition(" ")
        if not mime.startswith("image/") or checksum != hashlib.sha256(data).hexdigest():
            _remove_quietly(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)
        return mime, data

    def put_preview(self, digest: str, fmt: str, mime: str, data: bytes) -> None:
        header = f"{mime} {hashlib.sha256(data).hexdigest()}\n".encode("ascii")
        write_atomic(self._preview_path(digest, fmt), header + data, private=True)

    def clear(self) -> None:
        """Delete every entry (and leftover temp files); the directory itself stays."""
        for path, _, _ in self._files(include_temp=True):
            _remove_quietly(path)

    def stats(self) -> CacheStats:
        """Entries (images) held, and the bytes of every file, previews included."""
        files = self._files()
        entries = sum(path.endswith(_SUFFIX) for path, _, _ in files)
        return CacheStats(self.directory, entries, sum(size for _, size, _ in files), self.max_bytes)

    def prune(self, max_bytes: int | None = None) -> int:
        """Delete least recently used files until the total is at most ``max_bytes``;
        returns how many were deleted. Safe to run from several processes at once."""
        limit = self.max_bytes if max_bytes is None else max_bytes
        now = time.time()
        entries = []
        for path, size, mtime in self._files(include_temp=True):
            if not path.endswith((_SUFFIX, _PREVIEW_SUFFIX)):
                if now - mtime > _STALE_TEMP_SECONDS:
                    _remove_quietly(path)
                continue
            entries.append((mtime, size, path))
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in sorted(entries):
            if total <= limit:
                break
            _remove_quietly(path)
            total -= size
            removed += 1
        return removed

    def _files(self, *, include_temp: bool = False) -> list[tuple[str, int, float]]:
        """``(path, size, mtime)`` of every entry and preview, skipping ones another process removed."""
        found: list[tuple[str, int, float]] = []
        try:
            # A linked shard could lead anywhere: only real sub-folders are the cache's own.
            shards = [
                e for e in os.scandir(self.directory) if e.is_dir(follow_symlinks=False) and len(e.name) == 2
            ]
        except FileNotFoundError:
            return found
        for shard in shards:
            try:
                children = list(os.scandir(shard.path))
            except FileNotFoundError:
                continue
            for child in children:
                wanted = child.name.endswith((_SUFFIX, _PREVIEW_SUFFIX))
                if not (wanted or (include_temp and child.name.startswith(".tmp-"))):
                    continue
                try:
                    info = child.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                found.append((child.path, info.st_size, info.st_mtime))
        return found


def service_of(client: Any) -> str:
    """Which service a client talks to, as the cache tells services apart: base URL and account."""
    settings = client.settings
    return f"{str(settings.base_url).rstrip('/')} {settings.account_id or ''}"


def _entry_key(request: ImageRequest, service: str) -> str:
    if not service:
        return request.cache_key
    return hashlib.sha256(f"{request.cache_key}\n{service}".encode()).hexdigest()


def _encode(image: GeneratedImage, key: str) -> bytes:
    header = {name: getattr(image, name) for name in _FIELDS}
    header["input_images"] = list(image.input_images)
    header["key"] = key
    header["sha256"] = hashlib.sha256(image.data).hexdigest()
    header["size"] = len(image.data)
    text = json.dumps(header, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return _MAGIC + struct.pack(">I", len(text)) + text + image.data


def _decode(raw: bytes, key: str) -> GeneratedImage | None:
    """The image in an entry file, or None when the file is not a whole, matching entry."""
    start = len(_MAGIC) + 4
    if not raw.startswith(_MAGIC) or len(raw) < start:
        return None
    (length,) = struct.unpack(">I", raw[len(_MAGIC) : start])
    try:
        header: dict[str, Any] = json.loads(raw[start : start + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    data = raw[start + length :]
    if (
        not isinstance(header, dict)
        or header.get("key") != key
        or header.get("size") != len(data)
        or header.get("sha256") != hashlib.sha256(data).hexdigest()
    ):
        return None
    try:
        fields = {name: header[name] for name in _FIELDS}
        fields["input_images"] = tuple(fields["input_images"])
        image = GeneratedImage(data=data, cached=True, **fields)
    except (KeyError, TypeError):
        return None
    return image if _is_recorded_image(image) else None


def _is_recorded_image(image: GeneratedImage) -> bool:
    """Whether the bytes are an image of the type and dimensions the entry records. The checksum
    proves the bytes are the ones written, not that what was written is the image it claims."""
    if sniff_mime(image.data) != image.mime_type:
        return False
    if not (image.width and image.height):
        return True
    from PIL import Image

    try:
        with Image.open(io.BytesIO(image.data)) as im:  # reads the header only
            return bool(im.size == (image.width, image.height))
    except Exception:  # Pillow raises many types for damaged data
        return False


def _env_megabytes(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        megabytes = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of megabytes, got {raw!r}.") from None
    if megabytes <= 0:
        raise ConfigurationError(f"{name} must be positive, got {raw!r}.")
    return int(megabytes * 1024 * 1024)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _store(cache: ImageCache, request: ImageRequest, image: GeneratedImage, service: str) -> None:
    """Write to the cache; a full or read-only disk costs the cache, never the image."""
    try:
        cache.put(request, image, service)
    except OSError as exc:
        warnings.warn(
            f"Could not write the image cache at {cache.directory} ({exc.strerror or exc}); "
            "set IMAGEGEN_CACHE_DIR to a writable folder.",
            ImageGenWarning,
            stacklevel=3,
        )


def fetch(
    client: Client, request: ImageRequest, cache: ImageCache | None, *, refresh: bool = False
) -> GeneratedImage:
    """The cached image for ``request``, else a new one from ``client`` (then cached).

    ``refresh=True`` skips the lookup and replaces the entry with a new sample.
    """
    service = service_of(client)
    if cache is not None and not refresh:
        hit = cache.get(request, service)
        if hit is not None:
            return hit
    image = client.generate(request)
    if cache is not None:
        _store(cache, request, image, service)
    return image


async def fetch_async(
    client: AsyncClient, request: ImageRequest, cache: ImageCache | None, *, refresh: bool = False
) -> GeneratedImage:
    """:func:`fetch` for the async client; file I/O runs in a worker thread."""
    service = service_of(client)
    if cache is not None and not refresh:
        hit = await asyncio.to_thread(cache.get, request, service)
        if hit is not None:
            return hit
    image = await client.generate(request)
    if cache is not None:
        await asyncio.to_thread(_store, cache, request, image, service)
    return image
