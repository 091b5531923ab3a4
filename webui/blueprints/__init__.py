"""The web UI's blueprints, one per screen (registered in this order)."""

from webui.blueprints import (
    admin,
    auth,
    callbacks,
    calllog,
    console,
    dashboard,
    diagnostics,
    health,
    imports,
    media,
    patients,
    reminders,
    schedule,
    settings,
    settings_ivr,
    unlock,
)

BLUEPRINTS = [
    health.bp,
    unlock.bp,
    auth.bp,
    dashboard.bp,
    console.bp,
    callbacks.bp,
    patients.bp,
    schedule.bp,
    imports.bp,
    calllog.bp,
    media.bp,
    reminders.bp,
    settings.bp,
    settings_ivr.bp,
    admin.bp,
    diagnostics.bp,
]
