#!/bin/bash
# Runs inside the image's root (build-image.sh step 4, customize-image.sh,
# before install-in-chroot.sh; arm64 under qemu-user-static on other
# machines) from the exported ClinicBox source: builds every wheel the
# appliance installs, on the appliance's architecture:
# the clinicbox-pjsua2 engine from Debian's pjproject source (the same
# recipe as dev and CI: firmware/pjproject), clinicbox itself, and the pinned requirements (sqlcipher3 against
# Debian's libsqlcipher when no wheel fits; markers such as lgpio's evaluated
# for the image's machine). The build packages are removed again by
# install-in-chroot.sh.
# Built on the build host instead, compiled wheels would be x86 ones and
# environment markers would be evaluated for the wrong machine.
#
#   build-wheels-in-chroot.sh [--dry-run] [--wheelhouse DIR] [--requirements FILE]
#
# --dry-run prints the commands (and the pjproject build's own dry run)
# without installing or building anything; it runs on any machine.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# What compiling the wheels needs (build-pjproject.sh adds its own).
BUILD_PACKAGES=(python3-venv python3-dev build-essential libsqlcipher-dev libffi-dev)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
dry_run=0
wheelhouse=/tmp/clinicbox/wheelhouse
requirements=/usr/share/clinicbox/requirements.txt
work=/tmp/clinicbox/build

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --wheelhouse) wheelhouse=$2; shift ;;
        --requirements) requirements=$2; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=SCRIPTDIR/../dry-run.sh
. "$here/../dry-run.sh"

die() { echo "build-wheels-in-chroot: $*" >&2; exit 1; }

# Every compiled wheel must be for this machine: a wheel carried in from
# the host (--wheelhouse seed) would install and then fail to import.
check_platforms() {
    local whl plat bad=""
    for whl in "$wheelhouse"/*.whl; do
        [ -f "$whl" ] || continue
        plat=${whl%.whl}
        plat=${plat##*-}
        case "$plat" in
            any|*"$machine"*) ;;
            *) bad="$bad $(basename "$whl")" ;;
        esac
    done
    [ -z "$bad" ] || die "wheels for another machine in $wheelhouse:$bad; delete them and build again"
}

machine=$(uname -m)
if [ "$dry_run" -eq 0 ]; then
    [ "${CLINICBOX_IN_IMAGE_ROOT:-}" = 1 ] || [ -f /usr/share/clinicbox/requirements.txt ] \
        || die "run this inside the image's root (chroot, build-image.sh), not on a working machine"
fi

mapfile -t engine_deps < <("$src/firmware/pjproject/build-pjproject.sh" --print-deps)
run apt-get update -q
run apt-get install -y -q --no-install-recommends "${BUILD_PACKAGES[@]}" "${engine_deps[@]}"
# What install-in-chroot.sh removes again once the wheels are built.
if [ "$dry_run" -eq 0 ]; then
    printf '%s\n' "${BUILD_PACKAGES[@]}" "${engine_deps[@]}" > "$wheelhouse/../build-packages"
fi
run mkdir -p "$wheelhouse" "$work"
pjproject=("$src/firmware/pjproject/build-pjproject.sh" --work "$work/pjproject" --wheelhouse "$wheelhouse")
if [ "$dry_run" -eq 1 ]; then
    printf '+ %s\n' "${pjproject[*]}"
    "${pjproject[@]}" --dry-run | sed 's/^/    /'
else
    "${pjproject[@]}"
fi
run python3 -m venv "$work/venv"
run "$work/venv/bin/pip" wheel --no-deps -w "$wheelhouse" "$src"
run "$work/venv/bin/pip" wheel -w "$wheelhouse" --find-links "$wheelhouse" -r "$requirements"
run check_platforms
run rm -rf "$work"
