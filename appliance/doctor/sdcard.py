"""Doctor checks of SD-card wear: what a Raspberry Pi's SD card can tell us.

SD cards do not report a wear level (only eMMC modules fill in
``life_time``), so the useful hints are about what wears the card: is the
read-only root overlay active, is swap off, does the journal live in RAM,
and how much has been written to the card since boot. The image
(firmware/image) sets all three; a box that drifted from it is a WARN.

Every path is read under ``ctx.root`` (``/`` on the box), so a test hands
the checks a fake ``/sys``, ``/proc`` and ``/etc`` in a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

from appliance.doctor import Context, Result, check, fail, ok, warn

SECTOR_BYTES = 512  # /sys/block/*/stat counts 512-byte sectors whatever the card's block size
#: Index of "sectors written" in /sys/block/<dev>/stat (Documentation/block/stat.rst).
STAT_WRITE_SECTORS = 6
JOURNALD_CONF = "etc/systemd/journald.conf"
JOURNALD_DROPINS = ("usr/lib/systemd/journald.conf.d", "etc/systemd/journald.conf.d")  # later wins


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def mmc_devices(root: Path) -> list[str]:
    """Whole SD/eMMC block devices (``mmcblk0``), not their partitions or boot areas."""
    names = (p.name for p in (root / "sys/block").glob("mmcblk*"))
    return sorted(n for n in names if n[len("mmcblk") :].isdigit())


def emmc_wear(root: Path) -> tuple[str, int] | None:
    """(card, worst life-time estimate 1-11) where an eMMC reports one; SD cards never do."""
    for life in sorted((root / "sys/class/mmc_host").glob("mmc*/mmc*:*/life_time")):
        try:
            a, b = _read(life).split()
            return life.parent.name, max(int(a, 16), int(b, 16))
        except ValueError:
            continue
    return None


def bytes_written(root: Path, device: str) -> int | None:
    """Bytes written to ``device`` since boot, from ``/sys/block/<device>/stat``."""
    fields = _read(root / "sys/block" / device / "stat").split()
    try:
        return int(fields[STAT_WRITE_SECTORS]) * SECTOR_BYTES
    except (IndexError, ValueError):
        return None


def uptime_s(root: Path) -> float | None:
    try:
        return float(_read(root / "proc/uptime").split()[0])
    except (IndexError, ValueError):
        return None


def root_mount(root: Path) -> tuple[str, list[str]] | None:
    """(fs type, options) of ``/`` as mounted last (an overlay stacks on the real root)."""
    found = None
    for line in _read(root / "proc/mounts").splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[1] == "/":
            found = (parts[2], parts[3].split(","))
    return found


def swap_areas(root: Path) -> list[str]:
    """Active swap areas from ``/proc/swaps`` (its first line is a header)."""
    return [line.split()[0] for line in _read(root / "proc/swaps").splitlines()[1:] if line.strip()]


def journal_storage(root: Path) -> str:
    """journald's effective ``Storage=``: the main file, then drop-ins in name order, last wins.

    A drop-in in ``/etc`` replaces one of the same name in ``/usr/lib``, as systemd does.
    """
    dropins: dict[str, Path] = {}
    for folder in JOURNALD_DROPINS:
        for path in (root / folder).glob("*.conf"):
            dropins[path.name] = path
    storage = "auto"
    for path in [root / JOURNALD_CONF, *(dropins[n] for n in sorted(dropins))]:
        for line in _read(path).splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key.strip() == "Storage":
                storage = value.strip().lower()
    if storage == "auto":
        return "persistent" if (root / "var/log/journal").is_dir() else "volatile"
    return storage


@check("storage wear", order=11)
def storage_wear(ctx: Context) -> list[Result]:
    root = ctx.root
    devices = mmc_devices(root)
    if not devices:
        return [ok("storage wear", "no SD card or eMMC on this machine: no wear hints")]
    mount = root_mount(root)
    overlay_active = mount is not None and mount[0] == "overlay"
    return [_wear_level(root, devices), _root_overlay(mount), _swap(root), _journal(root, overlay_active)]


def _wear_level(root: Path, devices: list[str]) -> Result:
    name = "storage wear"
    written = []
    up = uptime_s(root)
    for device in devices:
        count = bytes_written(root, device)
        if count is None:
            continue
        text = f"{device}: {count / 1e9:.1f} GB written since boot"
        if up and up >= 3600:
            text += f" ({count / 1e9 / (up / 86400):.1f} GB/day)"
        written.append(text)
    writes = "; ".join(written) or "write counters unavailable"
    emmc = emmc_wear(root)
    if emmc is None:
        return ok(name, f"{writes}; the SD card reports no wear level (only eMMC does)")
    card, level = emmc
    detail = f"{writes}; {card}: wear level {level}/10"
    if level >= 9:
        return fail(name, detail, "the card is worn out: replace it and restore the last backup")
    if level >= 7:
        return warn(name, detail, "plan a card replacement")
    return ok(name, detail)


def _root_overlay(mount: tuple[str, list[str]] | None) -> Result:
    name = "read-only root"
    if mount is None:
        return warn(name, "cannot tell how / is mounted (/proc/mounts unreadable)", "run `findmnt /` on the box")
    fstype, options = mount
    if fstype == "overlay":
        return ok(name, "the root overlay is active: system writes go to RAM, a power cut cannot corrupt /")
    if "ro" in options:
        return ok(name, f"/ is mounted read-only ({fstype})")
    return warn(
        name,
        f"/ is writable ({fstype}, no overlay): every system write wears the card and a power cut can corrupt it",
        "enable the overlay (overlayroot in the ClinicBox image; `sudo raspi-config` > Performance > Overlay) "
        "and reboot",
    )


def _swap(root: Path) -> Result:
    areas = swap_areas(root)
    if not areas:
        return ok("swap", "off")
    return warn(
        "swap",
        f"swap is on ({', '.join(areas)}): paging writes wear the SD card",
        "sudo swapoff -a; sudo apt purge dphys-swapfile",
    )


def _journal(root: Path, overlay_active: bool) -> Result:
    storage = journal_storage(root)
    if storage in ("volatile", "none"):
        return ok("journal", f"in RAM (Storage={storage})")
    if overlay_active:
        return ok("journal", f"Storage={storage}, but the root overlay keeps /var/log/journal in RAM")
    return warn(
        "journal",
        f"the system journal is written to the card (Storage={storage})",
        "set Storage=volatile in /etc/systemd/journald.conf.d/clinicbox.conf and restart systemd-journald",
    )
