"""What CLI commands share: wiring the config checks, loading the config,
opening the store and its aggregates (with the reminder planner wired in),
the actor."""

from __future__ import annotations

import argparse
import getpass
import os
import pwd
import sys
from pathlib import Path

from appliance.clock import SystemClock
from appliance.config import Config, config_path_from_env, load_config, register_check
from appliance.errors import StoreLockedError
from appliance.ivr import check_prompt_texts
from appliance.reminders import register_prompts
from appliance.store import Store
from appliance.store.repos import Repos, make_repos


def wire_config_checks() -> None:
    """Hand the config loader the checks that need packages above it.

    The prompt catalogue checks ``[prompts.texts]`` (unknown languages and
    placeholders), once every package has registered its prompts. Called by
    :func:`appliance.cli.main` before any command loads the config.
    """
    register_prompts()
    register_check(check_prompt_texts)


def config_path(args: argparse.Namespace) -> Path:
    return config_path_from_env(getattr(args, "config", None))


def config(args: argparse.Namespace) -> Config:
    return load_config(config_path(args))


def clock_for(cfg: Config) -> SystemClock:
    return SystemClock(assume_synced=cfg.clock.assume_synced or cfg.simulate)


def open_store(cfg: Config, *, unlock: bool = True) -> Store:
    """Open the clinic's store; ask for the passphrase if it is wrapped.

    The passphrase comes from ``$CLINICBOX_PASSPHRASE`` (scripts) or the
    terminal. With ``unlock=False`` a locked store is returned locked.
    """
    store = Store.open(
        cfg.db_path,
        cfg.paths.key_file,
        clock=clock_for(cfg),
        busy_timeout_ms=cfg.store.busy_timeout_ms,
        media_dir=cfg.media_dir,
        cache_mb=cfg.store.cache_mb,
    )
    if store.locked and unlock:
        passphrase = os.environ.get("CLINICBOX_PASSPHRASE")
        if passphrase is None:
            if not sys.stdin.isatty():
                raise StoreLockedError(
                    "the store is passphrase-locked; set CLINICBOX_PASSPHRASE or run from a terminal"
                )
            passphrase = getpass.getpass("Store passphrase: ")
        store.unlock(passphrase)
    return store


def repos(cfg: Config, store: Store) -> Repos:
    """The store's aggregates; an appointment changed or imported from the CLI
    re-plans that visit's reminders in the same transaction."""
    from appliance.reminders import ReminderPlanner

    return make_repos(cfg, store, [ReminderPlanner(cfg, store.clock).on_appointment_change])


def actor() -> str:
    """Who is acting, for the audit log: ``cli:<unix user>``."""
    try:
        user = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        user = str(os.getuid())
    return f"cli:{user}"
