#!/usr/bin/env bash
# Build the ClinicBox disk image from Debian 12's own packages (mmdebstrap):
# the pinned packages of packages.txt, ClinicBox in /opt/clinicbox with the
# PJSUA2 engine built from the same source as dev and CI, the units, nginx
# with TLS, chrony, a read-only root (overlayroot: the initramfs mounts the
# root partition read-only under a RAM overlay) and a separate ext4 data
# partition for the store, recordings and /etc/clinicbox.
#
#   build-image.sh [--arch amd64|arm64] [--board virt|pi] [--out DIR] [--keys DIR]
#                  [--engine-wheel FILE] [--test-access] [--packages FILE]
#                  [--keyring FILE] [--mirror URL] [--security-mirror URL]
#                  [--check-only] [--dry-run]
#
# Boards: virt (amd64 or arm64; UEFI firmware -> systemd-boot on the FAT
# partition; QEMU, a PC) and pi (arm64; raspi-firmware on the FAT partition).
# Disk: p1 FAT (boot), p2 ext4 root (read-only), p3 ext4 data (grown to
# the end of the disk at first boot).
#
# Steps (what needs what):
#   1 check    keyring, tools, every pin of packages.txt in the archive   apt, network
#   2 stage    render every file the image gets into OUT/stage            any machine
#   3 source   export the ClinicBox source tree (git-tracked files)       git
#   4 root     mmdebstrap the pinned packages; in the chroot: build the
#              engine (build-pjproject.sh) and the wheels, install the
#              venv, units, users, overlayroot (customize-image.sh)       root, qemu-user-static (arm64)
#   5 disk     FAT boot, ext4 root and data filesystems, partition table  root
# The image is named after a hash of every input (this recipe, the package
# pins, staged files, the source, the engine wheel, the keys): a build with
# the same inputs reuses OUT/clinicbox-ARCH-BOARD-HASH.img. OUT/ARCH-BOARD.img
# links to the latest.
#
# --engine-wheel FILE seeds the chroot's wheelhouse with an engine built by
# build-pjproject.sh on a machine of the same architecture and Python; the
# chroot's build-pjproject.sh then finds the wheel for its inputs and skips
# compiling (a wheel for other inputs is not used). --test-access adds
# openssh-server and a unit that installs root's key from QEMU's fw_cfg
# (opt/clinicbox/ssh-key): for the boot tests only, never for a box.
# --check-only stops after step 1. --dry-run performs steps 2 and 3 for real
# and prints the commands of the others.
set -euo pipefail

SUITE=bookworm
MIRROR=http://deb.debian.org/debian
SECURITY_MIRROR=http://deb.debian.org/debian-security
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
BOOT_SIZE_MB=256
DATA_SIZE_MB=256

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=amd64 board=virt out=$PWD/build/image keys="" engine_wheel="" test_access=0
packages=$here/packages.txt check_only=0 dry_run=0
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) arch=$2; shift ;;
        --board) board=$2; shift ;;
        --out) out=$2; shift ;;
        --keys) keys=$2; shift ;;
        --engine-wheel) engine_wheel=$2; shift ;;
        --test-access) test_access=1 ;;
        --packages) packages=$2; shift ;;
        --keyring) KEYRING=$2; shift ;;
        --mirror) MIRROR=$2; shift ;;
        --security-mirror) SECURITY_MIRROR=$2; shift ;;
        --check-only) check_only=1 ;;
        --dry-run) dry_run=1 ;;
        -h|--help) sed -n '2,38p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
name=clinicbox-$arch-$board
stage=$out/stage-$arch-$board
sources=$out/source
apt_dir=$out/apt-$arch

# shellcheck source=SCRIPTDIR/../dry-run.sh
. "$here/../dry-run.sh"
die() { echo "build-image: $*" >&2; exit 1; }

case "$arch/$board" in
    amd64/virt | arm64/virt | arm64/pi) ;;
    *) die "no $board board for $arch: use --arch amd64 --board virt, --arch arm64 --board virt or --arch arm64 --board pi" ;;
esac
components=main
[ "$board" = pi ] && components="main non-free-firmware"

# -- 1 check ----------------------------------------------------------------------------
# The pins for this image: NAME=VERSION lines whose tags (if any) name the arch or board.
read_pins() {
    [ -f "$packages" ] || die "package list $packages is missing"
    awk -v arch="$arch" -v board="$board" -v test="$test_access" '
        /^[[:space:]]*(#|$)/ { next }
        {
            if ($1 !~ /^[a-z0-9][a-z0-9+.-]*=[A-Za-z0-9.+:~-]+$/) {
                printf "line %d: \"%s\" is not NAME=VERSION [TAG...]\n", NR, $0 > "/dev/stderr"; bad = 1; next
            }
            keep = NF == 1
            for (i = 2; i <= NF; i++) if ($i == arch || $i == board || ($i == "test" && test == 1)) keep = 1
            if (keep) print $1
        }
        END { exit bad }' "$packages" || die "$packages has malformed lines (above)"
}

apt_opts() {
    printf '%s\n' -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::Status=$apt_dir/status" \
        -o "Dir::Cache=$apt_dir/cache" -o "APT::Architecture=$arch" -o "APT::Architectures=$arch" \
        -o APT::Sandbox::User=root -o Debug::NoLocking=1
}

source_list() {
    local signed="[arch=$arch signed-by=$KEYRING]"
    echo "deb $signed $MIRROR $SUITE $components"
    echo "deb $signed $MIRROR $SUITE-updates $components"
    echo "deb $signed $SECURITY_MIRROR $SUITE-security $components"
}

check() {
    step "1 check: keyring, tools and the pinned packages of $(basename "$packages") in Debian $SUITE ($arch)"
    [ -f "$KEYRING" ] || die "the Debian archive keyring $KEYRING is missing: apt-get install debian-archive-keyring, or give --keyring FILE"
    [ -s "$KEYRING" ] || die "the Debian archive keyring $KEYRING is empty"
    local tool
    for tool in mmdebstrap mkfs.ext4 sfdisk mkfs.vfat mcopy; do
        command -v "$tool" > /dev/null || die "$tool is missing: apt-get install mmdebstrap e2fsprogs fdisk dosfstools mtools"
    done
    if [ "$arch" != "$(dpkg --print-architecture)" ] && ! command -v arch-test > /dev/null; then
        die "building $arch here needs arch-test (mmdebstrap's check of foreign architectures): apt-get install arch-test"
    fi
    if [ "$arch" != "$(dpkg --print-architecture)" ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
        die "building $arch here needs qemu-user-static with binfmt-support (no qemu-aarch64 handler registered)"
    fi
    if [ "$arch" != "$(dpkg --print-architecture)" ] && ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64; then
        die "the qemu-aarch64 binfmt handler is disabled: update-binfmts --enable qemu-aarch64"
    fi
    local listed
    listed=$(read_pins) || exit 1
    mapfile -t pins <<< "$listed"
    [ -n "$listed" ] || die "$packages pins no package for $arch/$board"
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
    : > "$apt_dir/status"
    source_list > "$apt_dir/sources.list"
    local opts log=$apt_dir/update.log
    mapfile -t opts < <(apt_opts)
    if ! apt-get "${opts[@]}" -q update > "$log" 2>&1 || grep -q '^\(W\|E\): .*\(NO_PUBKEY\|not signed\|EXPKEYSIG\|BADSIG\)' "$log"; then
        grep -E '^(W|E):' "$log" >&2 || true
        die "apt cannot read Debian $SUITE from $MIRROR with the keyring $KEYRING (above): the archive's Release must be signed by a key in it"
    fi
    # One apt-cache call for every pin (each call reads the whole cache).
    local pin bad=() have shown
    shown=$(apt-cache "${opts[@]}" show "${pins[@]}" 2> /dev/null | awk '/^Package: /{p=$2} /^Version: /{print p "=" $2}' || true)
    for pin in "${pins[@]}"; do
        if ! grep -qxF "$pin" <<< "$shown"; then
            have=$(apt-cache "${opts[@]}" madison "${pin%%=*}" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); print $2}' | sort -u | tr '\n' ' ')
            bad+=("${pin%%=*} ${pin#*=} (the archive has: ${have:-no such package})")
        fi
    done
    if [ ${#bad[@]} -gt 0 ]; then
        printf '  %s\n' "${bad[@]}" >&2
        die "${#bad[@]} pin(s) in $packages are not in Debian $SUITE for $arch (above): pin a version the archive has"
    fi
    echo "${#pins[@]} pinned packages found in $SUITE for $arch"
}

# -- 2 stage ----------------------------------------------------------------------------
copy() { install -D -m "$1" "$2" "$3"; }

stage_files() {
    step "2 stage: rendering the image's files into $stage"
    rm -rf "$stage"
    mkdir -p "$stage/boot/overlays" "$stage/root" "$stage/data"
    local boot=$stage/boot root=$stage/root data=$stage/data console=ttyS0
    [ "$arch" = arm64 ] && console=ttyAMA0
    # Kernel command line (systemd-boot entry or the Pi's cmdline.txt). The
    # read-only root is overlayroot's (its configuration below, in the root).
    echo "root=LABEL=clinicbox-root ro rootwait console=tty1 console=$console,115200 panic=10" > "$boot/cmdline.txt"
    if [ "$board" = pi ]; then
        copy 0644 "$repo/firmware/boot/config.txt" "$boot/config.txt"
        if command -v dtc > /dev/null; then
            dtc -@ -q -I dts -O dtb -o "$boot/overlays/clinicbox-panel.dtbo" "$repo/firmware/overlays/clinicbox-panel-overlay.dts"
        else
            die "dtc is missing: apt-get install device-tree-compiler"
        fi
    fi

    local unit
    for unit in "$repo"/systemd/*.service "$repo"/systemd/*.timer "$repo"/systemd/*.path; do
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
    if [ "$test_access" -eq 1 ]; then
        (cd "$here/test-access" && find . -type f -print0) | while IFS= read -r -d '' file; do
            local mode=0644
            [ -x "$here/test-access/$file" ] && mode=0755
            copy "$mode" "$here/test-access/$file" "$root/$file"
        done
    fi
    copy 0644 "$here/requirements.txt" "$root/usr/share/clinicbox/requirements.txt"
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

    # Mount points: the root is read-only, systemd cannot make them at boot.
    mkdir -p "$root/data" "$root/var/lib/clinicbox" "$root/var/lib/clinicbox-edge" "$root/etc/clinicbox" "$root/boot/firmware"
    cat > "$root/etc/fstab" <<'FSTAB'
# ClinicBox: read-only system (overlayroot: RAM over the root partition),
# everything that changes on the data partition.
LABEL=clinicbox-root  /                   ext4  ro,noatime                                0 0
LABEL=CLINICBOX       /boot/firmware      vfat  ro,noauto,nofail                          0 0
# nofail: a corrupt or missing data partition must not stop the boot in
# emergency mode; clinicbox-data-fault.service reports it instead.
# x-systemd.before keeps the mounts ordered before local-fs.target (nofail
# alone drops that), so every unit still finds /etc/clinicbox mounted; a
# partition whose label never shows up is given up after 5 minutes.
LABEL=clinicbox-data  /data               ext4  defaults,noatime,nosuid,nodev,commit=5,nofail,x-systemd.before=local-fs.target,x-systemd.device-timeout=5min  0 2
/data/state           /var/lib/clinicbox  none  bind,nofail,x-systemd.before=local-fs.target,x-systemd.requires-mounts-for=/data  0 0
/data/etc-clinicbox   /etc/clinicbox      none  bind,nofail,x-systemd.before=local-fs.target,x-systemd.requires-mounts-for=/data  0 0
# The SIP edge's state (desk phones' registrations, its TLS pair): kept across
# a reboot; systemd's StateDirectory= gives it to the edge's user at start.
/data/edge-state      /var/lib/clinicbox-edge  none  bind,nofail,x-systemd.before=local-fs.target,x-systemd.requires-mounts-for=/data  0 0
FSTAB
    # overlayroot: RAM as the upper layer; recurse=0 leaves the data
    # partition (and its bind mounts) writable. overlayroot=disabled on the
    # kernel command line gives a technician the real root.
    echo 'overlayroot="tmpfs:recurse=0"' > "$root/etc/overlayroot.local.conf"

    # The data partition's first contents: config, installer-key overrides, state.
    mkdir -p "$data/state" "$data/etc-clinicbox/installer-keys" "$data/etc-clinicbox/tls"
    install -d -m 0700 "$data/edge-state"
    copy 0644 "$here/files/usr/share/clinicbox/clinicbox.toml" "$data/etc-clinicbox/clinicbox.toml"
    if [ "$board" = virt ]; then
        # A PC or VM has no status panel on GPIO pins. Only [panel]'s key:
        # [edge] enabled = true stays (the SIP edge runs on every image).
        sed -i '/^\[panel\]$/,/^\[/ s/^enabled = true$/# virt board: no GPIO status panel.\nenabled = false/' \
            "$data/etc-clinicbox/clinicbox.toml"
    fi

    (cd "$stage" && find . -type f ! -name MANIFEST -print0 | sort -z | xargs -0 sha256sum) > "$stage/MANIFEST"
    echo "staged $(wc -l < "$stage/MANIFEST") files"
}

# -- 3 source ---------------------------------------------------------------------------
source_tree() {
    step "3 source: export ClinicBox's git-tracked files (with uncommitted changes) for the chroot"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ git -C %s ls-files | tar -C %s -c | tar -x -C %s\n' "$repo" "$repo" "$sources"
        return
    fi
    git -C "$repo" rev-parse --verify -q HEAD > /dev/null || die "$repo is not a git checkout with a commit"
    rm -rf "$sources"
    mkdir -p "$sources"
    (cd "$repo" && git ls-files -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
        | tar -c --null -T - -f -) | tar -x -C "$sources"
}

# -- inputs hash --------------------------------------------------------------------------
input_hash() {
    {
        echo "$SUITE $MIRROR $SECURITY_MIRROR $arch $board $test_access"
        read_pins
        sha256sum "$0" "$here/customize-image.sh" "$here/make-disk.sh"
        cat "$stage/MANIFEST"
        (cd "$sources" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
        [ -z "$engine_wheel" ] || sha256sum "$engine_wheel"
    } | sha256sum | cut -c1-12
}

# -- 4 root -----------------------------------------------------------------------------
bootstrap() {
    local rootdir=$1 pins
    pins=$(read_pins | paste -sd, -)
    step "4 root: mmdebstrap Debian $SUITE $arch with $(read_pins | wc -l) pinned packages, then ClinicBox in the chroot"
    local wheelhouse=$out/wheelhouse-$arch
    run mkdir -p "$wheelhouse"
    if [ -n "$engine_wheel" ]; then
        [ -f "$engine_wheel" ] || die "--engine-wheel $engine_wheel is not a file"
        # A wheel compiled for another machine (make image passes the dev
        # machine's amd64 engine) cannot seed an arm64 chroot: it is left out
        # and the chroot compiles its own (build-wheels-in-chroot.sh refuses
        # foreign wheels in its wheelhouse).
        local machine=x86_64
        [ "$arch" = arm64 ] && machine=aarch64
        case "$(basename "$engine_wheel")" in
            *"_$machine.whl") run cp "$engine_wheel" "$wheelhouse/" ;;
            *) echo "not seeding the $arch chroot with $(basename "$engine_wheel") (another machine's): compiling the engine there" ;;
        esac
    fi
    # A build killed mid-way leaves mounts in its root: clear-root.sh removes it safely.
    run "$here/clear-root.sh" "$rootdir"
    # The hooks get the root as $1; customize-image.sh does the ClinicBox part.
    run env CLINICBOX_STAGE="$stage/root" CLINICBOX_SOURCE="$sources" CLINICBOX_WHEELHOUSE="$wheelhouse" \
        CLINICBOX_BOARD="$board" CLINICBOX_TEST_ACCESS="$test_access" CLINICBOX_BOOT_IMG="$rootdir.boot.img" \
        BOOT_SIZE_MB="$BOOT_SIZE_MB" \
        mmdebstrap --mode=root --variant=minbase --architectures="$arch" --components="${components// /,}" \
        --keyring="$KEYRING" --aptopt='Acquire::Retries "3"' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/man/*' \
        --include="$pins" --customize-hook="$here/customize-image.sh \"\$1\"" \
        "$SUITE" "$rootdir" "$(source_list)"
}

# -- main -------------------------------------------------------------------------------
if [ "$dry_run" -eq 0 ] && [ "$check_only" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    die "a real build needs root (mmdebstrap --mode=root, chroot); try --dry-run or --check-only"
fi
if [ "$dry_run" -eq 1 ]; then
    step "1 check: keyring, tools and the pinned packages (not run in a dry run)"
    printf '+ apt-get update; apt-cache show NAME=VERSION for each of %s pins (keyring %s)\n' \
        "$(read_pins | wc -l)" "$KEYRING"
else
    mkdir -p "$out"
    check
fi
[ "$check_only" -eq 1 ] && exit 0
stage_files
source_tree
if [ "$dry_run" -eq 1 ]; then
    bootstrap "$out/root-$arch-$board"
    printf '+ %s/make-disk.sh %s %s %s %s\n' "$here" "$out/root-$arch-$board" "$stage" \
        "$out/root-$arch-$board.boot.img" "$out/$name-HASH.img"
    exit 0
fi
hash=$(input_hash)
image=$out/$name-$hash.img
if [ -s "$image" ]; then
    step "reusing $image (same inputs)"
else
    started=$(date +%s)
    rootdir=$out/root-$arch-$board
    bootstrap "$rootdir"
    step "5 disk: FAT boot, ext4 root, ext4 data"
    DATA_SIZE_MB=$DATA_SIZE_MB "$here/make-disk.sh" "$rootdir" "$stage" "$rootdir.boot.img" "$image.tmp"
    cp "$rootdir/usr/share/clinicbox/packages.lock" "$out/$name-$hash.packages.lock"
    cp "$rootdir/usr/share/clinicbox/python.lock" "$out/$name-$hash.python.lock"
    mv "$image.tmp" "$image"
    rm -rf "$rootdir" "$rootdir.boot.img"
    echo "built in $(($(date +%s) - started)) s"
fi
ln -sfn "$(basename "$image")" "$out/$arch-$board.img"
step "done: $image ($(du -m --apparent-size "$image" | cut -f1) MiB, $(du -m "$image" | cut -f1) MiB used)"
