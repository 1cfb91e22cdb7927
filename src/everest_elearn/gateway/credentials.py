"""Provider credentials, looked up by name in the environment or a secrets folder; never logged."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from everest_elearn.errors import UpstreamError
from everest_elearn.gateway.rules import CREDENTIAL_NAME


class Credentials:
    """Resolves a credential name: a file ``<secrets_dir>/<name>`` wins over a variable ``name``.

    The values are handed to the sources only; the class has no ``__repr__`` that shows them and
    errors name the credential, never its value.
    """

    def __init__(self, environ: Mapping[str, str], secrets_dir: Path | None = None) -> None:
        self._environ = dict(environ)
        self._secrets_dir = secrets_dir

    def __repr__(self) -> str:
        return f"Credentials(secrets_dir={self._secrets_dir!s})"

    def get(self, name: str) -> str:
        if not CREDENTIAL_NAME.match(name):
            raise UpstreamError(f"credential name {name!r} is not valid")
        if self._secrets_dir is not None:
            path = self._secrets_dir / name
            if path.is_file():
                return path.read_text().strip()
        value = self._environ.get(name)
        if value:
            return value
        raise UpstreamError(f"credential {name!r} is not configured on the gateway")

    def known(self, name: str) -> bool:
        try:
            self.get(name)
        except UpstreamError:
            return False
        return True
