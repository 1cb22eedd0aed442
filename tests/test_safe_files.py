"""Files on disk: names taken from prompts are safe on every OS, saving never overwrites (even
when many writers race), every write is a temp file renamed into place, and a damaged cache entry
or a full disk costs nothing that already existed."""

from __future__ import annotations

import errno
import io
import os
import threading
import unicodedata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError
from PIL import Image

from fetch_support import fetch
from jupyter_imagegen import GeneratedImage, ImageGenWarning, ImageRequest
from jupyter_imagegen.client._files import read_provenance, safe_filename, write_atomic, write_new_file
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.notebook._session import save_all
from jupyter_imagegen.runtime import ImageCache, service_of
from magic_support import ipython_shell, run

# Windows refuses these stems whatever the extension; COM¹ etc. too (NFKC folds ¹ to 1).
RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{p}{i}" for p in ("COM", "LPT") for i in range(10))}
FORBIDDEN = set('<>:"/\\|?*') | {chr(i) for i in range(32)} | {"\x7f"}
EXAMPLES = 300
SERVICE = SimpleNamespace(base_url="http://127.0.0.1:9/client/v4", account_id="stub")  # never contacted
SERVICE_KEY = service_of(SimpleNamespace(settings=SERVICE))


def png(color: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, format="PNG")
    return buffer.getvalue()


def image(prompt: str = "a fox", color: str = "teal") -> GeneratedImage:
    return GeneratedImage(
        data=png(color), mime_type="image/png", prompt=prompt, model="m", width=16, height=16
    )


def request(prompt: str = "a fox") -> ImageRequest:
    return ImageRequest.create(prompt, model="openai/gpt-image-1.5", size="256x256")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".tmp-*"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=st.text(max_size=300))
@example(text="../../etc/passwd")
@example(text="..\\..\\windows\\system32")
@example(text="CON")
@example(text="con.txt")
@example(text="COM¹")
@example(text="nul ")
@example(text=" .hidden")
@example(text="a\x00b\x1fc\x7fd")
@example(text="\u202eexe.png")  # right-to-left override
@example(text="İ" * 100)  # lower() makes two characters of one
def test_names_from_prompts_are_safe_everywhere(text: str) -> None:
    stem = safe_filename(text)
    assert 0 < len(stem) <= 60
    assert len(stem.encode("utf-8")) + len("-99999.webp") <= 255  # every file system's limit
    assert not FORBIDDEN & set(stem)
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Zl", "Zp") for c in stem)
    assert ".." not in stem and not stem.startswith((".", "-", " ")) and not stem.endswith((".", " "))
    assert stem.upper() not in RESERVED and os.path.basename(stem) == stem


def test_reserved_names_are_renamed() -> None:
    for name in ["CON", "con", "Nul", "aux", "COM1", "lpt9", "COM¹", "ＣＯＮ"]:  # ＣＯＮ: full width
        assert safe_filename(name).upper() not in RESERVED, name


def test_saving_many_images_at_once_never_overwrites(tmp_path: Path) -> None:
    """Sixteen writers pick names for the same prompt at the same time: sixteen files."""
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a-fox.png").write_bytes(b"precious")
    images = [image(color=c) for c in ("red", "green", "blue", "white") * 4]
    barrier = threading.Barrier(len(images))
    written: list[str] = []

    def save(one: GeneratedImage) -> None:
        barrier.wait()
        written.extend(save_all([one], str(folder)))

    threads = [threading.Thread(target=save, args=(one,)) for one in images]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(written)) == len(images)
    assert (folder / "a-fox.png").read_bytes() == b"precious"
    assert len(list(folder.glob("a-fox*.png"))) == len(images) + 1 and leftovers(folder) == []
    for path in written:
        meta = read_provenance(path)
        assert meta is not None and meta["prompt"] == "a fox"


def test_writes_go_through_a_temp_file_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moves: list[tuple[str, str]] = []
    real_replace, real_link = os.replace, os.link

    def replace(src: Any, dst: Any) -> None:
        moves.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    def link(src: Any, dst: Any) -> None:
        moves.append((os.fspath(src), os.fspath(dst)))
        real_link(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "link", link)
    target = tmp_path / "x.png"
    image().save(target)
    write_atomic(str(tmp_path / "y.bin"), b"y")
    cache = ImageCache(tmp_path / "cache")
    cache.put(request(), image())  # the entry, then the cache's size index (its first write)
    assert len(moves) == 4
    for source, destination in moves:
        assert os.path.dirname(source) == os.path.dirname(destination)  # same file system
        assert os.path.basename(source).startswith(".tmp-") and source.endswith(".part")
    assert leftovers(tmp_path) == []


class _FullDisk:
    """A file whose writes fail as on a full disk, after the file was created."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def fill_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every file opened for writing fails its writes with ENOSPC."""
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_fdopen(fd, mode, *args, **kwargs)
        return _FullDisk(handle) if "w" in mode else handle

    monkeypatch.setattr(os, "fdopen", fdopen)


def test_a_full_disk_names_the_file_and_keeps_what_existed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = tmp_path / "a-fox.png"
    existing.write_bytes(b"precious")
    fill_disk(monkeypatch)
    for write in (
        lambda: image().save(tmp_path / "new.png"),
        lambda: image().save(existing, overwrite=True),
        lambda: write_new_file(str(tmp_path / "b.bin"), b"b"),
    ):
        with pytest.raises(OSError) as info:
            write()
        assert info.value.errno == errno.ENOSPC
        assert "No space left on device" in str(info.value) and str(tmp_path) in str(info.value)
    assert existing.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-fox.png"]  # no temp file, no half file


def test_a_full_disk_costs_the_cache_never_the_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = ImageCache(tmp_path / "cache")
    kept = request("kept")
    cache.put(kept, image("kept"))

    class Stub:
        settings = SERVICE

        def generate(self, req: ImageRequest) -> GeneratedImage:
            return image(req.prompt)

    fill_disk(monkeypatch)
    with pytest.warns(ImageGenWarning, match=r"Could not write the image cache .*No space left on device"):
        made = fetch(Stub(), request("new"), cache)  # type: ignore[arg-type]
    monkeypatch.undo()
    assert made.prompt == "new" and not made.cached
    hit = cache.get(kept)
    assert hit is not None and hit.cached and hit.data == image("kept").data
    assert cache.get(request("new"), SERVICE_KEY) is None and leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # cut short
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 0xFF]),  # one flipped byte in the image
        lambda raw: b"",  # empty
        lambda raw: b"JIGCACHE1\n\xff\xff\xff\xff{",  # header length past the end
        lambda raw: os.urandom(len(raw)),  # garbage
    ],
    ids=["truncated", "bit-flip", "empty", "bad-header", "garbage"],
)
def test_a_damaged_cache_entry_is_made_again_and_the_others_stay(tmp_path: Path, damage: Any) -> None:
    cache = ImageCache(tmp_path / "cache")
    good, bad = request("good"), request("bad")
    cache.put(good, image("good"), SERVICE_KEY)
    cache.put(bad, image("bad", color="red"), SERVICE_KEY)
    entry = Path(cache.path_for(bad, SERVICE_KEY))
    entry.write_bytes(damage(entry.read_bytes()))
    calls: list[str] = []

    class Stub:
        settings = SERVICE

        def generate(self, req: ImageRequest) -> GeneratedImage:
            calls.append(req.prompt)
            return image(req.prompt, color="blue")

    again = fetch(Stub(), bad, cache)  # type: ignore[arg-type]
    assert calls == ["bad"] and not again.cached  # a miss: made again, no exception
    repaired = cache.get(bad, SERVICE_KEY)
    assert repaired is not None and repaired.data == again.data
    still = cache.get(good, SERVICE_KEY)
    assert still is not None and still.data == image("good").data


def test_a_full_disk_during_magic_save_is_one_clear_line_and_keeps_the_images(
    emulator_env: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_CACHE", "0")  # only the --save path writes
    folder = tmp_path / "saved"
    folder.mkdir()
    (folder / "a-fox.png").write_bytes(b"precious")
    with ipython_shell() as shell:
        fill_disk(monkeypatch)
        ran = run(shell, f"%%imagegen -s 256x256 -o fox --save {folder}\na fox\n")
        assert isinstance(ran.error, UsageError)
        assert str(ran.error) == f"Could not save to {folder}: No space left on device."
        assert len(ran.images) == 1 and isinstance(shell.user_ns["fox"], GeneratedImage)  # kept
    assert sorted(p.name for p in folder.iterdir()) == ["a-fox.png"]
    assert (folder / "a-fox.png").read_bytes() == b"precious"


def test_a_dangling_link_at_the_name_is_skipped_never_written_through(tmp_path: Path) -> None:
    missing = tmp_path / "elsewhere" / "target.png"
    link = tmp_path / "a-fox.png"
    link.symlink_to(missing)
    written = save_all([image()], str(tmp_path))  # what --save and panel.save() do
    assert written == [str(tmp_path / "a-fox-2.png")]
    assert Path(written[0]).read_bytes().startswith(b"\x89PNG") and not missing.exists()
    with pytest.raises(FileExistsError, match="already exists"):
        image().save(link)
    assert link.is_symlink() and not missing.exists()
    image().save(link, overwrite=True)  # replaces the link itself, never its target
    assert not link.is_symlink() and not missing.exists()


def test_saving_reports_when_no_free_name_can_be_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "taken.png").write_bytes(b"mine")
    # Another writer takes every name between the check and the write.
    monkeypatch.setattr("jupyter_imagegen.client.unique_path", lambda *_: str(tmp_path / "taken.png"))
    with pytest.raises(FileExistsError, match=f"Could not save a-fox.png in {tmp_path}"):
        save_all([image()], str(tmp_path))
    assert (tmp_path / "taken.png").read_bytes() == b"mine"


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_saved_images_honour_the_umask_and_the_cache_stays_private(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        saved = Path(image().save(tmp_path / "fox.png"))
        replaced = Path(image().save(tmp_path / "fox.png", overwrite=True))
        cache = ImageCache(tmp_path / "cache")
        cache.put(request(), image())
        entry = Path(cache.path_for(request()))
    finally:
        os.umask(previous)
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask
    assert replaced.stat().st_mode & 0o777 == 0o666 & ~umask
    assert entry.stat().st_mode & 0o777 == 0o600
