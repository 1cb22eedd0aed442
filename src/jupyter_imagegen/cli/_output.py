"""Where ``imagegen generate`` writes: a folder is checked for writing before anything is sent,
so nothing is paid for and then lost to a folder that cannot take it."""

from __future__ import annotations

import os
import tempfile

from .._exceptions import ValidationError

__all__ = ["check_writable"]


def check_writable(folder: str, advice: str) -> None:
    """Raise a one-line ValidationError (ending with ``advice``) unless a file can be made in
    ``folder``; the probe file is removed at once."""
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".imagegen-probe-")
    except OSError as exc:
        raise ValidationError(
            f"cannot write to {os.path.abspath(folder)} ({exc.strerror or exc}); {advice}"
        ) from None
    os.close(handle)
    os.unlink(probe)
