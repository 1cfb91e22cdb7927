"""The optional YAML settings file (``EVEREST_CONFIG_FILE``), refusing secrets.

The file is the kind a configuration repository keeps; secrets (the settings typed ``SecretStr``:
client secrets, tokens, passwords, keys) come from the environment or a file in
``EVEREST_SECRETS_DIR`` only. A secret in the file stops the load with an error naming the key
and the file, never the value.
"""

from __future__ import annotations

import types
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, YamlConfigSettingsSource

from everest_elearn.errors import InvalidInput


def _types(annotation: Any) -> Iterator[Any]:
    """The classes inside an annotation (``SecretStr | None`` gives SecretStr and NoneType)."""
    if get_origin(annotation) in (Union, types.UnionType):
        for part in get_args(annotation):
            yield from _types(part)
    else:
        yield annotation


def secret_keys(model: type[BaseModel], data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of ``data`` that set secret-typed fields of ``model`` (sections included)."""
    found = []
    for name, field in model.model_fields.items():
        if name not in data:
            continue
        kinds = list(_types(field.annotation))
        if SecretStr in kinds:
            found.append(prefix + name)
        value = data[name]
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(value, dict):
                found += secret_keys(kind, value, f"{prefix}{name}.")
    return found


class SecretFreeYamlSource(YamlConfigSettingsSource):
    """The YAML file's settings; InvalidInput when it sets any secret."""

    def __init__(self, settings_cls: type[BaseSettings], yaml_file: str) -> None:
        super().__init__(settings_cls, yaml_file=yaml_file)
        keys = secret_keys(settings_cls, self.yaml_data)
        if keys:
            prefix = str(settings_cls.model_config.get("env_prefix", ""))
            nested = str(settings_cls.model_config.get("env_nested_delimiter", "__"))
            names = ", ".join(f"{prefix}{k.replace('.', nested)}".upper() for k in keys)
            raise InvalidInput(
                f"{Path(yaml_file)}: {', '.join(keys)}",
                "secrets are not read from the configuration file; remove them from it and set "
                f"the environment variable ({names}) or put a file of that name in the folder "
                "named by EVEREST_SECRETS_DIR",
            )
