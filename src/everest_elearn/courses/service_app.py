"""The courses service: a JupyterHub service (hub OAuth) with pages and a JSON API.

python -m everest_elearn.courses.service_app      (started by the hub, see hub/config.py)
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from jupyterhub.services.auth import HubOAuthCallbackHandler
from jupyterhub.utils import url_path_join
from tornado import web

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.handlers.courses import (
    CourseApi,
    CoursesApi,
    EnrolmentsApi,
    FeedbackApi,
    FeedbackExport,
)
from everest_elearn.courses.handlers.me import MeApi, MyServerApi, SyncApi
from everest_elearn.courses.handlers.pages import CoursePage, HomePage
from everest_elearn.courses.handlers.servers import ServersApi
from everest_elearn.courses.hubapi import HubApi
from everest_elearn.courses.service import CourseService
from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.settings import Settings, load_settings


def make_app(settings: Settings, prefix: str, api_url: str, token: str) -> web.Application:
    courses_db = settings.hub.courses_db or settings.data_dir / "courses.sqlite"
    modules_dir = settings.hub.modules_dir or settings.data_dir / "modules"
    courses = CourseService(SqliteCourseStore(Path(courses_db)))
    p = prefix
    routes: list[Any] = [
        (p, HomePage),
        (url_path_join(p, "oauth_callback"), HubOAuthCallbackHandler),
        (url_path_join(p, r"courses/([a-z0-9-]+)"), CoursePage),
        (url_path_join(p, "api/me"), MeApi),
        (url_path_join(p, "api/me/sync"), SyncApi),
        (url_path_join(p, "api/me/server"), MyServerApi),
        (url_path_join(p, "api/courses"), CoursesApi),
        (url_path_join(p, r"api/courses/([a-z0-9-]+)"), CourseApi),
        (url_path_join(p, r"api/courses/([a-z0-9-]+)/enrolments(?:/([^/]+))?"), EnrolmentsApi),
        (url_path_join(p, r"api/courses/([a-z0-9-]+)/servers(?:/([^/]+))?"), ServersApi),
        (url_path_join(p, r"api/courses/([a-z0-9-]+)/feedback"), FeedbackApi),
        (url_path_join(p, r"api/courses/([a-z0-9-]+)/feedback\.csv"), FeedbackExport),
    ]
    return web.Application(
        routes,
        cookie_secret=os.urandom(32),
        xsrf_cookies=True,
        prefix=p,
        courses=courses,
        modules=ModuleRepository(Path(modules_dir)),
        hub_api=HubApi(api_url, token),
        docker_url=settings.hub.docker_url,
        hub_instance=settings.hub.instance,
        modules_path="/home/jovyan/courses",
    )


def main() -> None:
    # The edge: the hub hands a service its URL, prefix and token through JUPYTERHUB_* variables.
    settings = load_settings()
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/courses/")
    api_url = os.environ.get(
        "JUPYTERHUB_API_URL", f"http://127.0.0.1:{settings.hub.hub_port}/hub/api"
    )
    token = os.environ["JUPYTERHUB_API_TOKEN"]
    app = make_app(settings, prefix, api_url, token)
    asyncio.run(serve(app, settings.hub.courses_port))


async def serve(app: web.Application, port: int) -> None:
    """Serve until SIGINT or SIGTERM, whatever signals the starting process ignored.

    The hub stops its services with SIGINT and waits 30 s before SIGTERM; a service started
    from a background job inherits SIGINT ignored and would hold the hub's shutdown that long.
    """
    server = app.listen(port, address="127.0.0.1")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
