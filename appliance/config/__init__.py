"""Typed settings from TOML. See ``defaults.toml`` for every key.

Public names: :func:`load_config`, :class:`Config` and the section classes;
:func:`register_check` for a check that needs a package above the config;
:class:`Applied`, what a service's ``reconfigure(cfg)`` took live and what
waits for a restart.
"""

from appliance.config.applied import Applied, changed_settings
from appliance.config.callflow import HoursSettings, IvrNode, IvrSettings, QueueSettings
from appliance.config.checks import LANGUAGE_NAMES, LANGUAGES, WEEKDAYS
from appliance.config.loader import (
    DEFAULT_PATH,
    config_path_from_env,
    defaults_text,
    load_config,
    read_toml,
    register_check,
)
from appliance.config.model import Config
from appliance.config.telephony import StationSettings

__all__ = [
    "DEFAULT_PATH",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "WEEKDAYS",
    "Applied",
    "Config",
    "HoursSettings",
    "IvrNode",
    "IvrSettings",
    "QueueSettings",
    "StationSettings",
    "changed_settings",
    "config_path_from_env",
    "defaults_text",
    "load_config",
    "read_toml",
    "register_check",
]
