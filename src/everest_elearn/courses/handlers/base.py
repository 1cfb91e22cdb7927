"""The handler every page and API call of the courses service shares, and course JSON."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from jupyterhub.services.auth import HubOAuthenticated
from tornado import web

from everest_elearn import errors
from everest_elearn.api.errors import error_body, status_for
from everest_elearn.courses.hubapi import HubApi
from everest_elearn.courses.model import Course, ModulePin, PackageRef
from everest_elearn.courses.service import CourseService
from everest_elearn.hub.identity import identity_from_model
from everest_elearn.security.identity import Identity, Role


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
