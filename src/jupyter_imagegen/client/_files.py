"""Writing files safely: atomically, never over an existing file, with provenance embedded.

A saved image gets the permissions any new file gets (``0666`` less the umask), as if the user
had written it; only the cache asks for ``private=True`` (``0600``): it is the user's own store.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import struct
import zlib
from typing import Any

from ._svg import SVG_MIME, is_svg, with_comment

__all__ = [
    "provenance_bytes",
    "read_provenance",
    "safe_filename",
    "unique_path",
    "write_atomic",
    "write_new_file",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _itxt(key: str, text: str) -> bytes:
    # keyword, null, compression flag 0, method 0, empty language tag and translated keyword
    body = key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    return _png_chunk(b"iTXt", body)


def provenance_bytes(data: bytes, mime_type: str, provenance: dict[str, Any]) -> bytes:
    """``data`` with ``provenance`` embedded as the format allows, pixels untouched."""
    as_json = json.dumps(provenance, ensure_ascii=False, sort_keys=True)
    if mime_type == "image/png" and data.startswith(_PNG_SIGNATURE):
        ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, length, type, IHDR body, crc
        chunks = _itxt("prompt", str(provenance.get("prompt", "")))
        chunks += _itxt("Software", str(provenance.get("generator", "")))
        chunks += _itxt("jupyter_imagegen", as_json)
        return data[:ihdr_end] + chunks + data[ihdr_end:]
    if mime_type == "image/jpeg" and data.startswith(b"\xff\xd8"):
        comment = ("jupyter_imagegen " + as_json).encode("utf-8")[:65000]
        segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
        return data[:2] + segment + data[2:]
    if mime_type == SVG_MIME:
        return with_comment(data, "jupyter_imagegen " + as_json)
    return data


def read_provenance(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance a saved image holds, or None."""
    from PIL import Image

    with open(os.fspath(path), "rb") as handle:
        head = handle.read(1 << 20)
    if is_svg(head):
        found = re.search(rb"<!-- jupyter_imagegen (.*?) -->", head, re.DOTALL)
        return json.loads(found.group(1).decode("utf-8")) if found else None
    with Image.open(os.fspath(path)) as im:
        text = im.info.get("jupyter_imagegen")
        if text is None and isinstance(im.info.get("comment"), bytes):
            raw: bytes = im.info["comment"]
            if raw.startswith(b"jupyter_imagegen "):
                text = raw[len(b"jupyter_imagegen ") :].decode("utf-8")
    return json.loads(text) if isinstance(text, str) else None


_TEMP_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
)
_TEMP_FLAGS |= getattr(os, "O_BINARY", 0)


def _create_temp(folder: str, mode: int) -> tuple[int, str]:
    """A new file with an unguessable name in ``folder``, opened for writing.

    Created with ``mode`` so the kernel applies the umask as it does for any new file (no
    chmod, no read of the umask); O_EXCL and O_NOFOLLOW never open a file or link that is
    already there, as ``tempfile.mkstemp`` does, at a fraction of its cost per file.
    """
    for _ in range(100):
        temp = os.path.join(folder, f".tmp-{os.urandom(8).hex()}.part")
        try:
            return os.open(temp, _TEMP_FLAGS, mode), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no unused temporary file name", folder)


def _write_temp(path: str, payload: bytes, *, private: bool = False) -> str:
    """``payload`` in a new temp file beside ``path``, on disk. An error (a full disk...) names
    ``path`` rather than the temp file, and leaves nothing behind."""
    folder = os.path.dirname(os.path.abspath(path))
    # A saved image is a normal file (0666 less the umask); the cache's files are the owner's.
    mode = 0o600 if private else 0o666
    temp = ""
    try:
        try:
            fd, temp = _create_temp(folder, mode)
        except FileNotFoundError:
            os.makedirs(folder, exist_ok=True)
            fd, temp = _create_temp(folder, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            # Durable before it becomes visible: after a power cut the name holds all or nothing.
            os.fsync(handle.fileno())
    except BaseException as exc:
        if temp:
            _remove_quietly(temp)
        if isinstance(exc, OSError) and exc.errno is not None:
            raise OSError(exc.errno, exc.strerror or str(exc), path) from None
        raise
    return temp


def write_atomic(path: str, payload: bytes, *, private: bool = False) -> None:
    """Replace ``path`` with ``payload`` so a reader sees the old or the new file, never half.
    ``private`` keeps the file to its owner (0600) whatever the umask."""
    temp = _write_temp(path, payload, private=private)
    try:
        os.replace(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise


def write_new_file(path: str, payload: bytes, *, overwrite: bool = False, exclusive: bool = False) -> str:
    """Write ``payload`` to ``path`` atomically; refuse to replace a file unless ``overwrite``.

    A regular file that already holds exactly ``payload`` counts as written: running the same
    save twice (a notebook re-run of a cached image) succeeds without touching it. ``exclusive``
    refuses any existing file, for writers that pick a free name and must each get their own.
    """
    if overwrite:
        write_atomic(path, payload)
        return path
    temp = _write_temp(path, payload)
    try:
        # link() fails when the name exists, so two writers can never clobber each other.
        try:
            os.link(temp, path)
        except FileExistsError:
            if exclusive or not holds_exactly(path, payload):
                raise _exists(path) from None
        except OSError:  # file systems without hard links
            if os.path.lexists(path):
                if exclusive or not holds_exactly(path, payload):
                    raise _exists(path) from None
            else:
                os.replace(temp, path)
    finally:
        _remove_quietly(temp)
    return path


def holds_exactly(path: str, payload: bytes) -> bool:
    """Whether ``path`` is a regular file (not a link) whose bytes are ``payload``."""
    try:
        if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) != len(payload):
            return False
        with open(path, "rb") as existing:
            return existing.read() == payload
    except OSError:
        return False


def _exists(path: str) -> FileExistsError:
    return FileExistsError(f"{path} already exists: choose another name or pass overwrite=True.")


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def safe_filename(text: str, *, max_length: int = 60, fallback: str = "image") -> str:
    """A file name stem from free text that is safe on Windows, macOS and Linux.

    Keeps letters and digits of any script, turns everything else into single hyphens, drops
    control characters, path separators and dots (no traversal, no hidden files), avoids the
    names Windows reserves (CON, NUL, COM1...) and bounds the length.
    """
    import unicodedata

    normalized = unicodedata.normalize("NFKC", text)
    chars = [c.lower() if c.isalnum() else "-" for c in normalized]
    stem = "-".join(part for part in "".join(chars).split("-") if part)
    stem = stem[:max_length].rstrip("-") or fallback
    if stem.upper().split(".")[0] in _RESERVED:
        stem = f"{stem}-image"
    return stem


def unique_path(folder: str, stem: str, extension: str) -> str:
    """``folder/stem.ext``, or ``stem-2.ext``, ``stem-3.ext``... whichever does not exist yet.
    A link counts as existing even when it points nowhere: a save never writes through one."""
    candidate = os.path.join(folder, stem + extension)
    counter = 2
    while os.path.lexists(candidate):
        candidate = os.path.join(folder, f"{stem}-{counter}{extension}")
        counter += 1
    return candidate
