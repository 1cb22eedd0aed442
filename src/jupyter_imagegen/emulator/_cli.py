"""The emulator's command line: ``python -m jupyter_imagegen.emulator`` and ``imagegen emulator``."""

from __future__ import annotations

import argparse
import errno
import secrets
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import get_args

from ..client import is_loopback_host, printable
from ._api import Envelope, ImageUrlStyle
from ._server import Emulator

__all__ = ["main"]

DEFAULT_TOKEN = "emulator-token"  # published: fine on loopback, never for a classroom network


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run a local Cloudflare Workers AI emulator that answers with labelled test images.",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s; 0.0.0.0 serves a classroom, see the README)",
    )
    parser.add_argument(
        "--port", type=int, default=8787, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, metavar="S", help="seconds added to every API request"
    )
    parser.add_argument(
        "--token",
        help=f"the API token to accept (default: {DEFAULT_TOKEN} on this machine; on any other "
        "address a new random one, printed at start)",
    )
    parser.add_argument("--account", default="emulator-account", help="the account id (default: %(default)s)")
    parser.add_argument(
        "--url-ttl",
        type=float,
        default=60.0,
        metavar="S",
        help="seconds an image URL stays valid (default: 60)",
    )
    parser.add_argument(
        "--envelope", choices=get_args(Envelope), default="v4+run", help="JSON envelope of URL answers"
    )
    parser.add_argument(
        "--image-url-style",
        choices=get_args(ImageUrlStyle),
        default="url",
        help="answer with URLs or data URIs",
    )
    parser.add_argument(
        "--single-use-urls",
        action="store_true",
        help="strict mode: an image URL works for one download only (default: until it expires)",
    )
    # The old opt-in, now the default: still accepted so existing scripts keep working.
    parser.add_argument("--reusable-urls", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--models",
        metavar="DIR",
        help="add the models described by DIR/*.json (catalog schema files) to the catalog and routes",
    )
    parser.add_argument("--quiet", action="store_true", help="do not print a line per request")
    return parser


def banner(emulator: Emulator) -> str:
    """The startup notice: what this is, and the environment that points a client at it."""
    rule = "#" * 78
    exports = [f"##    export {name}={shlex.quote(value)}" for name, value in emulator.env.items()]
    whose = (
        "the emulator's token is not a secret"
        if emulator.token == DEFAULT_TOKEN
        else "share this token with your class only"
    )
    return "\n".join(
        [
            rule,
            "##  CLOUDFLARE EMULATOR: a local test server, NOT the real Cloudflare service.",
            f"##  API base URL: {emulator.base_url}",
            f"##  Point a client at it ({whose}):",
            *exports,
            "##  Every image is a labelled test pattern. Press Ctrl-C to stop.",
            rule,
        ]
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None, prog: str = "python -m jupyter_imagegen.emulator") -> int:
    """Run the emulator in the foreground until Ctrl-C or SIGTERM; the process exit status.

    ``prog`` is the command the user typed, so ``--help`` and usage errors name it."""
    args = _parser(prog).parse_args(argv)
    token = args.token
    if token is None:
        # Beyond this machine the published default would let anyone on the network in.
        token = DEFAULT_TOKEN if is_loopback_host(args.host) else f"classroom-{secrets.token_urlsafe(18)}"
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            account_id=args.account,
            token=token,
            latency=args.latency,
            url_ttl=args.url_ttl,
            single_use_urls=args.single_use_urls,
            envelope=args.envelope,
            image_url_style=args.image_url_style,
            log=None if args.quiet else lambda line: print(line, flush=True),
            models_dir=args.models,
        )
    except OSError as exc:
        reason = "already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        print(
            f"error: cannot listen on {args.host}:{args.port}: {reason}; choose another port with --port.",
            file=sys.stderr,
        )
        return 2
    except ValueError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    print(banner(emulator), flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        print("emulator stopped", flush=True)
    finally:
        emulator.stop()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0
