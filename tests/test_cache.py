"""The disk cache: content addressing, LRU bound, atomicity across processes, damage recovery,
and get-or-generate against the emulator."""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import os
from pathlib import Path

import pytest
from PIL import Image

from fetch_support import fetch
from jupyter_imagegen import (
    AsyncClient,
    Client,
    GatewayOptions,
    GeneratedImage,
    ImageGenWarning,
    ImageRequest,
)
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import ImageCache, fetch_async, service_of
from jupyter_imagegen.runtime import _cache as cache_module

MODEL = "openai/gpt-image-1.5"


def png(color: str = "red", size: int = 16) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def request(prompt: str = "a red fox", variation: int = 0, **params: object) -> ImageRequest:
    return ImageRequest.create(prompt, model=MODEL, variation=variation, **params)


def image_for(req: ImageRequest, data: bytes | None = None) -> GeneratedImage:
    data = data or png()
    with Image.open(io.BytesIO(data)) as im:
        width, height = im.size
    return GeneratedImage(
        data=data,
        mime_type="image/png",
        prompt=req.prompt,
        model=req.model,
        params=dict(req.params),
        width=width,
        height=height,
        log_id="log-1",
        elapsed=1.5,
        created="2025-01-01T00:00:00+00:00",
        variation=req.variation,
    )


def test_round_trip_marks_the_image_cached(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    req = request(quality="low")
    assert cache.get(req) is None
    original = image_for(req)
    cache.put(req, original)
    hit = cache.get(req)
    assert hit is not None and hit.cached and not original.cached
    assert hit.data == original.data
    assert (hit.prompt, hit.params, hit.log_id, hit.elapsed, hit.variation) == (
        "a red fox",
        {"quality": "low"},
        "log-1",
        1.5,
        0,
    )


def test_key_covers_params_variation_and_input_images(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    base = request(quality="low")
    cache.put(base, image_for(base))
    assert cache.get(request(quality="high")) is None
    assert cache.get(request(variation=1, quality="low")) is None
    edited = ImageRequest.create("a red fox", model=MODEL, images=[png("blue")], quality="low")
    assert cache.get(edited) is None
    # Gateway settings say where to send a request, not which image it asks for.
    same = ImageRequest.create(
        "a red fox", model=MODEL, quality="low", gateway=GatewayOptions("other", skip_cache=True)
    )
    assert cache.get(same) is not None


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated write
        lambda raw: raw[:-1] + bytes([raw[-1] ^ 0xFF]),  # flipped bit in the image
        lambda raw: b"garbage",
        lambda raw: raw[:14] + b"{not json" + raw[23:],
        lambda raw: b"",
    ],
)
def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path: Path, damage: object) -> None:
    cache = ImageCache(tmp_path)
    req = request()
    cache.put(req, image_for(req))
    path = Path(cache.path_for(req))
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.get(req) is None
    assert not path.exists()


def test_lru_pruning_keeps_the_recently_used(tmp_path: Path) -> None:
    reqs = [request(f"prompt {i}") for i in range(4)]
    one = ImageCache(tmp_path / "probe")
    one.put(reqs[0], image_for(reqs[0]))
    size = one.stats().bytes
    # Room for three and a half: a prune frees down to PRUNE_TO of the cap, which is one entry here.
    cache = ImageCache(tmp_path / "c", max_bytes=3 * size + size // 2)
    for age, req in enumerate(reqs[:3]):
        cache.put(req, image_for(req))
        os.utime(cache.path_for(req), (1000 + age, 1000 + age))  # distinct, ordered times
    assert cache.get(reqs[0]) is not None  # a hit makes the oldest entry the most recent
    cache.put(reqs[3], image_for(reqs[3]))
    assert cache.stats().entries == 3
    assert cache.get(reqs[1]) is None  # the least recently used went
    assert all(cache.get(r) is not None for r in (reqs[0], reqs[2], reqs[3]))


def test_clear_stats_and_stale_temp_files(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    req = request()
    cache.put(req, image_for(req))
    stale = Path(cache.path_for(req)).parent / ".tmp-dead.part"
    stale.write_bytes(b"x")
    os.utime(stale, (1, 1))
    cache.prune()
    assert not stale.exists()
    assert cache.stats().entries == 1 and cache.stats().bytes > len(png())
    cache.clear()
    assert cache.stats().entries == 0 and cache.get(req) is None


def test_default_directory_and_bound_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGEGEN_CACHE_DIR", str(tmp_path / "here"))
    monkeypatch.setenv("IMAGEGEN_CACHE_MAX_MB", "5")
    cache = ImageCache.default()
    assert cache.directory == str(tmp_path / "here") and cache.max_bytes == 5 * 1024 * 1024
    monkeypatch.delenv("IMAGEGEN_CACHE_DIR")
    monkeypatch.delenv("IMAGEGEN_CACHE_MAX_MB")
    assert "jupyter-imagegen" in ImageCache.default().directory


def _hammer(directory: str, color: str, rounds: int) -> int:
    cache = ImageCache(directory)
    req = request()
    seen_bad = 0
    for _ in range(rounds):
        cache.put(req, image_for(req, png(color, 64)))
        hit = cache.get(req)
        if hit is not None and hit.to_pil().size != (64, 64):
            seen_bad += 1
    return seen_bad


def test_several_processes_share_one_cache_safely(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        bad = pool.starmap(_hammer, [(str(tmp_path), color, 40) for color in ("red", "green", "blue")])
    assert bad == [0, 0, 0]
    hit = ImageCache(tmp_path).get(request())
    assert hit is not None and hit.to_pil().getpixel((0, 0)) in {(255, 0, 0), (0, 128, 0), (0, 0, 255)}
    assert not list(tmp_path.rglob(".tmp-*"))


def test_fetch_generates_once_then_hits(tmp_path: Path, emulator: Emulator, client: Client) -> None:
    cache = ImageCache(tmp_path)
    req = client.prepare("a red fox", quality="low")
    first = fetch(client, req, cache)
    assert not first.cached and len(emulator.requests) == 1
    second = fetch(client, req, cache)
    assert second.cached and second.data == first.data and len(emulator.requests) == 1
    fresh = fetch(client, req, cache, refresh=True)
    assert not fresh.cached and len(emulator.requests) == 2
    assert cache.get(req, service_of(client)).data == fresh.data  # type: ignore[union-attr]
    fetch(client, req, None)
    assert len(emulator.requests) == 3


def test_fetch_regenerates_a_corrupt_entry(tmp_path: Path, emulator: Emulator, client: Client) -> None:
    cache = ImageCache(tmp_path)
    req = client.prepare("a red fox")
    fetch(client, req, cache)
    Path(cache.path_for(req, service_of(client))).write_bytes(b"JIGCACHE1\n\x00\x00\x00\x05{}")
    again = fetch(client, req, cache)
    assert not again.cached and len(emulator.requests) == 2
    assert fetch(client, req, cache).cached


def test_fetch_async_generates_once_then_hits(tmp_path: Path, emulator: Emulator) -> None:
    async def scenario() -> tuple[bool, bool]:
        async with AsyncClient(
            account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url
        ) as client:
            req = client.prepare("a red fox")
            cache = ImageCache(tmp_path)
            first = await fetch_async(client, req, cache)
            second = await fetch_async(client, req, cache)
            return first.cached, second.cached

    assert asyncio.run(scenario()) == (False, True)
    assert len(emulator.requests) == 1


def test_an_unwritable_cache_warns_but_returns_the_image(
    tmp_path: Path, emulator: Emulator, client: Client
) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    cache = ImageCache(blocker / "cache")  # a folder inside a file cannot be created
    with pytest.warns(ImageGenWarning, match="Could not write the image cache"):
        image = fetch(client, client.prepare("a red fox"), cache)
    assert image.width > 0


def test_previews_are_stored_by_image_digest_and_checked(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path)
    digest = "ab" + "0" * 62
    assert cache.get_preview(digest, "auto") is None
    cache.put_preview(digest, "auto", "image/jpeg", b"\xff\xd8preview")
    assert cache.get_preview(digest, "auto") == ("image/jpeg", b"\xff\xd8preview")
    assert cache.get_preview(digest, "png") is None
    (path,) = tmp_path.rglob("*.preview")
    path.write_bytes(path.read_bytes()[:-2])  # damaged: a miss, and removed
    assert cache.get_preview(digest, "auto") is None and not path.exists()
    cache.put_preview(digest, "auto", "image/jpeg", b"\xff\xd8preview")
    assert cache.stats().entries == 0 and cache.stats().bytes > 0  # counted in size, not as an image
    cache.clear()
    assert not list(tmp_path.rglob("*.preview"))


def test_writes_do_not_list_the_folder_until_the_cap_or_a_rescan_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ImageCache(tmp_path)
    listings = []
    real_files = cache._files
    monkeypatch.setattr(cache, "_files", lambda **kw: listings.append(1) or real_files(**kw))
    reqs = [request(f"prompt {i}") for i in range(40)]
    for req in reqs:
        cache.put(req, image_for(req))
    assert len(listings) == 1  # the first write measures the folder; the rest add to the total
    for req in reqs:
        assert cache.get(req) is not None
    assert len(listings) == 1  # lookups open one file by name, never list


def test_the_running_total_keeps_the_cache_under_its_cap(tmp_path: Path) -> None:
    reqs = [request(f"prompt {i:03d}") for i in range(30)]
    probe = ImageCache(tmp_path / "probe")
    probe.put(reqs[0], image_for(reqs[0]))
    size = probe.stats().bytes
    cache = ImageCache(tmp_path / "c", max_bytes=10 * size)
    for req in reqs:
        cache.put(req, image_for(req))
        assert cache.stats().bytes <= cache.max_bytes
    assert cache.get(reqs[-1]) is not None  # the newest survives every prune


def test_a_rescan_sees_what_other_processes_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "RESCAN_EVERY", 5)
    reqs = [request(f"prompt {i:03d}") for i in range(40)]
    probe = ImageCache(tmp_path / "probe")
    probe.put(reqs[0], image_for(reqs[0]))
    size = probe.stats().bytes
    mine = ImageCache(tmp_path / "c", max_bytes=12 * size)
    other = ImageCache(tmp_path / "c", max_bytes=10**12)  # another kernel with a larger cap
    mine.put(reqs[0], image_for(reqs[0]))
    for req in reqs[1:30]:
        other.put(req, image_for(req))
    assert mine.stats().bytes > mine.max_bytes  # this process has not looked yet
    for req in reqs[30:35]:
        mine.put(req, image_for(req))
    assert mine.stats().bytes <= mine.max_bytes


def test_an_image_from_one_service_is_never_served_for_another(tmp_path: Path, emulator: Emulator) -> None:
    cache = ImageCache(tmp_path)
    with Client(
        account_id=emulator.account_id, api_token=emulator.token, base_url=emulator.base_url
    ) as offline:
        req = offline.prepare("a red fox", quality="low")
        assert not fetch(offline, req, cache).cached
        assert fetch(offline, req, cache).cached
    assert len(emulator.requests) == 1
    # The same request to another service (another base URL, as real credentials would give) is
    # a miss: that service makes its own image.
    with (
        Emulator(account_id="another-account") as other,
        Client(account_id=other.account_id, api_token=other.token, base_url=other.base_url) as online,
    ):
        fresh = fetch(online, req, cache)
        assert not fresh.cached and len(other.requests) == 1
        assert fetch(online, req, cache).cached
    # Same base URL, another account: a different service too.
    image = image_for(req)
    cache.put(req, image, "https://api.cloudflare.com/client/v4 account-a")
    assert cache.get(req, "https://api.cloudflare.com/client/v4 account-a") is not None
    assert cache.get(req, "https://api.cloudflare.com/client/v4 account-b") is None


@pytest.mark.parametrize(
    "lie",
    [
        {"mime_type": "image/jpeg"},  # PNG bytes recorded as a JPEG
        {"width": 32, "height": 32},  # other dimensions than the bytes hold
        {"data": b"<html>not an image</html>"},  # a consistent entry that holds no image
    ],
    ids=["type", "dimensions", "not-an-image"],
)
def test_an_entry_that_is_not_the_recorded_image_is_made_again(
    tmp_path: Path, lie: dict[str, object]
) -> None:
    from dataclasses import replace

    cache = ImageCache(tmp_path)
    req = request()
    cache.put(req, replace(image_for(req), **lie))  # type: ignore[arg-type]
    assert cache.get(req) is None
    assert not Path(cache.path_for(req)).exists()


def test_prune_and_clear_never_follow_a_link_out_of_the_cache(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victims = [outside / "notes.entry", outside / "photo.preview", outside / ".tmp-old"]
    for victim in victims:
        victim.write_bytes(b"precious")
        os.utime(victim, (1000, 1000))  # old enough to look like a dead writer's temp file
    cache = ImageCache(tmp_path / "cache", max_bytes=1)
    req = request()
    cache.put(req, image_for(req))
    (tmp_path / "cache" / "zz").symlink_to(outside, target_is_directory=True)
    shard = Path(cache.path_for(req)).parent
    (shard / "linked.entry").symlink_to(outside / "notes.entry")
    cache.prune(max_bytes=0)
    cache.clear()
    assert all(victim.read_bytes() == b"precious" for victim in victims)
    assert not (shard / "linked.entry").is_symlink()  # the link itself may go, never its target


def test_an_entry_that_is_a_link_is_a_miss(tmp_path: Path) -> None:
    elsewhere = ImageCache(tmp_path / "elsewhere")
    req = request()
    elsewhere.put(req, image_for(req))  # a whole, valid entry, outside this cache
    cache = ImageCache(tmp_path / "cache")
    link = Path(cache.path_for(req))
    link.parent.mkdir(parents=True)
    link.symlink_to(elsewhere.path_for(req))
    assert cache.get(req) is None and not link.is_symlink()
    assert elsewhere.get(req) is not None  # the target is left alone
