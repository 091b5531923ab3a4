#!/usr/bin/env bash
# Build pjproject's Python bindings (PJSUA2) for the appliance from the
# pinned release source, with ClinicBox's config_site.h, and package them as
# the pjsua2-python wheel the clinicbox package depends on (no arm64 wheel
# exists on PyPI). Run on an arm64 machine or inside the image's arm64
# chroot: build-wheels-in-chroot.sh calls it there (build-image.sh step 5).
#
#   build-pjproject.sh [--dry-run] [--work DIR] [--wheelhouse DIR]
#
# --dry-run checks the pinned source and config_site.h and prints the
# commands of the build without downloading or compiling anything.
set -euo pipefail

PJ_VERSION=2.15.1
PJ_URL="https://github.com/pjsip/pjproject/archive/refs/tags/${PJ_VERSION}.tar.gz"
PJ_SHA256=8f3bd99caf003f96ed8038b8a36031eb9d8cd9eaea1eaff7e01c2eef6bd55706
WHEEL_NAME=pjsua2-python
WHEEL_VERSION="${PJ_VERSION}.post1"
BUILD_DEPS=(build-essential swig python3-dev python3-venv python3-pip libasound2-dev libssl-dev uuid-dev libopus-dev curl ca-certificates)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dry_run=0
work=${TMPDIR:-/tmp}/pjproject-build
wheelhouse=$PWD/wheelhouse

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --work) work=$2; shift ;;
        --wheelhouse) wheelhouse=$2; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=SCRIPTDIR/../dry-run.sh
. "$here/../dry-run.sh"

check_inputs() {
    step "check: pinned source and config_site.h"
    [[ $PJ_SHA256 =~ ^[0-9a-f]{64}$ ]] || { echo "PJ_SHA256 is not a SHA-256" >&2; exit 1; }
    [ -s "$here/config_site.h" ] || { echo "config_site.h is missing" >&2; exit 1; }
    local calls
    calls=$(cc -dM -E "$here/config_site.h" | awk '$2 == "PJSUA_MAX_CALLS" {print $3}')
    if [ -z "$calls" ] || [ "$calls" -lt 128 ]; then
        echo "config_site.h must set PJSUA_MAX_CALLS to 128 or more (has '${calls}')" >&2
        exit 1
    fi
    echo "pjproject ${PJ_VERSION} (${PJ_SHA256}), PJSUA_MAX_CALLS=${calls}"
}

fetch() {
    step "fetch: ${PJ_URL}"
    run mkdir -p "$work"
    run curl -fsSL -o "$work/pjproject-${PJ_VERSION}.tar.gz" "$PJ_URL"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ sha256sum -c  (%s)\n' "$PJ_SHA256"
    else
        echo "${PJ_SHA256}  $work/pjproject-${PJ_VERSION}.tar.gz" | sha256sum -c -
    fi
    run tar -xzf "$work/pjproject-${PJ_VERSION}.tar.gz" -C "$work"
}

build() {
    local src="$work/pjproject-${PJ_VERSION}"
    step "build: pjproject with config_site.h (static libraries linked into the binding)"
    run apt-get install -y --no-install-recommends "${BUILD_DEPS[@]}"
    run cp "$here/config_site.h" "$src/pjlib/include/pj/config_site.h"
    run env -C "$src" ./configure --disable-video --disable-sound-portaudio --disable-libyuv \
        --disable-libwebrtc --disable-opencore-amr --disable-sdl --disable-ffmpeg --disable-v4l2 \
        --enable-epoll --with-ssl CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"
    run make -C "$src" dep
    run make -C "$src" -j"$(nproc)"
    step "build: the SWIG Python binding"
    run make -C "$src/pjsip-apps/src/swig/python"
}

package() {
    local src="$work/pjproject-${PJ_VERSION}"
    local pkg="$work/wheel/pjsua2"
    step "package: ${WHEEL_NAME}==${WHEEL_VERSION} into ${wheelhouse}"
    run mkdir -p "$pkg" "$wheelhouse"
    run cp "$src/pjsip-apps/src/swig/python/pjsua2.py" "$pkg/pjsua2.py"
    run find "$src/pjsip-apps/src/swig/python/build" -name "_pjsua2*.so" -exec cp {} "$pkg/" ";"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ write %s/__init__.py, %s/pyproject.toml and setup.py\n' "$pkg" "$work/wheel"
    else
        printf 'from .pjsua2 import *  # noqa: F401,F403\n__version__ = "%s"\n' "$WHEEL_VERSION" > "$pkg/__init__.py"
        cat > "$work/wheel/pyproject.toml" <<TOML
[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "${WHEEL_NAME}"
version = "${WHEEL_VERSION}"
description = "PJSUA2 Python bindings, pjproject ${PJ_VERSION} built with ClinicBox's config_site.h"

[tool.setuptools]
packages = ["pjsua2"]

[tool.setuptools.package-data]
pjsua2 = ["*.so"]
TOML
        # A binary distribution: the wheel is tagged for this platform (linux_aarch64).
        cat > "$work/wheel/setup.py" <<'PY'
from setuptools import setup
from setuptools.dist import Distribution


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(distclass=BinaryDistribution)
PY
    fi
    run python3 -m pip wheel --no-deps -w "$wheelhouse" "$work/wheel"
}

check_inputs
fetch
build
package
step "done: install with pip install --no-index --find-links ${wheelhouse} ${WHEEL_NAME}==${WHEEL_VERSION}"
