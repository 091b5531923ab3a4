"""Checking import rows in parallel, for large files.

Checking a patient row (phone numbers, dates, names in six scripts) costs
more CPU than writing it, and rows are independent: for big files the
checks run in forked worker processes while this process writes the rows
that are already checked. A fork copies only the calling thread, which is
safe only when there is no other thread (the CLI, the provisioning run);
in a threaded process (the web UI) rows are checked in-process. Small
files too. The result is the same either way.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from appliance.errors import ClinicBoxError
from appliance.store.patient_input import patient_from_row

log = logging.getLogger(__name__)

#: Below this many rows, starting workers costs more than it saves.
PARALLEL_MIN_ROWS = 5000
CHUNK = 2000

Checked = tuple[int, str | None, Any, str | None]  # line, import key, item, error


def check_patient_rows(rows: list[tuple[int, dict[str, str]]], region: str, language: str) -> list[Checked]:
    """Validate patient rows (runs in a worker or in-process)."""
    out: list[Checked] = []
    for line, row in rows:
        try:
            item = patient_from_row(row, region, language)
        except ClinicBoxError as exc:
            out.append((line, None, None, str(exc)))
        else:
            out.append((line, item.import_key(), item, None))
    return out


def _workers() -> int:
    return max(0, min(3, (os.cpu_count() or 1) - 1)) or (1 if (os.cpu_count() or 1) >= 2 else 0)


def check_all(rows: list[tuple[int, dict[str, str]]], region: str, language: str) -> Iterator[Checked]:
    """Yield every row's check result, in file order."""
    workers = _workers()
    if len(rows) < PARALLEL_MIN_ROWS or workers == 0 or threading.active_count() > 1:
        yield from check_patient_rows(rows, region, language)
        return
    chunks = [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]
    try:
        ctx = multiprocessing.get_context("fork")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    except (OSError, ValueError) as exc:
        log.warning("import: parallel checking unavailable (%s); checking in-process", exc)
        yield from check_patient_rows(rows, region, language)
        return
    with pool:
        # The first chunk is checked here while the workers start up.
        futures = [pool.submit(check_patient_rows, chunk, region, language) for chunk in chunks[1:]]
        yield from check_patient_rows(chunks[0], region, language)
        for future in futures:
            yield from future.result()
