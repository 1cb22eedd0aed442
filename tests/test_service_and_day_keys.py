"""Two checks a plausible one-line bug would slip past: the cache keyed by the account alone
(the same account behind another base URL), and the ledger's day taken in local time instead of
UTC (run under a time zone whose date differs from UTC's right now)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fetch_support import fetch
from jupyter_imagegen import Client
from jupyter_imagegen.emulator import Emulator
from jupyter_imagegen.runtime import ImageCache

FLUX = "@cf/black-forest-labs/flux-1-schnell"


def test_the_same_account_behind_another_base_url_is_another_service(tmp_path: Path) -> None:
    cache = ImageCache(tmp_path / "images")
    with Emulator(account_id="shared-account") as first, Emulator(account_id="shared-account") as second:
        assert first.base_url != second.base_url
        with Client(account_id=first.account_id, api_token=first.token, base_url=first.base_url) as one:
            request = one.prepare("a red fox", model=FLUX)
            assert not fetch(one, request, cache).cached
        with Client(account_id=second.account_id, api_token=second.token, base_url=second.base_url) as two:
            assert not fetch(two, request, cache).cached  # a miss: this service makes its own image
            assert fetch(two, request, cache).cached
        assert (len(first.requests), len(second.requests)) == (1, 1)


def _zone_whose_date_differs_from_utc() -> str:
    """UTC+14 is a day ahead from 10:00 UTC on, UTC-12 a day behind until 12:00 UTC."""
    return "Etc/GMT-14" if datetime.datetime.now(datetime.timezone.utc).hour >= 11 else "Etc/GMT+12"


def test_the_ledger_counts_utc_days_whatever_the_local_time_zone(emulator: Emulator, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import datetime, json, time
        time.tzset()
        import jupyter_imagegen as jig
        utc = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
        jig.generate("a fox", model={FLUX!r})
        usage = jig.usage()
        print(json.dumps({{"utc": utc, "local": datetime.date.today().isoformat(),
                           "days": [row.day for row in usage.rows], "today": usage.today}}))
        """
    )
    env = {**os.environ, **emulator.env, "TZ": _zone_whose_date_differs_from_utc()}
    env["IMAGEGEN_CACHE_DIR"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["local"] != seen["utc"], seen  # the zone really puts the process on another date
    assert seen["days"] == [seen["utc"]] and seen["today"] == seen["utc"], seen
    ledger = json.loads((tmp_path / "cache-usage-emulator.json").read_text(encoding="utf-8"))
    assert list(ledger["days"]) == [seen["utc"]]
