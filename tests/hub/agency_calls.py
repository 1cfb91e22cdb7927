"""HTTP calls made from inside a user's container with the server's own token."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.hub import Hub

# Run in a container: an HTTP call with a token from the environment; prints status and body.
CALL = """
import json, os, sys, urllib.error, urllib.request
method, url, body, token = sys.argv[1], sys.argv[2], sys.argv[3], os.environ[sys.argv[4]]
request = urllib.request.Request(url, method=method, data=body.encode() if body else None,
    headers={"Authorization": "Bearer " + token,
             "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=120) as answer:
        print(answer.status); print(answer.read().decode())
except urllib.error.HTTPError as error:
    print(error.code); print(error.read().decode())
"""


def call(
    hub: Hub,
    user: str,
    method: str,
    url: str,
    body: Any = None,
    token: str = "JUPYTERHUB_API_TOKEN",
) -> tuple[int, Any]:
    """``method url`` from inside the user's container, with the token in its variable
    ``token`` (the server's own token unless told otherwise)."""
    payload = json.dumps(body) if body is not None else ""
    script = ["python3", "-c", CALL, method, url, payload, token]
    result = hub.container(user).exec_run(script)
    assert result.exit_code == 0, result.output.decode()
    status, _, text = result.output.decode().partition("\n")
    return int(status), json.loads(text) if text.strip() else None


def agency(hub: Hub) -> str:
    """The Data Agency's URL as the hub gives it to containers."""
    return hub.env["EVEREST_HUB__AGENCY_URL"]
