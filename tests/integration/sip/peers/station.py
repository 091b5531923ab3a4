"""The real ``clinicbox station`` / ``clinicbox gsm-gateway`` program as a test peer."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.integration.sip.peers.common import REPO, child_env, stop

_CONTACT = re.compile(r"(?:station|GSM gateway) (\S+) at (sip:\S+),")

MINIMAL_CONFIG = """\
config_version = 1
simulate = {simulate}

[clinic]
name = "Test Clinic"
country = "US"
timezone = "America/New_York"
languages = ["en"]
default_language = "en"

[paths]
state_dir = "."
run_dir = "run"
key_file = "store.key"
secrets_file = "secrets.toml"

[clock]
assume_synced = true

[logging]
level = "INFO"

[sip]
bind_address = "127.0.0.1"
port = {sip_port}
"""


def write_station_config(
    directory: Path, stations: dict[str, dict[str, object]], sip_port: int = 5060, *, simulate: bool = True
) -> Path:
    """A minimal clinic config with ``stations`` (passwords go to secrets.toml, 0600).

    Args:
        stations: id → settings; a ``password`` key is written to the secrets file.
        simulate: ``simulate = true`` makes stations use no sound device at all;
            false lets them look for one (the PyPI PJSUA2 build has none).

    Returns:
        The path of clinicbox.toml.
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [MINIMAL_CONFIG.format(sip_port=sip_port, simulate="true" if simulate else "false")]
    secrets = []
    for sid, settings in stations.items():
        lines.append(f"[stations.{sid}]")
        for key, value in settings.items():
            if key == "password":
                secrets.append(f'[stations.{sid}]\npassword = "{value}"\n')
            elif isinstance(value, list):
                lines.append(f"{key} = [{', '.join(repr(v).replace(chr(39), chr(34)) for v in value)}]")
            else:
                lines.append(f'{key} = "{value}"')
        lines.append("")
    config = directory / "clinicbox.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    secrets_path = directory / "secrets.toml"
    secrets_path.write_text("\n".join(secrets), encoding="utf-8")
    secrets_path.chmod(0o600)
    return config


class StationProc:
    """One station process; its stderr log is collected for assertions.

    Example:
        >>> with StationProc(cfg, tmp_path, station="desk1", core=core.contact) as st:  # doctest: +SKIP
        ...     st.contact        # sip:desk1@127.0.0.1:PORT, from its start-up log line
    """

    def __init__(
        self,
        config: Path,
        logdir: Path,
        *,
        station: str = "",
        card: str = "",
        core: str = "",
        port: int = 0,
        gateway: bool = False,
        asound_root: Path | None = None,
        ready_timeout: float = 10.0,
        env: dict[str, str] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        argv = [sys.executable, "-m", "appliance", "--config", str(config)]
        argv += ["gsm-gateway"] if gateway else ["station"]
        if station:
            argv += ["--station", station]
        if card:
            argv += ["--card", card]
        if core:
            argv += ["--core", core]
        argv += ["--port", str(port)]
        if asound_root is not None:
            argv += ["--asound-root", str(asound_root)]
        self.argv = argv
        self.log = Path(logdir) / f"station-{station or card or 'gsm'}-{id(self)}.log"
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=child_env(**(env or {})),
            cwd=REPO,
            pass_fds=pass_fds,
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.contact = ""
        self.station = station
        if ready_timeout:
            m = self.wait_log(_CONTACT, ready_timeout)
            self.station, self.contact = m.group(1), m.group(2)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.log.open("w", encoding="utf-8") as fh:
            for raw in self.proc.stdout:
                line = raw.decode("utf-8", "replace").rstrip("\n")
                fh.write(line + "\n")
                fh.flush()
                with self._lock:
                    self.lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def count(self, pattern: str | re.Pattern[str]) -> int:
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self._lock:
            return sum(1 for line in self.lines if rx.search(line))

    def wait_log(self, pattern: str | re.Pattern[str], timeout: float = 5.0, count: int = 1) -> re.Match[str]:
        """Wait until ``count`` log lines match; the last match.

        Raises:
            AssertionError: not in time, or the process ended (with its log).
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None
            if exited:
                time.sleep(0.2)  # let the reader take the last lines
            with self._lock:
                hits = [m for m in map(rx.search, self.lines) if m]
            if len(hits) >= count:
                return hits[count - 1]
            if exited:
                raise AssertionError(
                    f"station exited ({self.proc.returncode}) before logging {rx.pattern!r}:\n{self.text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"station did not log {rx.pattern!r} within {timeout} s:\n{self.text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 8.0) -> int:
        return stop(self.proc, sig, timeout)

    def __enter__(self) -> StationProc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
