"""Package a built PJSUA2 SWIG binding as the clinicbox-pjsua2 wheel.

    make_wheel.py --build SWIG_PYTHON_DIR --out WHEELHOUSE --version V --source TEXT

The wheel holds the two top-level modules the binding is imported as
(``pjsua2.py`` and ``_pjsua2*.so``), so ``import pjsua2`` works unchanged;
its distribution name tells pip, ``clinicbox doctor`` and the provisioning
report which engine a box runs. Written with the standard library only, so
the build needs no network for a build backend.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import sys
import sysconfig
import zipfile
from pathlib import Path

NAME = "clinicbox_pjsua2"


def _tag() -> str:
    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{impl}-{impl}-{plat}"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(swig_dir: Path, out: Path, version: str, source: str) -> Path:
    (module,) = swig_dir.glob("build/lib*/pjsua2.py")
    (ext,) = swig_dir.glob("build/lib*/_pjsua2*.so")
    dist_info = f"{NAME}-{version}.dist-info"
    metadata = (
        "Metadata-Version: 2.1\n"
        "Name: clinicbox-pjsua2\n"
        f"Version: {version}\n"
        "Summary: PJSUA2 Python binding built by ClinicBox from Debian's pjproject source\n"
        "License: GPL-2.0-or-later\n"
        f"Description: {source}; config_site.h and patches from firmware/pjproject; SWIG -threads\n"
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: clinicbox make_wheel.py\nRoot-Is-Purelib: false\nTag: {_tag()}\n"
    files = {
        "pjsua2.py": module.read_bytes(),
        ext.name: ext.read_bytes(),
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": wheel.encode(),
        f"{dist_info}/top_level.txt": b"_pjsua2\npjsua2\n",
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{NAME}-{version}-{_tag()}.whl"
    tmp = path.with_suffix(".tmp")
    record = [_record_line(name, data) for name, data in files.items()] + [f"{dist_info}/RECORD,,"]
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{dist_info}/RECORD", "\n".join(record) + "\n")
    tmp.replace(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    print(build(args.build, args.out, args.version, args.source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
