#!/usr/bin/env bash
# Build ClinicBox's PJSUA2 engine: pjproject from Debian 12's own source
# package `ring` (Savoir-faire Linux's pjproject fork, with Debian's security
# patches), ClinicBox's config_site.h and patches/, and the SWIG Python
# binding built with -threads (PJMEDIA's clock thread calls into Python).
# Packaged as the clinicbox-pjsua2 wheel. The same script runs on a
# developer's machine and in CI (`make`), and inside the image's arm64
# chroot (build-wheels-in-chroot.sh): one engine everywhere.
#
#   build-pjproject.sh [--dry-run] [--work DIR] [--wheelhouse DIR] [--python PY]
#   build-pjproject.sh --print-deps     (the Debian packages the build needs)
#
# The source comes through apt from the Debian archive this machine already
# uses, with a private apt configuration under --work: the machine's own apt
# setup is left as it is. Nothing is downloaded from anywhere else.
# The wheel is named after a hash of its inputs (source version, this
# script, config_site.h, the patches): when a wheel for the same inputs is
# already in --wheelhouse, nothing is built. --wheelhouse/LATEST names the
# wheel for these inputs. --dry-run checks the inputs and
# prints the commands without downloading or compiling anything.
set -euo pipefail

# The pinned source: Debian 12's ring (bookworm-security) and the pjproject
# commit inside it. A new Debian security release of ring means a new pin.
RING_VERSION=${CLINICBOX_RING_VERSION:-20230206.0~ds2-1.1+deb12u1}
PJ_COMMIT=3b78ef1c48732d238ba284cdccb04dc6de79c54f
PJ_VERSION=2.12.1
WHEEL_NAME=clinicbox_pjsua2
CONFIGURE_ARGS=(--enable-epoll --with-ssl --with-external-srtp --with-external-speex --with-external-gsm
    --disable-video --disable-ilbc-codec --disable-g7221-codec --disable-sound-portaudio --disable-libyuv
    --disable-libwebrtc --disable-opencore-amr --disable-sdl --disable-ffmpeg --disable-v4l2
    --disable-openh264 --disable-vpx --disable-silk --disable-bcg729)
# What the build needs (--print-deps: the Makefile and the image recipe install these).
# pjsua2's setup.py imports distutils: Debian's python3 splits it out.
BUILD_DEPS=(build-essential dpkg-dev swig python3-dev python3-distutils python3-setuptools libasound2-dev libssl-dev uuid-dev libopus-dev
    libsrtp2-dev libspeex-dev libspeexdsp-dev libgsm1-dev)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dry_run=0
work=${TMPDIR:-/tmp}/pjproject-build
wheelhouse=$PWD/wheelhouse
python=python3

while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) dry_run=1 ;;
        --work) work=$2; shift ;;
        --wheelhouse) wheelhouse=$2; shift ;;
        --python) python=$2; shift ;;
        --print-deps) printf '%s\n' "${BUILD_DEPS[@]}"; exit 0 ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

# shellcheck source=SCRIPTDIR/../dry-run.sh
. "$here/../dry-run.sh"

die() { echo "build-pjproject: $*" >&2; exit 1; }

patches=("$here"/patches/*.patch)

check_inputs() {
    step "check: pinned source, config_site.h and patches"
    [ -s "$here/config_site.h" ] || die "config_site.h is missing"
    [ -e "${patches[0]}" ] || die "no patches in $here/patches"
    local calls
    calls=$(cc -dM -E "$here/config_site.h" | awk '$2 == "PJSUA_MAX_CALLS" {print $3}')
    if [ -z "$calls" ] || [ "$calls" -lt 128 ]; then
        die "config_site.h must set PJSUA_MAX_CALLS to 128 or more (has '${calls}')"
    fi
    if [ "$dry_run" -eq 0 ]; then
        local missing=() pkg
        for pkg in "${BUILD_DEPS[@]}"; do
            dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
        done
        [ ${#missing[@]} -eq 0 ] || die "missing Debian packages: ${missing[*]} (apt-get install ${missing[*]})"
        command -v "$python" >/dev/null || die "no Python interpreter '$python'"
    fi
    echo "ring ${RING_VERSION}: pjproject ${PJ_VERSION} (${PJ_COMMIT:0:8}), PJSUA_MAX_CALLS=${calls}, ${#patches[@]} patch(es)"
}

# The inputs' hash names the wheel: same inputs, same wheel, no rebuild.
input_hash() {
    {
        echo "$RING_VERSION $PJ_COMMIT ${CONFIGURE_ARGS[*]}"
        cat "$0" "$here/config_site.h" "$here/make_wheel.py" "${patches[@]}"
        "$python" -c 'import sys, sysconfig; print(sys.version_info[:2], sysconfig.get_platform())' 2>/dev/null || true
    } | sha256sum | cut -c1-12
}

# deb-src lines for the Debian archive this machine's apt already names
# (deb822 .sources files and one-line .list files alike).
source_lines() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]\+\(.*debian.*\)$/deb-src \1/p' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && uris ~ /debian/) {
                    opt = signed != "" ? "[signed-by=" signed "] " : ""
                    n = split(uris, u, " "); m = split(suites, s, " ")
                    for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print "deb-src " opt u[i] " " s[j] " " comps
                }
                types = uris = suites = comps = signed = ""
            }
            /^[[:space:]]*$/ { flush(); next }
            /^#/ { next }
            { key = $1; sub(/:$/, "", key); $1 = ""; sub(/^ /, "")
              if (key == "Types") types = $0; else if (key == "URIs") uris = $0
              else if (key == "Suites") suites = $0; else if (key == "Components") comps = $0
              else if (key == "Signed-By") signed = $0 }
            END { flush() }' "$f"
    done
}

fetch() {
    step "fetch: Debian source package ring=${RING_VERSION} (private apt configuration)"
    local apt="$work/apt"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Sandbox::User=root)
    if [ "$dry_run" -eq 1 ]; then
        printf '+ write %s/sources.list (deb-src for the archive in /etc/apt)\n' "$apt"
    else
        mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
        source_lines | sort -u > "$apt/sources.list"
        [ -s "$apt/sources.list" ] || die "no Debian archive in /etc/apt/sources.list{,.d}: cannot fetch the ring source"
    fi
    run apt-get "${opts[@]}" -q update
    if [ "$dry_run" -eq 0 ] && [ -d "$work/ring" ] && [ -f "$work/ring/.version-$RING_VERSION" ]; then
        echo "source already unpacked in $work/ring"
        return
    fi
    run rm -rf "$work/ring"
    run mkdir -p "$work/ring"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ (cd %s/ring && apt-get source ring=%s)\n' "$work" "$RING_VERSION"
        return
    fi
    if ! (cd "$work/ring" && apt-get "${opts[@]}" -q source "ring=${RING_VERSION}"); then
        local have
        have=$(apt-cache "${opts[@]}" showsrc ring 2>/dev/null | awk '/^Version:/ {print $2}' | sort -u | tr '\n' ' ')
        die "cannot fetch ring=${RING_VERSION} from the Debian archive (it has: ${have:-nothing}). If Debian released a newer security update, pin it in RING_VERSION."
    fi
    touch "$work/ring/.version-$RING_VERSION"
}

pj_source() {
    echo "$work/ring/ring-${RING_VERSION%%-*}/daemon/contrib/tarballs-unpacked/pjproject-${PJ_COMMIT}.tar.gz/pjproject-${PJ_COMMIT}"
}

build() {
    local src="$work/pjproject"
    step "build: pjproject ${PJ_VERSION} with config_site.h and ClinicBox's patches"
    if [ "$dry_run" -eq 0 ]; then
        [ -d "$(pj_source)" ] || die "the ring source has no pjproject-${PJ_COMMIT} tree (looked in $(pj_source))"
        local minor=${PJ_VERSION#*.}
        grep -q "PJ_VERSION_MINOR *:= *${minor%%.*}\$" "$(pj_source)/version.mak" \
            || die "the pjproject tree in ring is not ${PJ_VERSION}"
    fi
    run rm -rf "$src"
    run cp -a "$(pj_source)" "$src"
    local p
    for p in "${patches[@]}"; do
        run patch -d "$src" -p1 --forward --quiet -i "$p"
    done
    run cp "$here/config_site.h" "$src/pjlib/include/pj/config_site.h"
    run env -C "$src" ./configure "${CONFIGURE_ARGS[@]}" CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"
    run make -C "$src" dep
    run make -C "$src" -j"$(nproc)" lib  # the libraries only: no pjsip tests or sample apps
    step "build: the SWIG Python binding (-threads) for $python"
    run make -C "$src/pjsip-apps/src/swig/python" PYTHON_EXE="$python" \
        USE_THREADS="-threads -DSWIG_NO_EXPORT_ITERATOR_METHODS"
}

package() {
    local src="$work/pjproject" hash=$1
    step "package: ${WHEEL_NAME} ${PJ_VERSION}+deb.${hash} into ${wheelhouse}"
    run mkdir -p "$wheelhouse"
    if [ "$dry_run" -eq 1 ]; then
        printf '+ %s make_wheel.py --out %s --version %s\n' "$python" "$wheelhouse" "${PJ_VERSION}+deb.${hash}"
        return
    fi
    # LATEST names the wheel just built, for `make` to install.
    "$python" "$here/make_wheel.py" --build "$src/pjsip-apps/src/swig/python" --out "$wheelhouse" \
        --version "${PJ_VERSION}+deb.${hash}" --source "ring ${RING_VERSION}, pjproject ${PJ_COMMIT}" \
        > "$wheelhouse/LATEST"
}

check_inputs
hash=$(input_hash)
if [ "$dry_run" -eq 0 ] && compgen -G "$wheelhouse/${WHEEL_NAME}-${PJ_VERSION}+deb.${hash}-*.whl" >/dev/null; then
    echo "engine ${WHEEL_NAME} ${PJ_VERSION}+deb.${hash} is already built in ${wheelhouse}"
    compgen -G "$wheelhouse/${WHEEL_NAME}-${PJ_VERSION}+deb.${hash}-*.whl" | head -n1 > "$wheelhouse/LATEST"
    exit 0
fi
started=$(date +%s)
fetch
build
package "$hash"
run rm -rf "$work/pjproject"
step "done in $(($(date +%s) - started)) s: pip install --no-index --find-links ${wheelhouse} ${WHEEL_NAME}"
