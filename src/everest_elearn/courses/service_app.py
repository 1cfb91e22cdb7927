"""The courses service: a JupyterHub service (hub OAuth) with pages and a JSON API.

python -m everest_elearn.courses.service_app      (started by the hub, see hub/config.py)
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from datetime import date
from pathlib import Path
from typing import Any

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import web

from everest_elearn import errors
from everest_elearn.api.errors import error_body, status_for
from everest_elearn.courses import pages
from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.hubapi import HubApi
from everest_elearn.courses.model import Course, CourseRole, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.courses.updates import module_status
from everest_elearn.hub.identity import identity_from_model
from everest_elearn.modules.container import NotebookContainer
from everest_elearn.modules.repository import ModuleRepository
from everest_elearn.modules.sync import ModuleSyncer
from everest_elearn.security.identity import Identity, Role
from everest_elearn.settings import Settings, load_settings


class Base(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    """Every page and API call: a hub login (cookie or token), domain errors as JSON."""

    identity: Identity

    @property
    def service(self) -> CourseService:
        svc: CourseService = self.settings["courses"]
        return svc

    @property
    def hub_api(self) -> HubApi:
        api: HubApi = self.settings["hub_api"]
        return api

    def check_xsrf_cookie(self) -> None:
        # Calls with a token in the Authorization header carry no cookie and cannot be forged.
        if self.request.headers.get("Authorization"):
            return
        super().check_xsrf_cookie()

    async def prepare(self) -> None:
        user = self.current_user
        if not user:
            if self.request.path.startswith(self.settings["prefix"] + "api/"):
                raise web.HTTPError(401, "log in through the hub first")
            self.redirect(self.get_login_url())
            return
        # Groups and roles from the hub itself, not from what the login token happened to carry.
        model = await self.hub_api.user(user["name"])
        self.identity = identity_from_model(model) or Identity(user["name"])

    def require_manager(self) -> None:
        if not self.identity.roles & {Role.ADMIN, Role.MANAGER}:
            raise errors.Forbidden("only course managers and administrators may do this")

    async def require_course_manager(self, course_id: str) -> Course:
        self.require_manager()
        course = await self.service.get(course_id)
        subject = self.identity.subject or ""
        if not await self.service.may_manage(subject, self.identity.roles, course_id):
            raise errors.Forbidden(f"you do not manage the course {course_id!r}")
        return course

    def body(self) -> dict[str, Any]:
        try:
            data = json.loads(self.request.body or b"{}")
        except json.JSONDecodeError:
            raise errors.InvalidInput("body", "is not JSON") from None
        if not isinstance(data, dict):
            raise errors.InvalidInput("body", "must be a JSON object")
        return data

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, errors.EverestError):
            status = status_for(exc)
            self.set_status(status)
            self.write_json(error_body(exc, status), status)
            return
        message = exc.log_message if isinstance(exc, web.HTTPError) and exc.log_message else "error"
        self.write_json({"status": status_code, "detail": message}, status_code)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, errors.EverestError) and status_for(value) < 500:
            return  # the caller's mistake, already answered
        super().log_exception(typ, value, tb)


def course_from_json(data: dict[str, Any], course_id: str | None = None) -> Course:
    try:
        return Course(
            id=course_id or str(data["id"]),
            title=str(data.get("title", "")),
            starts=date.fromisoformat(data["starts"]) if data.get("starts") else None,
            ends=date.fromisoformat(data["ends"]) if data.get("ends") else None,
            modules=tuple(
                ModulePin(m["name"], m.get("ref", "main"))
                if isinstance(m, dict)
                else ModulePin(str(m))
                for m in data.get("modules", [])
            ),
            packages=tuple(PackageRef.parse(str(p)) for p in data.get("packages", [])),
            idp_groups=tuple(str(g) for g in data.get("idp_groups", [])),
            image=data.get("image") or None,
            mem_limit=data.get("mem_limit") or None,
            cpu_limit=float(data["cpu_limit"]) if data.get("cpu_limit") else None,
        )
    except KeyError as missing:
        raise errors.InvalidInput(str(missing.args[0]), "is required") from None
    except (TypeError, ValueError) as bad:
        raise errors.InvalidInput("course", str(bad)) from None


def course_json(course: Course) -> dict[str, Any]:
    from everest_elearn.courses.backends.sqlite import course_to_json

    doc: dict[str, Any] = json.loads(course_to_json(course))
    return doc


class CoursesApi(Base):
    async def get(self) -> None:
        courses = await self.service.all()
        if not self.identity.roles & {Role.ADMIN, Role.MANAGER}:
            mine = {c.id for c, _ in await self.service.courses_of(self.identity.subject or "")}
            courses = [c for c in courses if c.id in mine]
        self.write_json([course_json(c) for c in courses])

    async def post(self) -> None:
        self.require_manager()
        course = await self.service.create(course_from_json(self.body()))
        if Role.ADMIN not in self.identity.roles:
            await self.service.enrol(course.id, [self.identity.subject or ""], CourseRole.MANAGER)
        self.write_json(course_json(course), 201)


class CourseApi(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        course = await self.service.get(course_id)
        enrolments = await self.service.participants(course_id)
        self.write_json(
            {
                **course_json(course),
                "enrolments": [
                    {"username": e.username, "role": str(e.role), "source": e.source}
                    for e in enrolments
                ],
            }
        )

    async def put(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        self.write_json(
            course_json(await self.service.update(course_from_json(self.body(), course_id)))
        )

    async def delete(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        await self.service.delete(course_id)
        self.set_status(204)
        self.finish()


class EnrolmentsApi(Base):
    async def post(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        data = self.body()
        names = data.get("usernames") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise errors.InvalidInput("usernames", "must be a list of user names")
        role = CourseRole(data.get("role", "participant"))
        added = await self.service.enrol(course_id, names, role)
        self.write_json({"enrolled": added}, 201 if added else 200)

    async def delete(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self.service.unenrol(course_id, username or "")
        self.set_status(204)
        self.finish()


async def server_rows(
    service: CourseService, hub_api: HubApi, course_id: str
) -> list[dict[str, Any]]:
    """Each participant of the course with the state of their server, from the hub."""
    out = []
    for enrolment in await service.participants(course_id):
        try:
            model = await hub_api.user(enrolment.username)
        except errors.NotFound:
            model = {}
        server = (model.get("servers") or {}).get("", {})
        if server.get("ready"):
            state = "ready"
        elif model.get("pending"):
            state = str(model["pending"])
        else:
            state = "stopped" if model else "never logged in"
        # What the spawner put in its state: the course the server was started for, its image.
        what = (server.get("state") or {}).get("everest_running") or {}
        out.append(
            {
                "username": enrolment.username,
                "role": str(enrolment.role),
                "server": state,
                "course": what.get("course"),
                "image": what.get("image"),
                "started": server.get("started"),
                "last_activity": server.get("last_activity") or model.get("last_activity"),
            }
        )
    return out


class ServersApi(Base):
    """Who runs what, and start or stop a participant's server (through the hub API)."""

    async def get(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        self.write_json(await server_rows(self.service, self.hub_api, course_id))

    async def post(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self._enrolled(course_id, username or "")
        await self.hub_api.start(username or "", course_id)
        self.write_json({"starting": username}, 202)

    async def delete(self, course_id: str, username: str | None = None) -> None:
        await self.require_course_manager(course_id)
        await self._enrolled(course_id, username or "")
        await self.hub_api.stop(username or "")
        self.write_json({"stopping": username}, 202)

    async def _enrolled(self, course_id: str, username: str) -> None:
        if not any(e.username == username for e in await self.service.participants(course_id)):
            raise errors.NotFound(f"participant of {course_id!r}", username)


class FeedbackApi(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        summary = await self.service.feedback_summary(course_id)
        self.write_json([s.__dict__ for s in summary])

    async def post(self, course_id: str) -> None:
        data = self.body()
        try:
            rating = int(data.get("rating", 0))
        except (TypeError, ValueError):
            raise errors.InvalidInput("rating", "a rating is a whole number from 1 to 5") from None
        feedback = await self.service.give_feedback(
            self.identity.subject or "",
            course_id,
            str(data.get("module", "")),
            rating,
            str(data.get("comment", "")),
        )
        self.write_json({"module": feedback.module, "rating": feedback.rating}, 201)


class FeedbackExport(Base):
    async def get(self, course_id: str) -> None:
        await self.require_course_manager(course_id)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="feedback-{course_id}.csv"')
        self.finish(await self.service.export_feedback_csv(course_id))


class MeApi(Base):
    """The caller's courses and, per module, whether an update is available."""

    async def get(self) -> None:
        self.write_json(
            await module_status(self.service, self.settings["modules"], self.identity.subject or "")
        )


class SyncApi(Base):
    """Bring the caller's course modules into their running server now."""

    async def post(self) -> None:
        subject = self.identity.subject or ""
        container = await NotebookContainer.of_user(
            subject, self.settings["docker_url"], self.settings["hub_instance"]
        )
        modules = [
            (c.id, pin) for c, _ in await self.service.courses_of(subject) for pin in c.modules
        ]
        syncer = ModuleSyncer(self.settings["modules"], self.settings["modules_path"])
        results = await syncer.sync(container, modules)
        for item in results:
            if "error" not in item:
                await self.service.store.put_sync(
                    subject, item["course"], item["module"], item["commit"]
                )
        self.write_json(results)


async def my_server(hub_api: HubApi, name: str) -> str:
    model = await hub_api.user(name)
    server = (model.get("servers") or {}).get("", {})
    if server.get("ready"):
        return "running"
    return str(model.get("pending") or "stopped")


class MyServerApi(Base):
    """The caller's own server (the module developers' dashboard): state, start, stop."""

    async def get(self) -> None:
        self.write_json({"server": await my_server(self.hub_api, self.identity.subject or "")})

    async def post(self) -> None:
        await self.hub_api.start(self.identity.subject or "")
        self.write_json({"server": "starting"}, 202)

    async def delete(self) -> None:
        await self.hub_api.stop(self.identity.subject or "")
        self.write_json({"server": "stopping"}, 202)


class HomePage(Base):
    async def get(self) -> None:
        mine = await module_status(
            self.service, self.settings["modules"], self.identity.subject or ""
        )
        managed = []
        if self.identity.roles & {Role.ADMIN, Role.MANAGER}:
            managed = await self.service.all()
        server = await my_server(self.hub_api, self.identity.subject or "")
        self.finish(
            pages.home(
                self.settings["prefix"],
                self.identity,
                mine,
                managed,
                server,
                self.xsrf_token.decode(),
            )
        )


class CoursePage(Base):
    async def get(self, course_id: str) -> None:
        course = await self.require_course_manager(course_id)
        enrolments = await self.service.participants(course_id)
        summary = await self.service.feedback_summary(course_id)
        servers = {
            r["username"]: r["server"] + (f" ({r['course']}, {r['image']})" if r["course"] else "")
            for r in await server_rows(self.service, self.hub_api, course_id)
        }
        self.finish(
            pages.course(
                self.settings["prefix"],
                course,
                enrolments,
                summary,
                servers,
                self.xsrf_token.decode(),
            )
        )


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
