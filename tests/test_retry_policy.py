"""The client's one retry loop, steered by a caller's policy (as a batch paces it): the policy is
asked before every attempt and after every failure, and its answers are what the loop does."""

from __future__ import annotations

import asyncio

from jupyter_imagegen import AsyncClient, ImageGenError
from jupyter_imagegen.emulator import Emulator

FLUX = "@cf/black-forest-labs/flux-1-schnell"


class CountingPolicy:
    def __init__(self, give_up_after: int) -> None:
        self.before = 0
        self.failures: list[tuple[str, int]] = []
        self.give_up_after = give_up_after

    async def before_attempt(self) -> None:
        self.before += 1

    def delay(self, error: ImageGenError, retries: int) -> float | None:
        self.failures.append((type(error).__name__, retries))
        return 0.0 if len(self.failures) < self.give_up_after else None


def test_a_policy_paces_every_attempt_and_decides_each_retry(emulator: Emulator) -> None:
    emulator.inject("server_error", times=2)

    async def scenario() -> tuple[CountingPolicy, CountingPolicy, bool]:
        async with AsyncClient(
            account_id=emulator.account_id,
            api_token=emulator.token,
            base_url=emulator.base_url,
            max_retries=0,
        ) as client:
            patient = CountingPolicy(give_up_after=5)
            image = await client.generate("a fox", model=FLUX, retry_policy=patient)  # 2 failures, then made
            emulator.inject("server_error", times=3)
            impatient = CountingPolicy(give_up_after=2)
            try:
                await client.generate("an owl", model=FLUX, retry_policy=impatient)
            except ImageGenError:
                gave_up = True
            else:
                gave_up = False
            return patient, impatient, gave_up and image.width > 0

    patient, impatient, gave_up = asyncio.run(scenario())
    assert patient.before == 3 and [r for _, r in patient.failures] == [0, 1]
    assert gave_up and impatient.before == 2 and len(impatient.failures) == 2
    assert len(emulator.requests) == 5  # every attempt the policy allowed, and not one more
