"""Doctor check of the image's data partition: the fault that the image's
``clinicbox-data-fault.service`` records in ``/run/clinicbox-data-fault``
when the partition holding the configuration, the store and its key cannot
be mounted at boot (the box boots on, with ``nofail``, instead of stopping in
an emergency shell). The check runs before the configuration is read, since
the configuration lives on that partition."""

from __future__ import annotations

from pathlib import Path

from appliance.doctor import Result, fail

#: Written by firmware/image/files/usr/lib/clinicbox/data-fault.
FAULT_FILE = Path("/run/clinicbox-data-fault")
FIX = (
    "the SD card's data partition is damaged: replace the SD card with a new one "
    "flashed with the image and restore the last backup (README: Backups)"
)


def data_partition_fault(fault_file: Path = FAULT_FILE) -> Result | None:
    """A FAIL naming why the data partition is not mounted, or None when no fault was recorded."""
    try:
        detail = fault_file.read_text(encoding="utf-8", errors="replace").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        detail = f"a data partition fault was recorded but cannot be read: {exc}"
    return fail("data partition", detail or "the data partition cannot be mounted", FIX)
