"""Config section for USB-stick provisioning: trusted keys, limits, targets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.config.schema import setting


@dataclass(frozen=True)
class ProvisioningSettings:
    keys_dir: Path = setting(
        doc="Installer public keys baked into the image (*.pub, PEM). A bundle must be signed by one of them."
    )
    local_keys_dir: Path = setting(
        doc="Keys added on this box; a file here with the same name as one in keys_dir replaces it "
        "(an empty file revokes that key)."
    )
    tls_dir: Path = setting(doc="Where a bundle's web UI certificate and key are installed (nginx reads them).")
    mount_dir: Path = setting(doc="Where a provisioning stick is mounted (read-only, nosuid, nodev, noexec).")
    max_bundle_mb: int = setting(doc="Refuse a bundle larger than this in total.", min=1, max=65536)
    service_manager: str = setting(
        doc="How changed services are restarted: systemctl (the appliance) or none (log what would restart).",
        choices=("systemctl", "none"),
    )
