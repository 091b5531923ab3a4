#!/bin/bash
# Runs inside the image's arm64 root (build-image.sh step 5, after
# build-wheels-in-chroot.sh built the wheelhouse there): installs the
# Debian packages given as arguments, ClinicBox and its pinned Python
# packages from the wheelhouse (no index: exactly what was built), enables
# the units and the read-only root, and records every version installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

[ $# -gt 0 ] || { echo "usage: install-in-chroot.sh PACKAGE..." >&2; exit 2; }

apt-get update
apt-get install -y --no-install-recommends "$@"
# No swap file and no saved clock on a read-only root: swap would wear the
# card, and ClinicBox trusts only NTP or the mobile network for the time.
apt-get purge -y dphys-swapfile fake-hwclock || true

python3 -m venv /opt/clinicbox
/opt/clinicbox/bin/pip install --no-index --find-links /tmp/clinicbox/wheelhouse \
    -r /usr/share/clinicbox/requirements.txt
/opt/clinicbox/bin/pip install --no-index --no-deps --find-links /tmp/clinicbox/wheelhouse clinicbox-pjsua2 clinicbox
ln -sf /opt/clinicbox/bin/clinicbox /usr/bin/clinicbox

systemd-sysusers
rm -f /etc/nginx/sites-enabled/default
ln -sf ../sites-available/clinicbox /etc/nginx/sites-enabled/clinicbox
systemctl enable clinicbox-first-boot.service clinicbox-core.service clinicbox-web.service \
    clinicbox-backup.timer clinicbox-usb-reset.path nginx.service chrony.service
# The SIP edge is Debian's kamailio run by clinicbox-edge.service with the box's
# own script; the package's stock service (its sample config on 5060) must not start.
systemctl mask kamailio.service
systemctl enable clinicbox-edge.service

# Read-only root: overlayroot in the initramfs, RAM as the upper layer;
# recurse=0 leaves the data partition (and its bind mounts) writable.
echo 'overlayroot="tmpfs:recurse=0"' > /etc/overlayroot.local.conf
update-initramfs -u -k all

# Every box generates its own machine id at boot (the root stays read-only).
: > /etc/machine-id
echo clinicbox > /etc/hostname

dpkg-query -W -f '${Package}=${Version}\n' > /usr/share/clinicbox/packages.lock
/opt/clinicbox/bin/pip freeze --all > /usr/share/clinicbox/python.lock
apt-get clean
rm -rf /var/lib/apt/lists/*
