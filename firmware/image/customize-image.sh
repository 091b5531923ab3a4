#!/usr/bin/env bash
# mmdebstrap's customize hook (build-image.sh step 4), run on the build host
# with the new root as $1 (its /proc, /sys and /dev mounted by mmdebstrap):
# copies the staged files in, builds the engine and the wheels in the chroot
# (build-wheels-in-chroot.sh), installs ClinicBox (install-in-chroot.sh),
# then makes the FAT boot filesystem the disk gets as its first partition
# (systemd-boot for the virt board, raspi-firmware's files for the Pi).
#
# Environment (set by build-image.sh): CLINICBOX_STAGE (staged root tree and,
# beside it, boot/), CLINICBOX_SOURCE (exported source), CLINICBOX_WHEELHOUSE
# (seed, and receives the wheels built), CLINICBOX_BOARD (virt|pi),
# CLINICBOX_TEST_ACCESS (0|1), CLINICBOX_BOOT_IMG (where the FAT image goes),
# BOOT_SIZE_MB.
set -euo pipefail

root=${1:?usage: customize-image.sh ROOT}
tmp=/tmp/clinicbox
die() { echo "customize-image: $*" >&2; exit 1; }
[ -d "$root/usr" ] || die "$root is not a root file system"

cp -a "$CLINICBOX_STAGE/." "$root/"
rm -rf "${root:?}$tmp"
mkdir -p "$root$tmp"
cp -a "$CLINICBOX_SOURCE" "$root$tmp/src"
cp -a "$CLINICBOX_WHEELHOUSE" "$root$tmp/wheelhouse"
# pip in the chroot reaches PyPI through the same certificate authorities as this machine.
cp /etc/ssl/certs/ca-certificates.crt "$root$tmp/host-ca.crt"
in_root() { chroot "$root" env -u PIP_FIND_LINKS -u PIP_CONSTRAINT PIP_CERT=$tmp/host-ca.crt \
    REQUESTS_CA_BUNDLE=$tmp/host-ca.crt SSL_CERT_FILE=$tmp/host-ca.crt CURL_CA_BUNDLE=$tmp/host-ca.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 DEBIAN_FRONTEND=noninteractive "$@"; }

in_root "$tmp/src/firmware/image/build-wheels-in-chroot.sh" --wheelhouse "$tmp/wheelhouse" \
    --requirements /usr/share/clinicbox/requirements.txt
in_root "$tmp/src/firmware/image/install-in-chroot.sh" "$tmp/wheelhouse" "$CLINICBOX_TEST_ACCESS"
cp -a "$root$tmp/wheelhouse/." "$CLINICBOX_WHEELHOUSE/"

# The boot partition, made inside the chroot with its own (build-only) FAT tools.
bootfs=$root$tmp/bootfs
mkdir -p "$bootfs"
kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)
[ -n "$kernel" ] || die "no kernel in $root/boot"
version=${kernel##*/vmlinuz-}
cmdline=$(cat "$CLINICBOX_STAGE/../boot/cmdline.txt")
case "$CLINICBOX_BOARD" in
    virt)
        efi=$(find "$root/usr/lib/systemd/boot/efi" -name 'systemd-boot*.efi' | head -n1)
        [ -n "$efi" ] || die "systemd-boot-efi is not installed in the root"
        machine=${efi##*/systemd-boot}
        mkdir -p "$bootfs/EFI/BOOT" "$bootfs/loader/entries"
        upper=$(echo "${machine%.efi}" | tr '[:lower:]' '[:upper:]')
        cp "$efi" "$bootfs/EFI/BOOT/BOOT$upper.EFI"
        # Debian's arm64 vmlinuz is a gzip'd Image, which only GRUB unpacks;
        # systemd-boot starts the Image itself (an EFI application).
        if [ "$(head -c2 "$kernel" | od -An -tx1 | tr -d ' ')" = 1f8b ]; then
            gzip -dc "$kernel" > "$bootfs/vmlinuz"
        else
            cp "$kernel" "$bootfs/vmlinuz"
        fi
        cp "$root/boot/initrd.img-$version" "$bootfs/initrd.img"
        printf 'default clinicbox.conf\ntimeout 0\neditor no\n' > "$bootfs/loader/loader.conf"
        printf 'title ClinicBox (%s)\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' "$version" "$cmdline" \
            > "$bootfs/loader/entries/clinicbox.conf"
        ;;
    pi)
        # raspi-firmware's kernel hook filled /boot/firmware: the Pi's boot
        # files, the kernel, initrd and device trees. ClinicBox adds its own.
        cp -a "$root/boot/firmware/." "$bootfs/"
        # Debian's config.txt names its kernel and initrd (kernel=vmlinuz-*,
        # initramfs initrd.img-*; the firmware would look for kernel8.img
        # otherwise): ClinicBox's settings go after it, never instead of it.
        grep -q "^kernel=vmlinuz-$version\$" "$bootfs/config.txt" \
            || die "raspi-firmware wrote no kernel=vmlinuz-$version line into /boot/firmware/config.txt"
        grep -q "^initramfs initrd.img-$version\$" "$bootfs/config.txt" \
            || die "raspi-firmware wrote no initramfs line for $version into /boot/firmware/config.txt"
        if [ ! -f "$bootfs/vmlinuz-$version" ] || [ ! -f "$bootfs/initrd.img-$version" ]; then
            die "the kernel or initrd $version is missing from /boot/firmware"
        fi
        {
            cat "$bootfs/config.txt"
            printf '\n# ClinicBox (firmware/boot/config.txt)\n'
            cat "$CLINICBOX_STAGE/../boot/config.txt"
        } > "$root$tmp/config.txt"
        mv "$root$tmp/config.txt" "$bootfs/config.txt"
        mkdir -p "$bootfs/overlays"
        cp "$CLINICBOX_STAGE/../boot/overlays/clinicbox-panel.dtbo" "$bootfs/overlays/"
        echo "$cmdline" > "$bootfs/cmdline.txt"
        ;;
    *) die "unknown board $CLINICBOX_BOARD" ;;
esac
# The FAT boot partition is made with the host's dosfstools and mtools (checked
# by build-image.sh): installing them in the chroot and purging them again ran
# update-initramfs twice, minutes each under qemu-user.
mkfs.vfat -C -F 32 -n CLINICBOX "$root$tmp/boot.img" $((BOOT_SIZE_MB * 1024)) > /dev/null
mcopy -s -i "$root$tmp/boot.img" "$root$tmp/bootfs"/* ::/
mv "$root$tmp/boot.img" "$CLINICBOX_BOOT_IMG"
in_root apt-get clean
rm -rf "${root:?}$tmp" "$root"/var/lib/apt/lists/* "$root"/root/.cache
