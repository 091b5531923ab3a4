"""Who is using the store: running services hold a shared lock, maintenance
(restore, rekey) needs it exclusively, so it cannot pull the database from
under a running core or web UI."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from appliance.errors import StoreError


class StoreLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / ".store.lock"
        self._fd: int | None = None

    def acquire_shared(self) -> None:
        self._acquire(fcntl.LOCK_SH)

    def acquire_exclusive(self) -> None:
        try:
            self._acquire(fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                "the store is in use by a running ClinicBox service; stop it first "
                "(sudo systemctl stop clinicbox-core clinicbox-web) and retry"
            ) from None

    def _acquire(self, mode: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
