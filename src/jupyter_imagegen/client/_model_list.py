"""Which image models there are: the shipped ones, then those the account's live catalog lists
(docs/cloudflare.md §6), read at most once a day and kept on disk (``_catalog_store``).

:func:`read_models` says what went wrong as text instead of warning, so a caller in a worker
thread (a panel's background refresh) can show it where its user looks; :func:`models` is the
same list with each such note as one warning line.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

from .._exceptions import ImageGenWarning
from ._catalog import (
    DEFAULT_TASK,
    MAX_PAGES,
    PER_PAGE,
    CatalogConnection,
    CatalogUnavailable,
    HasSettings,
    NotListed,
    catalog_get,
    catalog_service,
    catalog_settings,
    catalog_store,
    forget,
    is_model_id,
)
from ._models import list_models

__all__ = ["ModelList", "models", "read_models", "search_models"]

_NO_CREDENTIALS = (
    "Listing shipped models only: the live catalog was not read, as it needs "
    "CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN."
)


class ModelList(NamedTuple):
    """Model ids (shipped first, the default at the top) and what the user should know of how
    they were found (each a sentence; empty when all went well)."""

    ids: list[str]
    notes: list[str]


def models(
    task: str = DEFAULT_TASK, *, refresh: bool = False, client: HasSettings | None = None
) -> list[str]:
    """Model ids for ``task``: the shipped ones (default first), then those the account's live
    catalog lists (every page) or gave a schema for, read at most once a day unless ``refresh``.
    Without credentials, only the shipped ones; when the catalog cannot be read, the shipped ones
    and whatever was saved earlier, with one warning line."""
    listed = read_models(task, refresh=refresh, client=client)
    for note in listed.notes:
        warnings.warn(note, ImageGenWarning, stacklevel=2)
    return listed.ids


def read_models(
    task: str = DEFAULT_TASK,
    *,
    refresh: bool = False,
    client: HasSettings | None = None,
    network: bool = True,
) -> ModelList:
    """:func:`models` with its warnings as notes. ``network=False`` reads nothing from the
    network: the shipped models and what an earlier read saved, however old (a panel shows
    these at once and reads the catalog in the background)."""
    shipped = list_models()
    if not network:
        settings = catalog_settings(client)
        if settings is None:
            return ModelList(shipped, [])
        store = catalog_store(settings)
        saved = store.read("list", task)
        live = list(saved[0]) if saved is not None else []
        return ModelList(_merged(shipped, live + store.saved_models()), [])
    if refresh:
        forget(refresh=True)  # schemas too are read again, each on its next use
    notes: list[str] = []
    with catalog_service(client) as service:
        if service is None:
            # Asked for, and not done: say so rather than print the same list.
            return ModelList(shipped, [_NO_CREDENTIALS] if refresh else [])
        store = catalog_store(service.settings)
        saved = store.read("list", task)
        if saved is not None and saved[1] and not refresh:
            live = list(saved[0])
        else:
            try:
                live, refused = search_models(service, task)
                store.write("list", task, live)
                if refused:
                    notes.append(
                        f"Left out {refused} name(s) in the live model catalog that are not model "
                        "ids (control characters, spaces or other symbols)."
                    )
            except (CatalogUnavailable, NotListed) as exc:
                reason = str(exc) or "the live model catalog does not know that task"
                notes.append(f"Listing shipped models only: {reason}.")
                live = list(saved[0]) if saved is not None else []
        live += store.saved_models()  # and models first used by id, whether listed or not
    return ModelList(_merged(shipped, live), notes)


def search_models(client: CatalogConnection, task: str) -> tuple[list[str], int]:
    """Every model id the catalog lists for ``task``, all pages read, through a blocking client;
    and how many names it left out as not model ids."""
    found: list[str] = []
    refused = 0
    for page in range(1, MAX_PAGES + 1):
        payload = catalog_get(client, "search", {"task": task, "page": page, "per_page": PER_PAGE})
        result = payload.get("result")
        if not isinstance(result, list):
            raise CatalogUnavailable("the live model catalog's search answer holds no list of models")
        names = [m["name"] for m in result if isinstance(m, dict) and isinstance(m.get("name"), str)]
        found += [name for name in names if is_model_id(name)]
        refused += len(names) - len([name for name in names if is_model_id(name)])
        info = payload.get("result_info")
        info = info if isinstance(info, dict) else {}
        per_page = info.get("per_page")
        per_page = per_page if isinstance(per_page, int) and per_page > 0 else PER_PAGE
        total = info.get("total_count")
        if not result or len(result) < per_page or (isinstance(total, int) and page * per_page >= total):
            break
    return list(dict.fromkeys(found)), refused


def _merged(shipped: list[str], live: list[str]) -> list[str]:
    return shipped + sorted({m for m in live if is_model_id(m)} - set(shipped))
