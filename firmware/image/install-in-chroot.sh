#!/bin/bash
# Runs inside the image's root (customize-image.sh, after
# build-wheels-in-chroot.sh built the wheelhouse there): installs ClinicBox
# and its pinned Python packages from the wheelhouse (no index: exactly what
# was built), removes the build packages again, creates the users, enables
# the units, builds the initramfs with the read-only root (overlayroot) and
# records every version installed.
#
#   install-in-chroot.sh WHEELHOUSE TEST_ACCESS(0|1)
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

wheelhouse=${1:?usage: install-in-chroot.sh WHEELHOUSE TEST_ACCESS}
test_access=${2:-0}
engine=$(cat "$wheelhouse/LATEST")
[ -f "$engine" ] || { echo "install-in-chroot: the engine wheel $engine is missing" >&2; exit 1; }

python3 -m venv /opt/clinicbox
/opt/clinicbox/bin/pip install -q --no-index --find-links "$wheelhouse" -r /usr/share/clinicbox/requirements.txt
/opt/clinicbox/bin/pip install -q --no-index --no-deps "$engine"
/opt/clinicbox/bin/pip install -q --no-index --no-deps --find-links "$wheelhouse" clinicbox
ln -sf /opt/clinicbox/bin/clinicbox /usr/bin/clinicbox

# Compilers, headers and SWIG were only for the wheels.
if [ -f "$wheelhouse/../build-packages" ]; then
    mapfile -t build < "$wheelhouse/../build-packages"
    apt-get purge -y -q --autoremove "${build[@]}" > /dev/null
fi

systemd-sysusers
rm -f /etc/nginx/sites-enabled/default
ln -sf ../sites-available/clinicbox /etc/nginx/sites-enabled/clinicbox
systemctl enable clinicbox-first-boot.service clinicbox-core.service clinicbox-web.service \
    clinicbox-backup.timer clinicbox-usb-reset.path clinicbox-restore.path nginx.service chrony.service systemd-networkd.service
# The SIP edge is Debian's kamailio run by clinicbox-edge.service with the box's
# own script; the package's stock service (its sample config on 5060) must not start.
systemctl mask kamailio.service
systemctl enable clinicbox-edge.service
# Reports an unmountable data partition (fstab nofail) instead of an emergency shell.
systemctl enable clinicbox-data-fault.service
if [ "$test_access" = 1 ]; then
    systemctl enable clinicbox-test-access.service ssh.service
fi
# No package updates on the box (its root is read-only; a new image is the update).
systemctl mask apt-daily.timer apt-daily-upgrade.timer
# The journal is volatile (journald.conf.d): no /var/log/journal on a read-only root.
rm -rf /var/log/journal

# Read-only root: overlayroot in the initramfs (configured in /etc/overlayroot.local.conf).
update-initramfs -u -k all

# Every box generates its own machine id at boot (the root stays read-only).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
echo clinicbox > /etc/hostname

dpkg-query -W -f '${Package}=${Version}\n' > /usr/share/clinicbox/packages.lock
/opt/clinicbox/bin/pip freeze --all > /usr/share/clinicbox/python.lock
