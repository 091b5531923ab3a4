"""SD-card wear hints read from a fake /sys, /proc and /etc tree (Context.root).

An SD card never reports a wear level, so the doctor must say what wears it:
a writable root, swap, a journal on the card, and how much was written.
"""

from __future__ import annotations

from pathlib import Path

from appliance.doctor import Context, Result, sdcard
from tests.conftest import clinic_config

OVERLAY_MOUNTS = """\
/dev/mmcblk0p2 /media/root-ro ext4 ro,relatime 0 0
tmpfs-root /media/root-rw tmpfs rw,relatime 0 0
overlayroot / overlay rw,relatime,lowerdir=/media/root-ro,upperdir=/media/root-rw/overlay 0 0
/dev/mmcblk0p3 /data ext4 rw,relatime 0 0
"""
WRITABLE_MOUNTS = "/dev/mmcblk0p2 / ext4 rw,noatime 0 0\n"
SWAP_ON = "Filename\tType\tSize\tUsed\tPriority\n/var/swap file 102396 0 -2\n"
SWAP_OFF = "Filename\tType\tSize\tUsed\tPriority\n"
# 4 GB written (7812500 sectors of 512 bytes) in 2 days of uptime.
MMC_STAT = "   41231   1200 2455678  9123   52112  33000  7812500  80123  0  45000  89000\n"


def tree(tmp_path: Path, *, mounts: str, swaps: str, journald: str | None, stat: str = MMC_STAT) -> Path:
    root = tmp_path / "root"
    files = {
        "proc/mounts": mounts,
        "proc/swaps": swaps,
        "proc/uptime": "172800.00 300000.00\n",
        "sys/block/mmcblk0/stat": stat,
        "sys/block/mmcblk0boot0/stat": "0 0 0 0 0 0 0 0 0 0 0\n",
    }
    if journald is not None:
        files["etc/systemd/journald.conf.d/clinicbox.conf"] = journald
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "sys/block/mmcblk0p1").mkdir(parents=True)
    return root


def run(tmp_path: Path, root: Path) -> dict[str, Result]:
    ctx = Context(clinic_config(tmp_path), root=root)
    return {r.name: r for r in sdcard.storage_wear(ctx)}


def test_the_image_as_built_is_all_ok_and_reports_gb_written(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts=OVERLAY_MOUNTS, swaps=SWAP_OFF, journald="[Journal]\nStorage=volatile\n")
    results = run(tmp_path, root)
    assert {r.status for r in results.values()} == {"OK"}
    wear = results["storage wear"].detail
    assert "mmcblk0: 4.0 GB written since boot (2.0 GB/day)" in wear
    assert "mmcblk0boot0" not in wear and "mmcblk0p1" not in wear
    assert "no wear level" in wear
    assert "overlay is active" in results["read-only root"].detail
    assert results["swap"].detail == "off"
    assert "Storage=volatile" in results["journal"].detail


def test_a_box_that_drifted_from_the_image_gets_each_hint(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts=WRITABLE_MOUNTS, swaps=SWAP_ON, journald="[Journal]\nStorage=persistent\n")
    results = run(tmp_path, root)
    assert results["read-only root"].status == "WARN" and "overlay" in results["read-only root"].fix
    assert results["swap"].status == "WARN" and "/var/swap" in results["swap"].detail
    assert "swapoff" in results["swap"].fix
    assert results["journal"].status == "WARN" and "Storage=volatile" in results["journal"].fix
    assert results["storage wear"].status == "OK"


def test_journal_storage_auto_follows_var_log_journal_and_etc_overrides_usr_lib(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts=WRITABLE_MOUNTS, swaps=SWAP_OFF, journald=None)
    assert sdcard.journal_storage(root) == "volatile"
    (root / "var/log/journal").mkdir(parents=True)
    assert sdcard.journal_storage(root) == "persistent"
    usr = root / "usr/lib/systemd/journald.conf.d"
    usr.mkdir(parents=True)
    (usr / "50-x.conf").write_text("[Journal]\nStorage=persistent\n")
    (root / "etc/systemd/journald.conf.d").mkdir(parents=True)
    (root / "etc/systemd/journald.conf.d/50-x.conf").write_text("[Journal]\nStorage=volatile\n")
    assert sdcard.journal_storage(root) == "volatile"


def test_a_persistent_journal_under_the_overlay_stays_in_ram(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts=OVERLAY_MOUNTS, swaps=SWAP_OFF, journald="[Journal]\nStorage=persistent\n")
    result = run(tmp_path, root)["journal"]
    assert result.status == "OK" and "in RAM" in result.detail


def test_emmc_life_time_still_counts(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts=OVERLAY_MOUNTS, swaps=SWAP_OFF, journald="Storage=volatile\n")
    card = root / "sys/class/mmc_host/mmc0/mmc0:0001"
    card.mkdir(parents=True)
    (card / "life_time").write_text("0x09 0x02\n")
    result = run(tmp_path, root)["storage wear"]
    assert result.status == "FAIL" and "wear level 9/10" in result.detail and "replace" in result.fix
    (card / "life_time").write_text("0x02 0x07\n")
    assert run(tmp_path, root)["storage wear"].status == "WARN"


def test_no_sd_card_is_one_ok_line(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sys/block/nvme0n1").mkdir(parents=True)
    (result,) = sdcard.storage_wear(Context(clinic_config(tmp_path), root=root))
    assert result.status == "OK" and "no SD card" in result.detail


def test_unreadable_counters_do_not_crash(tmp_path: Path) -> None:
    root = tree(tmp_path, mounts="", swaps=SWAP_OFF, journald=None, stat="garbage\n")
    results = run(tmp_path, root)
    assert "write counters unavailable" in results["storage wear"].detail
    assert results["read-only root"].status == "WARN" and "findmnt" in results["read-only root"].fix
