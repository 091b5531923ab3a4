"""``clinicbox provision``: make, sign and check USB bundles; apply one on the box.

On the technician's laptop::

    clinicbox provision keygen --out ~/clinicbox-installer.key
    clinicbox provision sign /media/stick/clinicbox-provision --key ~/clinicbox-installer.key
    clinicbox provision check /media/stick --keys ~/installer-keys/

On the box, udev starts ``clinicbox-provision@sdb1.service``, which runs
``clinicbox provision apply /dev/sdb1``.
"""

from __future__ import annotations

import argparse
import stat
import sys
from pathlib import Path

from appliance.config import config_path_from_env, load_config
from appliance.errors import ConfigError, ProvisioningError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg,unused-ignore]
    p = sub.add_parser("provision", help="USB-stick provisioning: keygen, sign, check, apply")
    psub = p.add_subparsers(dest="provision_command", metavar="ACTION", required=True)

    q = psub.add_parser("check", help="check a bundle as the box would (signature, files, configuration)")
    q.add_argument("dir", metavar="DIR", help="the stick, or its clinicbox-provision folder")
    q.add_argument("--keys", metavar="KEYS_DIR", help="folder of trusted installer *.pub keys (default: the box's)")
    q.add_argument("--against", metavar="CONFIG", help="check the [config] merged into this clinicbox.toml")
    q.set_defaults(func=cmd_check)

    q = psub.add_parser("sign", help="sign a bundle folder (writes provision.sig)")
    q.add_argument("dir", metavar="DIR", help="the stick, or its clinicbox-provision folder")
    q.add_argument("--key", required=True, metavar="KEY", help="installer private key (from keygen)")
    q.set_defaults(func=cmd_sign)

    q = psub.add_parser("keygen", help="make an installer key pair (KEY and KEY.pub)")
    q.add_argument("--out", required=True, metavar="PATH", help="where to write the private key")
    q.set_defaults(func=cmd_keygen)

    q = psub.add_parser("apply", help="apply a bundle from a USB block device or a folder (runs as root)")
    q.add_argument("source", metavar="DEVICE_OR_DIR")
    q.set_defaults(func=cmd_apply)

    q = psub.add_parser(
        "restore", help="carry out the setup page's restore from a USB backup stick (root; clinicbox-restore.path)"
    )
    q.add_argument("--serve-request", action="store_true", required=True, help="read <run_dir>/restore.request")
    q.set_defaults(func=cmd_restore_request)


def _print_plan(changes: list[str], warnings: list[str], actions: list[str]) -> None:
    for line in changes:
        print(f"  change:  {line}")
    for line in warnings:
        print(f"  warning: {line}")
    for line in actions:
        print(f"  service: {line}")


def cmd_check(args: argparse.Namespace) -> int:
    from provisioning.run import check_bundle
    from provisioning.signing import load_trusted_keys

    if args.keys:
        keys_dir = Path(args.keys)
        if not keys_dir.is_dir():
            raise ProvisioningError(f"--keys {keys_dir} is not a folder of *.pub files")
        trusted = load_trusted_keys(keys_dir, keys_dir)
    else:
        try:
            cfg = load_config(config_path_from_env(args.config))
        except ConfigError:
            cfg = load_config()
        trusted = load_trusted_keys(cfg.provisioning.keys_dir, cfg.provisioning.local_keys_dir)
    if not trusted:
        raise ProvisioningError("no trusted installer keys found; pass --keys DIR with the installer's .pub files")
    plan = check_bundle(Path(args.dir), trusted, Path(args.against) if args.against else None)
    print(f"bundle OK: {plan.description or '(no description)'}, signed by {plan.signed_by}")
    _print_plan(plan.changes, plan.warnings, plan.actions)
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    from provisioning.run import sign_bundle

    path, kid, count = sign_bundle(Path(args.dir), Path(args.key))
    print(f"signed {count} files with key {kid}: {path}")
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from provisioning.signing import generate_keypair

    private, public, kid = generate_keypair(Path(args.out))
    print(f"installer key {kid}")
    print(f"  private: {private} (keep it secret; it signs bundles)")
    print(f"  public:  {public} (bake it into the image's installer-keys folder, or /etc/clinicbox/installer-keys)")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from provisioning.device import SystemMounter
    from provisioning.run import NoBundleError, find_bundle, provision, provision_device

    config_path = config_path_from_env(args.config)
    source = Path(args.source)
    try:
        if source.exists() and stat.S_ISBLK(source.stat().st_mode):
            outcome = provision_device(source, config_path, SystemMounter())
        else:
            bundle = find_bundle(source)
            outcome = provision(source, config_path, report_dir=bundle.parent)
    except NoBundleError as exc:
        print(f"nothing to do: {exc}")
        return 0
    if outcome.ok:
        print("bundle applied")
        _print_plan(outcome.changes, outcome.warnings, outcome.actions)
    else:
        print(f"clinicbox: bundle not applied: {outcome.reason}", file=sys.stderr)
    if outcome.report_path is not None:
        print(f"report: {outcome.report_path}")
    return 0 if outcome.ok else 1


def cmd_restore_request(args: argparse.Namespace) -> int:
    from provisioning.restore_request import serve_request
    from provisioning.services import service_manager_for

    cfg = load_config(config_path_from_env(args.config))
    outcome = serve_request(cfg, service_manager_for(cfg))
    if outcome["ok"]:
        print(f"restored the backup of {outcome['created_at']} ({outcome['backup']})")
        return 0
    print(f"clinicbox: not restored: {outcome['reason']}", file=sys.stderr)
    return 1
