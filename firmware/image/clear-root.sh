#!/bin/bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Removes an image build's root folder. A build killed mid-way (a session's
# end, a power cut) leaves mmdebstrap's /proc, /sys, /dev/pts and /dev/shm
# mounted in it; a plain `rm -rf` would then reach through them into the
# build machine's own /proc, /sys or shared memory. This unmounts whatever is
# mounted beneath the root first, deepest first, and never crosses a mount.
set -euo pipefail

die() { echo "clear-root: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: clear-root.sh ROOT"
root=$1
[ -e "$root" ] || exit 0
[ -d "$root" ] || die "$root is not a folder"
root=$(realpath "$root")
[ "$root" != / ] || die "refusing to remove /"

# /proc/mounts writes a space in a path as \040: such a path cannot be one of
# ours (the build's folders have none), so it is compared as written.
awk -v root="$root" 'index($2, root "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mnt; do
        echo "clear-root: unmounting $mnt (left by an interrupted build)"
        umount -l "$mnt" || die "cannot unmount $mnt; remove $root by hand once it is unmounted"
    done
if grep -q " $root/" /proc/mounts; then
    die "something is still mounted under $root; nothing was removed"
fi
rm -rf --one-file-system "$root"
