#!/usr/bin/env bash
# Assemble the ClinicBox disk image (build-image.sh step 5) from a finished
# root tree, the staged data partition and the FAT boot filesystem, without
# mounting anything: mkfs.ext4 -d fills each ext4 filesystem from a folder.
#
#   make-disk.sh ROOT STAGE BOOT_IMG IMAGE
#
# p1 FAT boot (BOOT_IMG), p2 ext4 root "clinicbox-root" (read-only on the
# box), p3 ext4 data "clinicbox-data" (DATA_SIZE_MB, with its journal; the
# first boot grows it to the end of the disk).
set -euo pipefail

root=${1:?usage: make-disk.sh ROOT STAGE BOOT_IMG IMAGE}
stage=${2:?}
boot_img=${3:?}
image=${4:?}
data_mb=${DATA_SIZE_MB:-256}
die() { echo "make-disk: $*" >&2; exit 1; }
[ -d "$root/usr" ] || die "$root is not a root file system"
[ -s "$boot_img" ] || die "no boot filesystem $boot_img"

work=$(mktemp -d "${image%/*}/.disk.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The root gets a quarter more than it holds (ext4's own metadata, reserved blocks).
used_mb=$(du -sm "$root" | cut -f1)
root_mb=$((used_mb + used_mb / 4 + 128))
mkfs.ext4 -q -F -L clinicbox-root -m 0 -d "$root" "$work/root.ext4" "${root_mb}M"
mkfs.ext4 -q -F -j -L clinicbox-data -d "$stage/data" "$work/data.ext4" "${data_mb}M"

boot_mb=$(($(stat -c %s "$boot_img") / 1048576))
rm -f "$image"
truncate -s "$((1 + boot_mb + root_mb + data_mb + 1))M" "$image"
mib=2048  # sectors per MiB
sfdisk -q "$image" <<SFDISK
label: dos
start=$mib, size=$((boot_mb * mib)), type=c, bootable
start=$(((1 + boot_mb) * mib)), size=$((root_mb * mib)), type=83
start=$(((1 + boot_mb + root_mb) * mib)), size=$((data_mb * mib)), type=83
SFDISK
dd if="$boot_img" of="$image" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$image" bs=1M seek=$((1 + boot_mb)) conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$image" bs=1M seek=$((1 + boot_mb + root_mb)) conv=notrunc,sparse status=none
echo "disk: boot ${boot_mb} MiB, root ${root_mb} MiB (${used_mb} MiB used), data ${data_mb} MiB"
