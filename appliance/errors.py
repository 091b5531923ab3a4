"""One exception hierarchy for the whole box.

Every failure a user or technician can meet is a subclass of
:class:`ClinicBoxError`, and its message says what happened and what to do
about it. Functions raise; they never return ``None`` to signal failure.
"""

from __future__ import annotations


class ClinicBoxError(Exception):
    """Base of every ClinicBox failure. ``str(err)`` is fit to show a user."""


class ConfigError(ClinicBoxError):
    """The configuration is invalid; ``problems`` has one line per key.

    Example:
        >>> err = ConfigError(["clinic.timezone: unknown time zone 'Mars/Base'"])
        >>> print(err)
        configuration has 1 problem:
          clinic.timezone: unknown time zone 'Mars/Base'
    """

    def __init__(self, problems: list[str], source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        where = f" in {source}" if source else ""
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        body = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"configuration{where} has {count} {noun}:\n{body}")


class SecretRefused(ClinicBoxError):
    """A secret the core will not write (unknown name, too long, control
    characters, refused by the config's rules); the message never quotes it."""

    code = "bad-secret"


class StoreError(ClinicBoxError):
    """The encrypted store cannot be used."""


class KeyFileError(StoreError):
    """The key file is missing, unreadable or has unsafe permissions."""


class WrongKeyError(StoreError):
    """The key does not open this database (wrong key or not a ClinicBox DB)."""


class StoreLockedError(StoreError):
    """The store is passphrase-locked; a manager must unlock it first."""


class WrongPassphraseError(StoreError):
    """The passphrase does not unwrap the store key."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer ClinicBox than this one."""


class CorruptStoreError(StoreError):
    """The database file is damaged."""


class DiskFullError(StoreError):
    """The disk is full or read-only; nothing was written."""


class NotFoundError(ClinicBoxError):
    """A record that was asked for does not exist."""


class ValidationError(ClinicBoxError):
    """Input from a person or a file is not acceptable; the message says why."""


class ImportFileError(ValidationError):
    """A CSV/ICS import file has bad rows; ``errors`` lists (line, reason)."""

    def __init__(self, errors: list[tuple[int, str]], committed: int = 0) -> None:
        self.errors = list(errors)
        self.committed = committed
        lines = "\n".join(f"  line {line}: {reason}" for line, reason in self.errors[:50])
        more = f"\n  ... and {len(self.errors) - 50} more" if len(self.errors) > 50 else ""
        action = (
            f"{committed} good rows were imported"
            if committed
            else "nothing was imported; fix the rows or use --skip-bad"
        )
        super().__init__(f"{len(self.errors)} bad rows ({action}):\n{lines}{more}")


class AuthError(ClinicBoxError):
    """Login failed or the user may not do this."""


class SetupCodeError(AuthError):
    """A first-run setup code was wrong, already used or voided."""


class AuditChainError(ClinicBoxError):
    """The audit log's hash chain is broken: a row was edited or deleted."""


class SwitchboardError(ClinicBoxError):
    """The telephony engine failed or refused a command."""


class StationError(ClinicBoxError):
    """A headset station (or the GSM gateway) cannot start or lost its device."""


class CapacityError(SwitchboardError):
    """No line is free for this call (the build's or the config's call cap)."""


class PromptError(ClinicBoxError):
    """A prompt is unknown, has no text in a language, or could not be generated."""


class TtsError(PromptError):
    """espeak-ng or sox failed or is missing; the message names the fix."""


class ModemError(ClinicBoxError):
    """The GSM/LTE modem failed or answered with an error."""


class ModemTimeoutError(ModemError):
    """The modem did not answer a command in time (hung, or gone)."""


class SmsUnconfirmedError(ModemTimeoutError):
    """An SMS part went to the modem but no answer (+CMGS or an error) came:
    the network may have taken it, so it must not be sent again unasked."""


class ModemCommandError(ModemError):
    """The modem answered ERROR / +CME ERROR / +CMS ERROR; ``kind`` and ``code`` say which."""

    def __init__(self, message: str, kind: str = "ERROR", code: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class ModemNotFoundError(ModemError):
    """No modem with the configured IMEI / USB serial is connected."""


class SimError(ModemError):
    """The SIM is missing, locked, or its PIN is wrong; never retried automatically."""


class ModemBusyError(ModemError):
    """The modem's one voice line is in use, or the modem is not ready."""


class ReminderError(ClinicBoxError):
    """Reminders cannot be planned or sent right now; the message says why."""


class ProvisioningError(ClinicBoxError):
    """A provisioning bundle was refused; nothing was changed."""


class ControlError(ClinicBoxError):
    """The control socket could not be reached or refused a command."""


class PanelError(ClinicBoxError):
    """The status panel's GPIO pins cannot be used."""


class EdgeError(ClinicBoxError):
    """The SIP edge (Kamailio) cannot be rendered, started or reached."""
