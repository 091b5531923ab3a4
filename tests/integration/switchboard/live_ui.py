"""The web UI (Flask test client, the real web app) on a running test core's clinic."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from appliance.clock import SystemClock
from appliance.config import load_config
from tests.integration.switchboard.box import Box
from tests.unit.webui.conftest import login_as, post
from webui import create_app
from webui.runtime import EXTENSION


class Ui:
    """A manager logged in to the web UI of ``box``'s clinic."""

    def __init__(self, app: Flask, client: FlaskClient, token: str) -> None:
        self.app, self.client, self.token = app, client, token

    def version(self, path: str) -> str:
        html = self.client.get(path).get_data(as_text=True)
        return html.split('name="version" value="', 1)[1].split('"', 1)[0]

    def post(self, path: str, data: dict[str, Any], version_of: str) -> Any:
        return post(self.client, path, {**data, "version": self.version(version_of)}, self.token)

    def notices(self) -> str:
        """The notices the next page shows (after a save's redirect)."""
        html = self.client.get("/settings").get_data(as_text=True)
        return " ".join(re.findall(r'data-testid="notice-\w+">([^<]*)<', html)).replace("&#39;", "'")

    def settings_page(self) -> str:
        return self.client.get("/settings").get_data(as_text=True)


@contextmanager
def manager_ui(box: Box) -> Iterator[Ui]:
    app = create_app(
        load_config(box.config, use_secrets=False), box.config, clock=SystemClock(assume_synced=True), start_live=False
    )
    app.config["TESTING"] = True
    client = app.test_client()
    try:
        yield Ui(app, client, login_as(client, app, "manager"))
    finally:
        app.extensions[EXTENSION].store.close()
