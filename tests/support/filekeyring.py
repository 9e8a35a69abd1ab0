"""A keyring backend for child processes in tests: secrets from the JSON file named by
$NETGUI_TEST_KEYRING ({account: secret}, service netgui). Select it with
PYTHON_KEYRING_BACKEND=tests.support.filekeyring.FileKeyring."""

import json
import os

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1

    def _load(self) -> dict:
        with open(os.environ["NETGUI_TEST_KEYRING"], encoding="utf-8") as f:
            return json.load(f)

    def get_password(self, service, username):
        return self._load().get(username) if service == "netgui" else None

    def set_password(self, service, username, password):
        data = self._load()
        data[username] = password
        with open(os.environ["NETGUI_TEST_KEYRING"], "w", encoding="utf-8") as f:
            json.dump(data, f)

    def delete_password(self, service, username):
        pass
