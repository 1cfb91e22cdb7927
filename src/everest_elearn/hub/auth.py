"""Single sign-on: GenericOAuthenticator whose hub groups are provider roles plus course enrolment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from oauthenticator.generic import GenericOAuthenticator
from traitlets import Dict, Unicode

from everest_elearn.courses.backends.sqlite import SqliteCourseStore
from everest_elearn.courses.service import CourseService
from everest_elearn.security.identity import Role

ROLE_GROUP_PREFIX = "role-"
ROLES = {r.value for r in Role}


def role_groups(idp_groups: set[str], group_roles: dict[str, str]) -> set[str]:
    """Hub groups naming the platform roles the provider's groups map to."""
    roles = {group_roles[g] for g in idp_groups if g in group_roles}
    return {ROLE_GROUP_PREFIX + r for r in roles}


class EverestOAuthenticator(GenericOAuthenticator):  # type: ignore[misc]
    """OIDC login; the user's hub groups are merged from three sources at every login.

    With ``manage_groups`` JupyterHub resets a user's groups to what the authenticator returns,
    so the list returned here always carries (1) the provider's groups, (2) ``role-<role>`` for
    the platform roles they map to, and (3) ``course-<id>`` for every course the user is enrolled
    in, enrolment being kept by the platform, never by the provider.
    """

    group_roles = Dict(
        config=True,
        help="Identity-provider group -> platform role (administrator, course-manager, "
        "module-developer, participant).",
    )
    groups_claim = Unicode("groups", config=True, help="Claim of the userinfo holding the groups.")
    courses_db = Unicode(
        "", config=True, help="SQLite file of the courses service; empty = no course groups."
    )

    async def get_user_groups(self, auth_state: dict[str, Any]) -> set[str]:
        user_info = auth_state.get(self.user_auth_state_key) or {}
        raw = user_info.get(self.groups_claim) or []
        idp_groups = {str(g).lstrip("/") for g in raw} if isinstance(raw, list) else set()
        groups = set(idp_groups) | role_groups(idp_groups, dict(self.group_roles))
        if self.courses_db:
            username = self.normalize_username(self.user_info_to_username(user_info))
            service = CourseService(SqliteCourseStore(Path(self.courses_db)))
            groups |= await service.sync_idp_groups(username, idp_groups)
        return groups
