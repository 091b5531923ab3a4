"""The SQLCipher-encrypted patient store.

Public names: :class:`Store` (connections and transactions), and one module
per aggregate: patients, appointments, calls, callbacks, voicemail,
reminders, sms, users, audit, settings, plus caller-ID lookup, CSV import,
backups and encrypted media files.
"""

from appliance.store.connection import Store
from appliance.store.migrate import latest_version
from appliance.store.timefmt import from_db, to_db

__all__ = ["Store", "from_db", "latest_version", "to_db"]
