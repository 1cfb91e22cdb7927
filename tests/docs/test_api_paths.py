"""HTTP paths named in the prose exist: the agency's against its OpenAPI document, the courses
service's against its routes (course managers call them with a hub token). Paths of parts this
project does not serve (JupyterHub's own pages, Keycloak's) are listed here by name."""

from __future__ import annotations

import re
import warnings

import pytest

from everest_elearn.api.app import create_app
from everest_elearn.courses.service_app import make_app
from everest_elearn.settings import Settings
from tests.docs.blocks import DOCS, doc_files, inline_spans

PATH = re.compile(r"^(?:(?:GET|POST|PUT|DELETE|HEAD) )?(/[A-Za-z0-9_.{}<>/?&=-]*(?:\.\.\.)?)$")
SYSTEM = ("/var/", "/srv/", "/etc/", "/run/", "/home/", "/opt/", "/usr/", "/tmp/", "/dev/", "/v")
COURSES = "/services/courses/"
# Served by others: JupyterHub's admin page, Keycloak's health endpoint, FastAPI's document.
ELSEWHERE = {"/hub/admin", "/health/ready", "/openapi.json"}
SPANS = [
    (where, match.group(1))
    for page in doc_files()
    if DOCS / "reference" not in page.parents  # generated from the same document
    for where, text in inline_spans(page)
    if (match := PATH.match(text)) and not text.startswith(SYSTEM) and len(text) > 1
]


def concrete(path: str) -> str:
    """A path a client would send: placeholders filled, query and trailing '...' dropped."""
    path = path.split("?")[0].removesuffix("...")
    return re.sub(r"<[^>]+>|\{[^}]+\}", "x1", path)


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[re.Pattern[str]]]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("api-paths"))
    with warnings.catch_warnings():  # GET and HEAD of /data share one function's operation id
        warnings.simplefilter("ignore", UserWarning)
        paths = create_app(settings).openapi()["paths"]
    agency = ["^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$" for p in paths]
    app = make_app(settings, COURSES, "http://127.0.0.1:9/hub/api", "unused")
    courses = [rule.matcher.regex for rule in app.wildcard_router.rules]
    return agency, courses


def test_spans_are_found() -> None:
    pages = {where.split(":")[0] for where, _ in SPANS}
    assert {"docs/course-managers.md", "docs/admin/operations.md"} <= pages, pages


@pytest.mark.parametrize(("where", "path"), SPANS, ids=[f"{w}:{p}" for w, p in SPANS])
def test_path_is_served(
    where: str, path: str, routes: tuple[list[str], list[re.Pattern[str]]]
) -> None:
    agency, courses = routes
    if path in ELSEWHERE:
        return
    sent = concrete(path)
    if where.startswith("docs/course-managers.md") and sent.startswith("/api/"):
        sent = COURSES + sent.removeprefix("/")  # "the service's API": under its prefix
    if sent.startswith(COURSES):
        assert any(r.match(sent) for r in courses), f"{where}: the courses service has no {path}"
        return
    prefix = path.endswith("...")
    assert any(re.match(p if not prefix else p.rstrip("$"), sent) for p in agency) or any(
        p.removeprefix("^").startswith(sent) for p in agency if prefix
    ), f"{where}: the agency serves no {path}"


def test_a_wrong_path_is_caught(routes: tuple[list[str], list[re.Pattern[str]]]) -> None:
    agency, courses = routes
    assert not any(re.match(p, "/gateway/statistics") for p in agency)
    assert not any(r.match(COURSES + "api/courses/x1/feedback.xlsx") for r in courses)
