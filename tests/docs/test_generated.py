"""The generated reference pages match the code (settings, OpenAPI)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from everest_elearn.settings import Settings
from tests.docs.blocks import DOCS


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_page_is_current() -> None:
    page = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    assert page == generator().settings_page(), "run .venv/bin/python docs/generate.py"


def test_every_setting_has_its_variable_on_the_page() -> None:
    page = (DOCS / "reference" / "settings.md").read_text(encoding="utf-8")
    for section, field in Settings.model_fields.items():
        names = getattr(field.annotation, "model_fields", None)
        if names is None:
            assert f"`EVEREST_{section.upper()}`" in page
            continue
        for name in names:
            assert f"`EVEREST_{section.upper()}__{name.upper()}`" in page


def test_api_page_is_current() -> None:
    page = (DOCS / "reference" / "api.md").read_text(encoding="utf-8")
    assert page == generator().api_page(), "run .venv/bin/python docs/generate.py"
    assert "### `GET /opensearch/description.xml`" in page
