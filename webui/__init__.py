"""The ClinicBox web UI: a Flask app served by waitress as its own process.

Public names: :func:`create_app` (the app factory) and :class:`Runtime`
(what the views share: config, store, control client, live hub). The web
UI never touches PJSUA2: it reads the store and asks the core to act over
the control socket, so a crash here never drops a call.
"""

from webui.app import create_app
from webui.runtime import Runtime

__all__ = ["Runtime", "create_app"]
