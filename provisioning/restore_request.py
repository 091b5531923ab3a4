"""Restoring a backup stick at first-run setup: the web UI asks, a root helper does it.

A technician replacing a broken box plugs the old box's backup stick into
the new one and, on the web UI's setup page (claimed with the one-time
setup code, only while the box has no manager), picks "Restore from the
USB backup stick" and gives the backup passphrase. The web UI (user
``clinicbox``) can neither stop the core nor write the store key (root's,
handed to the services by systemd), so it only checks the passphrase and
the archive against the stick's newest verified backup and writes a
request, ``<run_dir>/restore.request`` (0600: that backup's path and the
passphrase). ``clinicbox-restore.path`` starts the root helper
(``clinicbox provision restore --serve-request``, :func:`serve_request`),
which removes the request at once, checks again (the file lies in a
mounted backup stick's folder; the box still has no manager), stops the
core and the web UI, restores (the previous store and key kept beside
them), gives the files to the service user, starts both again and
records the outcome in ``<state_dir>/restore-status.json``; the setup
page shows it when it failed (on success setup is gone: the old box's
managers log in).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.config import Config
from appliance.errors import ClinicBoxError, ProvisioningError
from appliance.store import Store, backup, backup_list, sticks
from appliance.store.repos import make_repos
from provisioning.plan import CORE, WEB
from provisioning.services import ServiceManager

log = logging.getLogger(__name__)

REQUEST = "restore.request"
STATUS = "restore-status.json"


def request_path(cfg: Config) -> Path:
    return cfg.paths.run_dir / REQUEST


def _write_private(path: Path, data: dict[str, Any], mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_request(cfg: Config, tar: Path, passphrase: str) -> Path:
    """Ask the root helper to restore ``tar`` (the web UI's side)."""
    path = request_path(cfg)
    _write_private(path, {"backup": str(tar), "passphrase": passphrase}, 0o600)
    return path


def read_status(cfg: Config) -> dict[str, Any] | None:
    """The last restore's outcome, or ``None``."""
    try:
        data = json.loads((cfg.paths.state_dir / STATUS).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def stick_backup(cfg: Config) -> Path | None:
    """The newest verified backup on the one backup stick plugged in, or ``None``."""
    found = sticks.sticks(cfg)
    return backup_list.newest_on(found[0].folder) if len(found) == 1 else None


def _check(cfg: Config, tar: Path) -> None:
    """The request names a backup on a mounted stick, and the box is still fresh.

    Raises:
        ProvisioningError: why the restore is refused (nothing was stopped).
    """
    real = Path(os.path.realpath(tar))
    if not any(real.parent == Path(os.path.realpath(s.folder)) for s in sticks.sticks(cfg)) or not real.is_file():
        raise ProvisioningError(f"{tar} is not a backup on a plugged-in USB backup stick; nothing was restored")
    if not cfg.db_path.exists():
        return
    store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
    try:
        if store.locked:
            raise ProvisioningError("this box's store is passphrase-protected: not a fresh box; nothing was restored")
        if make_repos(cfg, store).users.has_manager():
            raise ProvisioningError("this box already has a manager: setup restores only on a fresh box")
    finally:
        store.close()


def serve_request(cfg: Config, services: ServiceManager) -> dict[str, Any]:
    """Carry out a pending restore request (the root helper's side); returns the recorded outcome."""
    path = request_path(cfg)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"ok": False, "reason": "no restore was requested"}
    except (OSError, ValueError) as exc:
        data = {"error": str(exc)}
    finally:
        path.unlink(missing_ok=True)
    tar = Path(str(data.get("backup", "")))
    outcome: dict[str, Any] = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "backup": tar.name}
    stopped = False
    try:
        if "error" in data or not isinstance(data.get("passphrase"), str):
            raise ProvisioningError("the restore request is damaged; nothing was restored")
        _check(cfg, tar)
        services.run("stop", [CORE, WEB])
        stopped = True
        info = backup.restore(
            tar, cfg.db_path, cfg.paths.key_file, cfg.media_dir, cfg.paths.state_dir, str(data["passphrase"])
        )
        outcome |= {"ok": True, "reason": "", "created_at": info.created_at}
        log.info("restored the backup of %s from %s at setup", info.created_at, tar)
    except ClinicBoxError as exc:
        outcome |= {"ok": False, "reason": str(exc)}
        log.error("restore at setup refused: %s", exc)
    finally:
        if stopped:
            services.run("start", [CORE, WEB])
    _write_private(cfg.paths.state_dir / STATUS, outcome, 0o640)
    return outcome
