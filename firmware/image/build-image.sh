#!/usr/bin/env bash
# Build the ClinicBox SD-card image: Raspberry Pi OS Lite (arm64, pinned
# release) with ClinicBox installed from pinned versions, a read-only root
# (overlayroot, tmpfs upper layer) and a separate ext4 data partition for
# the database, recordings and /etc/clinicbox, so a power cut cannot
# corrupt the system.
#
#   build-image.sh [--dry-run] [--out DIR] [--keys DIR] [--wheelhouse DIR]
#
# Steps (what needs what):
#   1 fetch    download the pinned base image, check its SHA-256     network
#   2 stage    render every file the image gets into OUT/stage       any machine
#   3 source   export the ClinicBox source tree (git HEAD)           git
#   4 layout   resize the root, add the data partition (p3, ext4)    root, losetup
#   5 install  chroot: build every wheel (pjsua2, clinicbox, pinned   arm64 or qemu-user-static,
#              deps), then packages, venv, units, overlayroot         network
#   6 finish   copy boot files and the data tree, shrink, compress   root
#
# Wheels are built inside the arm64 chroot (build-wheels-in-chroot.sh), never
# on the build host: host-built wheels would be x86 ones and environment
# markers (lgpio) would be evaluated for the host. --wheelhouse DIR seeds
# the chroot's wheelhouse (arm64 wheels of an earlier build) and receives
# the wheels built.
#
# --dry-run performs step 2 for real (and compiles the panel overlay with
# dtc) and prints the commands of the other steps without running them,
# including the chroot's wheel build (lines marked "(chroot)").
# --keys is a folder of installer *.pub keys baked into the image; a real
# build refuses to run without one (no bundle could ever be applied).
# Nothing is read from the boot partition or a USB stick and executed.
set -euo pipefail

BASE_IMAGE_URL="https://downloads.raspberrypi.org/raspios_lite_arm64/images/raspios_lite_arm64-2024-03-15/2024-03-15-raspios-bookworm-arm64-lite.img.xz"
BASE_IMAGE_SHA256=58a3ec57402c86332e67789a6b8f149aeeb4e7bb0a16c9388a66ea6e07012e45
IMAGE_NAME=clinicbox-arm64
ROOT_SIZE_MB=4096
DATA_SIZE_MB=1024
# Debian packages of the appliance (versions of the pinned Raspberry Pi OS
# release; the exact set installed is recorded in /usr/share/clinicbox/packages.lock).
APT_PACKAGES=(python3-venv python3-dev build-essential libsqlcipher-dev espeak-ng sox libsox-fmt-base
    alsa-utils nginx overlayroot cloud-guest-utils openssl libasound2 libopus0 chrony kamailio)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
dry_run=0
out=$PWD/build/image
keys=""
wheelhouse=""

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --out) out=$2; shift ;;
        --keys) keys=$2; shift ;;
        --wheelhouse) wheelhouse=$2; shift ;;
        -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
stage=$out/stage
wheelhouse=${wheelhouse:-$out/wheelhouse}
image=$out/$IMAGE_NAME.img
mnt=$out/mnt

# shellcheck source=SCRIPTDIR/../dry-run.sh
. "$here/../dry-run.sh"

die() { echo "build-image: $*" >&2; exit 1; }

# -- 1 fetch ----------------------------------------------------------------------------
fetch() {
    step "1 fetch: Raspberry Pi OS Lite arm64 (2024-03-15)"
    run mkdir -p "$out"
    run curl -fsSL -o "$out/base.img.xz" "$BASE_IMAGE_URL"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ sha256sum -c  (%s  base.img.xz)\n' "$BASE_IMAGE_SHA256"
    else
        echo "$BASE_IMAGE_SHA256  $out/base.img.xz" | sha256sum -c -
    fi
    run decompress_base
}

decompress_base() { xz -dc "$out/base.img.xz" > "$image"; }

# -- 2 stage ----------------------------------------------------------------------------
copy() { install -D -m "$1" "$2" "$3"; }

stage_files() {
    step "2 stage: rendering the image's files into $stage"
    rm -rf "$stage"
    mkdir -p "$stage/boot/overlays" "$stage/root" "$stage/data"
    local boot=$stage/boot root=$stage/root data=$stage/data

    copy 0644 "$repo/firmware/boot/config.txt" "$boot/config.txt"
    dtc -@ -q -I dts -O dtb -o "$boot/overlays/clinicbox-panel.dtbo" \
        "$repo/firmware/overlays/clinicbox-panel-overlay.dts"
    # Appended to the base image's cmdline.txt: read-only root with a RAM
    # upper layer; other mounts (the data partition) are not overlaid.
    echo "overlayroot=tmpfs:recurse=0" > "$boot/cmdline.extra"

    local unit
    for unit in "$repo"/systemd/*.service "$repo"/systemd/*.timer; do
        copy 0644 "$unit" "$root/usr/lib/systemd/system/$(basename "$unit")"
    done
    copy 0644 "$repo/systemd/udev/90-clinicbox.rules" "$root/usr/lib/udev/rules.d/90-clinicbox.rules"
    copy 0644 "$repo/systemd/sysusers.d/clinicbox.conf" "$root/usr/lib/sysusers.d/clinicbox.conf"
    copy 0644 "$repo/systemd/tmpfiles.d/clinicbox.conf" "$root/usr/lib/tmpfiles.d/clinicbox.conf"
    copy 0644 "$repo/systemd/nginx/clinicbox.conf" "$root/etc/nginx/sites-available/clinicbox"
    (cd "$here/files" && find . -type f -print0) | while IFS= read -r -d '' file; do
        local mode=0644
        [ -x "$here/files/$file" ] && mode=0755
        copy "$mode" "$here/files/$file" "$root/$file"
    done
    copy 0644 "$here/requirements.txt" "$root/usr/share/clinicbox/requirements.txt"
    copy 0755 "$here/install-in-chroot.sh" "$root/usr/lib/clinicbox/install-in-chroot.sh"
    mkdir -p "$root/usr/share/clinicbox/installer-keys"
    if [ -n "$keys" ]; then
        [ -d "$keys" ] || die "--keys $keys is not a folder"
        local key count=0
        for key in "$keys"/*.pub; do
            [ -f "$key" ] || continue
            grep -q "BEGIN PUBLIC KEY" "$key" || die "$key is not a PEM public key"
            copy 0644 "$key" "$root/usr/share/clinicbox/installer-keys/$(basename "$key")"
            count=$((count + 1))
        done
        [ "$count" -gt 0 ] || die "--keys $keys holds no *.pub installer key"
    elif [ "$dry_run" -eq 0 ]; then
        die "give --keys DIR with the installer public keys (clinicbox provision keygen)"
    fi

    # fstab: PARTUUIDs are filled in from the image's disk id in step 6.
    cat > "$root/etc/fstab" <<'FSTAB'
# ClinicBox: read-only system, everything that changes on the data partition.
proc                  /proc               proc  defaults                              0 0
PARTUUID=@DISKID@-01  /boot/firmware      vfat  ro,defaults                           0 2
PARTUUID=@DISKID@-02  /                   ext4  ro,defaults,noatime                   0 1
PARTUUID=@DISKID@-03  /data               ext4  defaults,noatime,nosuid,nodev,commit=5  0 2
/data/state           /var/lib/clinicbox  none  bind,x-systemd.requires-mounts-for=/data  0 0
/data/etc-clinicbox   /etc/clinicbox      none  bind,x-systemd.requires-mounts-for=/data  0 0
FSTAB

    # The data partition's first contents: config, installer-key overrides, state.
    mkdir -p "$data/state" "$data/etc-clinicbox/installer-keys" "$data/etc-clinicbox/tls"
    copy 0644 "$here/files/usr/share/clinicbox/clinicbox.toml" "$data/etc-clinicbox/clinicbox.toml"

    # Partition plan of step 4 (sfdisk script, applied after the base partitions).
    printf 'start=, size=%sMiB, type=83\n' "$DATA_SIZE_MB" > "$stage/data-partition.sfdisk"

    (cd "$stage" && find . -type f ! -name MANIFEST -print0 | sort -z | xargs -0 sha256sum) > "$stage/MANIFEST"
    echo "staged $(wc -l < "$stage/MANIFEST") files"
}

# -- 3 source ---------------------------------------------------------------------------
sources=$out/source
chroot_tmp=/tmp/clinicbox

export_source() {
    rm -rf "$sources"
    mkdir -p "$sources"
    git -C "$repo" archive --format=tar HEAD | tar -x -C "$sources"
}

source_tree() {
    step "3 source: export ClinicBox at $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?') for the chroot"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ git -C %s archive --format=tar HEAD | tar -x -C %s\n' "$repo" "$sources"
    else
        git -C "$repo" rev-parse --verify -q HEAD > /dev/null || die "$repo is not a git checkout with a commit"
        export_source
    fi
}

# -- 4 layout ---------------------------------------------------------------------------
loop=/dev/loopN

attach() {
    loop=$(losetup -P -f --show "$image")
    echo "image attached to $loop"
}

layout() {
    step "4 layout: root partition ${ROOT_SIZE_MB} MiB, then the ${DATA_SIZE_MB} MiB data partition"
    run truncate -s "+$((ROOT_SIZE_MB + DATA_SIZE_MB))M" "$image"
    run resize_root
    run append_data_partition
    run attach
}

resize_root() { echo ", ${ROOT_SIZE_MB}M" | sfdisk --no-reread -N 2 "$image"; }

append_data_partition() { sfdisk --no-reread --append "$image" < "$stage/data-partition.sfdisk"; }

# -- 5 install --------------------------------------------------------------------------
install_chroot() {
    step "5 install: chroot into the arm64 root (qemu-user-static on other machines)"
    run e2fsck -pf "${loop}p2"
    run resize2fs "${loop}p2"
    # The data partition: ext4 with its journal, so a power cut loses at most
    # the last seconds (commit=5 in fstab) and never the filesystem.
    run mkfs.ext4 -q -j -L clinicbox-data "${loop}p3"
    run mkdir -p "$mnt"
    run mount "${loop}p2" "$mnt"
    run mount "${loop}p1" "$mnt/boot/firmware"
    run mkdir -p "$mnt/data"
    run mount "${loop}p3" "$mnt/data"
    run cp -a "$stage/root/." "$mnt/"
    run cp -a "$stage/data/." "$mnt/data/"
    run mkdir -p "$mnt$chroot_tmp/wheelhouse" "$mnt$chroot_tmp/src"
    run cp -a "$sources/." "$mnt$chroot_tmp/src/"
    if [ -d "$wheelhouse" ]; then
        run cp -a "$wheelhouse/." "$mnt$chroot_tmp/wheelhouse/"
    fi
    local fs
    for fs in proc sys dev dev/pts; do
        run mount --bind "/$fs" "$mnt/$fs"
    done
    # Every wheel is built here, on arm64, from the exported source.
    run chroot "$mnt" "$chroot_tmp/src/firmware/image/build-wheels-in-chroot.sh" \
        --wheelhouse "$chroot_tmp/wheelhouse" --requirements /usr/share/clinicbox/requirements.txt
    if [ "$dry_run" -eq 1 ]; then
        "$here/build-wheels-in-chroot.sh" --dry-run --wheelhouse "$chroot_tmp/wheelhouse" \
            --requirements /usr/share/clinicbox/requirements.txt | sed 's/^/    (chroot) /'
    fi
    run chroot "$mnt" /usr/lib/clinicbox/install-in-chroot.sh "${APT_PACKAGES[@]}"
    for fs in dev/pts dev sys proc; do
        run umount "$mnt/$fs"
    done
    # Keep the wheels built (the record of what the image holds, and a seed for the next build).
    run mkdir -p "$wheelhouse"
    run cp -a "$mnt$chroot_tmp/wheelhouse/." "$wheelhouse/"
}

# -- 6 finish ---------------------------------------------------------------------------
append_cmdline() {
    local cmdline=$mnt/boot/firmware/cmdline.txt extra
    extra=$(cat "$stage/boot/cmdline.extra")
    printf '%s %s\n' "$(tr -d '\n' < "$cmdline")" "$extra" > "$cmdline.new"
    mv "$cmdline.new" "$cmdline"
}

fill_partuuids() {
    local diskid
    diskid=$(sfdisk --disk-id "$image" | sed 's/^0x//')
    sed -i "s/@DISKID@/$diskid/" "$mnt/etc/fstab"
}

compress() {
    xz -T0 -9 -c "$image" > "$image.xz"
    (cd "$out" && sha256sum "$IMAGE_NAME.img.xz" > "$IMAGE_NAME.img.xz.sha256")
}

finish() {
    step "6 finish: boot files, fstab PARTUUIDs, unmount, compress"
    run cp "$stage/boot/config.txt" "$mnt/boot/firmware/config.txt"
    run cp "$stage/boot/overlays/clinicbox-panel.dtbo" "$mnt/boot/firmware/overlays/clinicbox-panel.dtbo"
    run append_cmdline
    run fill_partuuids
    run rm -rf "${mnt:?}$chroot_tmp"
    run umount "$mnt/data" "$mnt/boot/firmware" "$mnt"
    run losetup -d "$loop"
    run compress
}

command -v dtc > /dev/null || die "dtc is missing: apt-get install device-tree-compiler"
if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "a real build needs root (loop devices, chroot); try --dry-run"
fi
fetch
stage_files
source_tree
layout
install_chroot
finish
step "done: $image.xz"
