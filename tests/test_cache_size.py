"""The cache's size index: a new process knows the cache's size without listing its folder."""

from __future__ import annotations

import io
import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from jupyter_imagegen import GeneratedImage, ImageRequest
from jupyter_imagegen.runtime import ImageCache

MODEL = "openai/gpt-image-1.5"


def png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), color).save(buffer, "PNG")
    return buffer.getvalue()


def entry(prompt: str) -> tuple[ImageRequest, GeneratedImage]:
    request = ImageRequest.create(prompt, model=MODEL, size="1024x1024")
    image = GeneratedImage(data=png(), mime_type="image/png", prompt=prompt, model=MODEL, width=16, height=16)
    return request, image


def counting_listings(cache: ImageCache, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    listings: list[int] = []
    real = cache._files
    monkeypatch.setattr(cache, "_files", lambda **kw: listings.append(1) or real(**kw))
    return listings


def fill(folder: Path, count: int, start: int = 0) -> ImageCache:
    cache = ImageCache(folder)
    for index in range(start, start + count):
        cache.put(*entry(f"prompt {index}"))
    return cache


def test_a_new_cache_object_reads_the_size_instead_of_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(tmp_path, 30)
    fresh = ImageCache(tmp_path)  # what a new process makes
    listings = counting_listings(fresh, monkeypatch)
    fresh.put(*entry("one more"))
    assert listings == []
    assert fresh._total == ImageCache(tmp_path).stats().bytes


_PROBE = """
import json, sys
from jupyter_imagegen.runtime import ImageCache
from test_cache_size import entry
cache = ImageCache(sys.argv[1])
listings = []
real = cache._files
cache._files = lambda **kw: listings.append(1) or real(**kw)
cache.put(*entry("from a new process"))
print(json.dumps({"listings": len(listings), "total": cache._total}))
"""


def test_a_new_process_first_write_lists_nothing(tmp_path: Path) -> None:
    fill(tmp_path / "c", 30)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tmp_path / "c")],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parent,
    )
    seen = json.loads(done.stdout)
    assert seen == {"listings": 0, "total": ImageCache(tmp_path / "c").stats().bytes}


def test_the_cap_holds_from_the_index(tmp_path: Path) -> None:
    probe = fill(tmp_path / "probe", 1)
    size = probe.stats().bytes
    fill(tmp_path / "c", 20)  # another kernel with a large cap
    mine = ImageCache(tmp_path / "c", max_bytes=10 * size)
    mine.put(*entry("over the cap"))
    assert mine.stats().bytes <= mine.max_bytes


@pytest.mark.parametrize("damage", ["missing", "garbled", "cut log line"])
def test_a_missing_or_damaged_index_costs_one_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    fill(tmp_path, 10)
    base, log = tmp_path / "size", tmp_path / "size.log"
    if damage == "missing":  # a cache from before the index, or one whose index was deleted
        base.unlink()
    elif damage == "garbled":
        base.write_text("not a number")
    else:  # a writer died mid-line: that line is ignored, the rest still count
        with log.open("a") as handle:
            handle.write("12")
    fresh = ImageCache(tmp_path)
    listings = counting_listings(fresh, monkeypatch)
    fresh.put(*entry("after the damage"))
    assert len(listings) == (0 if damage == "cut log line" else 1)
    again = ImageCache(tmp_path)  # the listing wrote a good index: the next process reads it
    listings = counting_listings(again, monkeypatch)
    again.put(*entry("and again"))
    assert listings == []


def _write_many(folder: str, start: int) -> None:
    fill(Path(folder), 25, start)


def test_writers_in_several_processes_lose_no_count(tmp_path: Path) -> None:
    fill(tmp_path, 1)  # the index exists before the writers start
    context = multiprocessing.get_context("fork")
    with context.Pool(4) as pool:
        pool.starmap(_write_many, [(str(tmp_path), 100 * i) for i in range(1, 5)])
    fresh = ImageCache(tmp_path)
    assert fresh._index.read() == fresh.stats().bytes


def test_clearing_resets_the_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(tmp_path, 10).clear()
    fresh = ImageCache(tmp_path)
    listings = counting_listings(fresh, monkeypatch)
    fresh.put(*entry("after clearing"))
    assert listings == [] and fresh._total == fresh.stats().bytes


def test_the_index_never_writes_through_a_link(tmp_path: Path) -> None:
    fill(tmp_path / "c", 2)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    log = tmp_path / "c" / "size.log"
    log.unlink(missing_ok=True)
    log.symlink_to(outside)
    fresh = ImageCache(tmp_path / "c")
    fresh.put(*entry("through a link?"))
    fresh.clear()
    assert outside.read_text() == "keep me"
