"""An interrupted image build leaves mounts in its root; the next build removes
that root without reaching through them into the build machine."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

CLEAR_ROOT = Path(__file__).resolve().parents[3] / "firmware/image/clear-root.sh"


def _in_own_mount_namespace(script: str) -> subprocess.CompletedProcess[str]:
    # A private mount namespace: a mount the test makes (or leaves behind when it
    # fails) never shows on the machine. Root maps to root; anyone else to a
    # user namespace's root.
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.insert(1, "--map-root-user")
    return subprocess.run([*unshare, "bash", "-euc", script], capture_output=True, text=True, timeout=60)


def test_a_root_left_mounted_is_removed_without_touching_what_is_mounted_in_it(tmp_path: Path) -> None:
    # The build machine's own folder, bind-mounted into the root the way
    # mmdebstrap mounts /proc and /sys there.
    host = tmp_path / "host-proc"
    host.mkdir()
    (host / "keep-me").write_text("the build machine's\n")
    root = tmp_path / "root-arm64-pi"
    (root / "proc").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "etc/hostname").write_text("clinicbox\n")
    done = _in_own_mount_namespace(
        f"mount --bind {host} {root}/proc\ngrep -q ' {root}/proc ' /proc/mounts\n{CLEAR_ROOT} {root}\n"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"unmounting {root}/proc" in done.stdout
    assert not root.exists()
    assert (host / "keep-me").read_text() == "the build machine's\n"


def test_a_plain_root_is_removed_and_a_missing_one_is_fine(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "usr/bin/tool").write_text("x")
    subprocess.run([str(CLEAR_ROOT), str(root)], check=True, timeout=30)
    assert not root.exists()
    subprocess.run([str(CLEAR_ROOT), str(root)], check=True, timeout=30)


@pytest.mark.parametrize("target", ["/", "a-file"])
def test_it_refuses_what_is_not_a_build_root(tmp_path: Path, target: str) -> None:
    path = Path(target) if target == "/" else tmp_path / target
    if target != "/":
        path.write_text("data\n")
    done = subprocess.run([str(CLEAR_ROOT), str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode != 0
    assert "clear-root:" in done.stderr
    if target != "/":
        assert path.read_text() == "data\n"
