"""Starting the edge: render its scripts, then become Kamailio.

``clinicbox edge`` (systemd's ``clinicbox-edge.service``, and a child of
``clinicbox demo``) renders ``kamailio.cfg`` and ``security.cfg`` into
``paths.edge_dir`` and replaces itself with Kamailio in the foreground
(``-DD -E``: no daemon, log to stderr, so journald or the demo's console
gets it). The edge never reads the secrets file: the desk phones' HA1
hashes come from the table the core writes (:mod:`.credentials`).

Before it binds the SIP ports a new edge waits for the one before it (the
pid file's process group) to be gone: the core restarts the edge to take a
changed setting, and the old one must have let go of its sockets and
written its last registrations (:mod:`.location`), which the new one loads.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from appliance.config import Config
from appliance.edge import credentials, location, script, tls
from appliance.errors import EdgeError

log = logging.getLogger(__name__)

#: Kamailio's shared and private memory (MB): small enough for a Pi, ample for a clinic.
SHM_MB = 32
PKG_MB = 8
#: How long a new edge waits for the previous Kamailio to exit (it stops within a second or two).
OLD_EDGE_WAIT_S = 20.0
#: prctl(2): the signal the kernel sends a process when its parent dies.
PR_SET_PDEATHSIG = 1


def kamailio_program(cfg: Config) -> str:
    found = shutil.which(cfg.edge.kamailio) or (cfg.edge.kamailio if os.access(cfg.edge.kamailio, os.X_OK) else "")
    if not found:
        raise EdgeError(f"edge.kamailio: {cfg.edge.kamailio!r} is not installed (apt-get install kamailio)")
    return found


def prepare(cfg: Config) -> list[str]:
    """Render the scripts into ``paths.edge_dir``; the argv that starts Kamailio on them.

    Raises:
        EdgeError: the config cannot be rendered or kamailio is missing.
    """
    program = kamailio_program(cfg)
    folder = Path(cfg.paths.edge_dir)
    if cfg.edge.tls_port:
        tls.files(cfg)  # a configured pair checked, else the self-signed one made once
    try:
        main = script.write(cfg, folder, script.render(cfg))
        _ensure_table(cfg)
        (folder / "run").mkdir(exist_ok=True)
    except OSError as exc:
        raise EdgeError(f"paths.edge_dir: cannot write {folder} ({exc.strerror})") from None
    state = Path(cfg.paths.edge_state_dir)
    try:
        location.ensure_tables(state)
    except OSError as exc:
        raise EdgeError(f"paths.edge_state_dir: cannot write {state} ({exc.strerror})") from None
    return [
        program,
        "-f",
        str(main),
        "-DD",
        "-E",
        "-m",
        str(SHM_MB),
        "-M",
        str(PKG_MB),
        "-w",
        str(folder),
        "-P",
        str(folder / "kamailio.pid"),
        "-Y",
        str(folder / "run"),
    ]


def _ensure_table(cfg: Config) -> None:
    """Kamailio refuses to start without its credentials table: an empty one until the core writes it."""
    table = credentials.credentials_dir(cfg) / credentials.TABLE
    if table.exists():
        return
    try:
        table.parent.mkdir(parents=True, exist_ok=True)
        table.write_text(credentials.HEADER + "\n", encoding="utf-8")
    except PermissionError:
        raise EdgeError(
            f"{table} does not exist yet: the core writes it at its start (start clinicbox-core first)"
        ) from None


def wait_for_old_edge(folder: Path, timeout: float = OLD_EDGE_WAIT_S) -> None:
    """Return once no Kamailio of the previous edge (its pid file's process group) is left.

    Raises:
        EdgeError: it is still running after ``timeout`` seconds (the message says which pid).
    """
    try:
        old = int((folder / "kamailio.pid").read_text(encoding="ascii").strip())
    except (FileNotFoundError, ValueError):
        return
    deadline = time.monotonic() + timeout
    waited = False
    while _kamailio_in_group(old):
        if time.monotonic() > deadline:
            raise EdgeError(f"the previous SIP edge (kamailio, pid {old}) has not exited after {timeout:.0f} s")
        if not waited:
            log.info("waiting for the previous SIP edge (pid %d) to exit", old)
            waited = True
        time.sleep(0.05)


def _kamailio_in_group(pgid: int) -> bool:
    """Whether a kamailio process of process group ``pgid`` still runs (a reused pid is not one)."""
    if pgid <= 1 or pgid == os.getpgid(0):
        return False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        comm_end = stat.rfind(")")
        fields = stat[comm_end + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z" and "kamailio" in stat[:comm_end]:
            return True
    return False


def check(argv: list[str]) -> None:
    """Kamailio's own syntax check of the rendered script (``kamailio -c``).

    Raises:
        EdgeError: the script does not parse (Kamailio's complaint attached).
    """
    done = subprocess.run([argv[0], "-c", "-f", argv[2]], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr + done.stdout).splitlines() if "ERROR" in ln or "CRITICAL" in ln]
        raise EdgeError("the rendered edge script does not parse: " + ("; ".join(lines[-3:]) or "see kamailio -c"))


def exec_kamailio(argv: list[str]) -> None:
    """Become Kamailio (never returns), leading its own process group.

    The core restarts the edge with the RPC ``core.kill``, which signals
    Kamailio's whole process group: it must hold Kamailio's processes only,
    never the parent that started it (``clinicbox demo``, a test). Under
    systemd the service already leads its own session (setpgid refuses).
    """
    wait_for_old_edge(Path(argv[argv.index("-w") + 1]))
    log.info("starting the SIP edge: %s", " ".join(argv))
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _stop_with_parent()
    os.execv(argv[0], argv)


def _stop_with_parent() -> None:
    """Have the kernel send Kamailio SIGTERM if the process that started it dies.

    Outside systemd (``clinicbox demo``, a test) that parent may be killed
    without stopping the edge. Kamailio then runs on unsupervised, and if its
    main process is later killed on its own its TCP workers are orphaned and
    spin, logging "receive_fd(): EOF" as fast as they can until the disk is
    full. On SIGTERM Kamailio stops its workers itself. Under systemd the
    parent is PID 1, which does not die; the setting survives exec.
    """
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning("cannot ask to stop the edge with its parent: %s", os.strerror(ctypes.get_errno()))
            return
    except (OSError, AttributeError):  # no prctl (not Linux)
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        raise SystemExit("the process that started the SIP edge is gone: not starting it")
