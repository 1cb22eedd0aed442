"""The token bucket on a fake clock: exact, instant, independent of the machine's speed."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from jupyter_imagegen.batches._ratelimit import DEFAULT_PAUSE, MIN_FRACTION, RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps; sleeping still yields to other tasks."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def limiter(rpm: float, burst: int = 1, **kw: float) -> tuple[RateLimiter, FakeTime]:
    fake = FakeTime()
    return RateLimiter(rpm, burst=burst, clock=fake.clock, sleep=fake.sleep, **kw), fake


async def starts(bucket: RateLimiter, fake: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        await bucket.acquire()
        times.append(fake.now)
    return times


def assert_within_bucket(times: list[float], rpm: float, burst: int) -> None:
    """No stretch of time holds more starts than the bucket allows: burst + rate * length."""
    for i, j in itertools.combinations(range(len(times)), 2):
        allowed = burst + rpm / 60.0 * (times[j] - times[i]) + 1e-9
        assert j - i + 1 <= allowed, (i, j, times[i], times[j])


def test_burst_goes_at_once_then_requests_are_spaced_at_the_rate() -> None:
    bucket, fake = limiter(600, burst=3)
    times = asyncio.run(starts(bucket, fake, 20))
    assert times[:3] == [0.0, 0.0, 0.0]
    gaps = [b - a for a, b in itertools.pairwise(times[3:])]
    assert gaps == pytest.approx([0.1] * 16)
    assert times[-1] == pytest.approx(1.7)  # 17 requests after the burst at 10 a second
    assert_within_bucket(times, 600, 3)


def test_concurrent_callers_share_one_bucket_first_come_first_served() -> None:
    bucket, fake = limiter(120, burst=2)
    order: list[tuple[int, float]] = []

    async def caller(name: int) -> None:
        for _ in range(4):
            await bucket.acquire()
            order.append((name, fake.now))

    async def main() -> None:
        await asyncio.gather(*(caller(n) for n in range(5)))

    asyncio.run(main())
    times = [t for _, t in order]
    assert len(times) == 20 and times == sorted(times)
    assert_within_bucket(times, 120, 2)
    assert times[-1] == pytest.approx(18 * 0.5)  # 18 after the burst of 2, at 2 a second
    # Waiters queue in order: once the burst is spent, every caller starts before anyone's second
    # wait is served.
    assert {name for name, _ in order[:7]} == set(range(5))


def test_a_429_pauses_everyone_then_halves_the_rate() -> None:
    bucket, fake = limiter(600)

    async def main() -> list[float]:
        await starts(bucket, fake, 3)
        refused_at = fake.now
        bucket.slow_down(retry_after=2.0)
        assert bucket.paused and bucket.rpm == pytest.approx(300)
        after = await starts(bucket, fake, 4)
        return [t - refused_at for t in after]

    after = asyncio.run(main())
    assert after[0] >= 2.0  # honours Retry-After
    gaps = [b - a for a, b in itertools.pairwise(after)]
    assert all(gap >= 0.19 for gap in gaps)  # about half the rate (0.2 s), recovering slowly


def test_the_rate_recovers_to_nominal_over_the_recovery_period() -> None:
    bucket, fake = limiter(600, recovery=60.0)
    bucket.slow_down(retry_after=0)
    assert bucket.rpm == pytest.approx(300)
    fake.now += 30.0
    assert bucket.rpm == pytest.approx(600)  # 300 rpm back in 30 s at 600 rpm per 60 s
    fake.now += 100.0
    assert bucket.rpm == pytest.approx(600)  # never above nominal


def test_a_429_without_retry_after_pauses_for_the_default() -> None:
    bucket, fake = limiter(6000)

    async def main() -> float:
        await bucket.acquire()
        bucket.slow_down(None)
        await bucket.acquire()
        return fake.now

    assert asyncio.run(main()) >= DEFAULT_PAUSE


def test_slowing_down_has_a_floor() -> None:
    bucket, _ = limiter(640)
    for _ in range(20):
        bucket.slow_down(0)
    assert bucket.rpm == pytest.approx(640 * MIN_FRACTION)
    assert bucket.slowdowns == 20


def test_tokens_do_not_pile_up_beyond_the_burst_while_idle() -> None:
    bucket, fake = limiter(60, burst=2)

    async def main() -> list[float]:
        await starts(bucket, fake, 2)
        fake.now += 3600.0  # an hour idle
        base = fake.now
        return [t - base for t in await starts(bucket, fake, 4)]

    assert asyncio.run(main()) == pytest.approx([0.0, 0.0, 1.0, 2.0])


@pytest.mark.parametrize("rpm", [0, -5, float("nan"), float("inf"), "600"])
def test_rpm_must_be_a_positive_number(rpm: object) -> None:
    with pytest.raises(ValueError, match="rpm must be a positive number"):
        RateLimiter(rpm)  # type: ignore[arg-type]


@pytest.mark.parametrize("burst", [0, -1, 1.5])
def test_burst_must_be_a_whole_number_of_at_least_one(burst: object) -> None:
    with pytest.raises(ValueError, match="burst must be a whole number"):
        RateLimiter(60, burst=burst)  # type: ignore[arg-type]
