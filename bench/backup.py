"""Backup benchmark: time and size of a verified, sealed backup and of its
restore on a fresh box, for the demo clinic and for a large store.

    python -m bench.backup [--patients 50000] [--rows 400000] [--voicemail 100]

The large store gets ``--rows`` appointment and call rows (bench.store's
generator) and ``--voicemail`` encrypted 30-second messages (8 kHz, 16-bit,
as the box records them). Prints figures; not a test, never in CI.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.demo.seed import seed
from appliance.store import Store, backup, backup_key
from appliance.store.media import MediaVault
from bench.store import NOW, fill

PASS = "bench backup passphrase"


def measure(label: str, store: Store, work: Path) -> None:
    started = time.perf_counter()
    sealed = backup_key.seal(store.key, PASS)
    seal_s = time.perf_counter() - started
    started = time.perf_counter()
    info = backup.backup(store, work / "stick", sealed)
    backup_s = time.perf_counter() - started
    fresh = work / "fresh"
    started = time.perf_counter()
    backup.restore(info.path, fresh / "clinicbox.db", fresh / "store.key", fresh / "media", fresh, PASS)
    restore_s = time.perf_counter() - started
    db_mb = store.db_path.stat().st_size / 2**20
    print(
        f"{label}: database {db_mb:.1f} MB, {info.files - 2} media files; "
        f"backup (export, integrity check, write, read back, verify) {backup_s:.2f} s, "
        f"{info.size / 2**20:.1f} MB; sealing the key {seal_s:.2f} s; "
        f"restore on a fresh box (unseal, check, swap) {restore_s:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=50_000)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--voicemail", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cbx-bench-backup-") as tmp:
        root = Path(tmp)
        demo = seed(root / "demo", web_port=18080, sip_port=15060, now=NOW)
        cfg = load_config(demo.directory / "clinicbox.toml")
        store = Store.open(cfg.db_path, cfg.paths.key_file, media_dir=cfg.media_dir)
        measure("demo clinic", store, root / "demo-work")
        store.close()

        big = root / "big"
        store = Store.create(big / "clinicbox.db", big / "store.key", clock=FakeClock(NOW), media_dir=big / "media")
        fill(store.connection(), args.patients, args.rows, random.Random(1))
        vault = MediaVault(store)
        audio = random.Random(2).randbytes(30 * 8000 * 2)
        for i in range(args.voicemail):
            vault.write_bytes(f"voicemail/2026/03/vm-{i}.wav", audio)
        measure(f"{args.patients:,} patients, {args.rows:,} rows", store, root / "big-work")
        store.close()


if __name__ == "__main__":
    main()
