"""Roles, permissions, pages, the partner's operator filter and the identity-provider claim mapping.

Four roles (issue 13, docs/ACCESS.md):

``admin``
    The data office: everything (uploads and imports, restoring versions, users, publishing
    official thresholds and targets, the audit log).
``planner``
    Every map and table, scenarios, downloads of every layer, session-only threshold changes.
``partner``
    One operator, named on the account: gap layers and commune indicators of the whole province,
    base-station data (sites, cells, per-operator coverage) of its own operator only, its own
    scenarios and their downloads. No upload, no restore.
``leadership``
    The snapshot page and its PDF, read-only.

A page is listed in the navigation when the user holds the page's permission
(:data:`PAGE_PERMISSION`); every action re-checks with :func:`require` on the server, so a deep
link to a page the role lacks is refused too. Downloads of a partner are filtered by
:func:`operator_filter` before they are built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol

from geo.errors import ClaimMappingError, NotPermittedError, ParameterError
from geo.schema import Operator, parse_category

__all__ = [
    "Role",
    "Permission",
    "Principal",
    "parse_role",
    "ROLE_PERMISSIONS",
    "PAGES",
    "PAGE_PERMISSION",
    "ROLE_PRECEDENCE",
    "allowed",
    "require",
    "visible_pages",
    "can_open_page",
    "operator_filter",
    "sees_operator",
    "check_operator",
    "RoleGrant",
    "ClaimMapping",
    "claim_mapping_from_dict",
    "claims_to_role",
]


class Role(StrEnum):
    """What kind of user an account is."""

    ADMIN = "admin"
    PLANNER = "planner"
    PARTNER = "partner"
    LEADERSHIP = "leadership"


def parse_role(value: Role | str) -> Role:
    """The :class:`Role` that ``value`` names (case and surrounding spaces ignored).

    Raises
    ------
    ParameterError
        When ``value`` names no role (the message lists them).
    """
    if isinstance(value, Role):
        return value
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        raise ParameterError(
            f"{value!r} is not a role; use one of {', '.join(r.value for r in Role)}"
        ) from None


class Permission(StrEnum):
    """One thing a user may do; pages and server-side actions each need one."""

    VIEW_MAP = "view_map"
    """The map and the commune / hamlet tables (a partner sees only its own operator's sites)."""
    VIEW_SNAPSHOT = "view_snapshot"
    """The snapshot page and its PDF."""
    DOWNLOAD = "download"
    """The downloads page (a partner's downloads are filtered to its operator)."""
    DOWNLOAD_ALL_OPERATORS = "download_all_operators"
    """Downloads with every operator's sites, cells and per-operator coverage."""
    RUN_SCENARIOS = "run_scenarios"
    """Build, run and download one's own scenarios."""
    VIEW_ALL_SCENARIOS = "view_all_scenarios"
    """See and download every user's saved scenarios."""
    SESSION_SETTINGS = "session_settings"
    """Change thresholds and targets for the current session only."""
    PUBLISH_SETTINGS = "publish_settings"
    """Publish official thresholds and targets (versioned, for everybody)."""
    UPLOAD = "upload"
    """Upload files and preview an import."""
    APPLY_IMPORT = "apply_import"
    """Apply a previewed import to the data package."""
    RESTORE_VERSION = "restore_version"
    """Restore a saved version of the data package."""
    VIEW_AUDIT = "view_audit"
    """Read the audit log."""
    MANAGE_USERS = "manage_users"
    """Add and remove accounts, reset passwords."""


#: What each permission lets one do, in the words of a refusal ("may not ...").
_ACTIONS: Mapping[Permission, str] = MappingProxyType(
    {
        Permission.VIEW_MAP: "view the map and tables",
        Permission.VIEW_SNAPSHOT: "view the snapshot and its PDF",
        Permission.DOWNLOAD: "download layers",
        Permission.DOWNLOAD_ALL_OPERATORS: "download other operators' sites, cells or coverage",
        Permission.RUN_SCENARIOS: "run scenarios",
        Permission.VIEW_ALL_SCENARIOS: "see other users' scenarios",
        Permission.SESSION_SETTINGS: "change thresholds and targets",
        Permission.PUBLISH_SETTINGS: "publish official thresholds and targets",
        Permission.UPLOAD: "upload files or preview imports",
        Permission.APPLY_IMPORT: "apply imports to the data package",
        Permission.RESTORE_VERSION: "restore a saved version of the data package",
        Permission.VIEW_AUDIT: "read the audit log",
        Permission.MANAGE_USERS: "manage user accounts",
    }
)

#: The permissions of each role: the one table the pages and downloads consult.
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.ADMIN: frozenset(Permission),
        Role.PLANNER: frozenset(
            {
                Permission.VIEW_MAP,
                Permission.VIEW_SNAPSHOT,
                Permission.DOWNLOAD,
                Permission.DOWNLOAD_ALL_OPERATORS,
                Permission.RUN_SCENARIOS,
                Permission.VIEW_ALL_SCENARIOS,
                Permission.SESSION_SETTINGS,
            }
        ),
        Role.PARTNER: frozenset({Permission.VIEW_MAP, Permission.DOWNLOAD, Permission.RUN_SCENARIOS}),
        Role.LEADERSHIP: frozenset({Permission.VIEW_SNAPSHOT}),
    }
)

#: The app's pages in navigation order.
PAGES: tuple[str, ...] = ("map", "downloads", "snapshot", "scenarios", "settings", "upload", "audit", "users")

#: The permission that opens each page (the page lists in the navigation only then).
PAGE_PERMISSION: Mapping[str, Permission] = MappingProxyType(
    {
        "map": Permission.VIEW_MAP,
        "downloads": Permission.DOWNLOAD,
        "snapshot": Permission.VIEW_SNAPSHOT,
        "scenarios": Permission.RUN_SCENARIOS,
        "settings": Permission.SESSION_SETTINGS,
        "upload": Permission.UPLOAD,
        "audit": Permission.VIEW_AUDIT,
        "users": Permission.MANAGE_USERS,
    }
)

#: Which role wins when identity-provider claims name several (most trusted first).
ROLE_PRECEDENCE: tuple[Role, ...] = (Role.ADMIN, Role.PLANNER, Role.PARTNER, Role.LEADERSHIP)


class Principal(Protocol):
    """Anything with a role and an operator: :class:`auth.users.User`, or a user from OIDC."""

    @property
    def name(self) -> str: ...

    @property
    def role(self) -> Role: ...

    @property
    def operator(self) -> str | None: ...


def allowed(user: Principal | None, permission: Permission) -> bool:
    """Whether ``user`` holds ``permission`` (False for ``None``, i.e. nobody signed in).

    Parameters
    ----------
    user : Principal or None
        The signed-in user.
    permission : Permission
        What the user is about to do.
    """
    if user is None:
        return False
    return Permission(permission) in ROLE_PERMISSIONS[Role(user.role)]


def require(user: Principal | None, permission: Permission) -> None:
    """Raise :class:`~geo.errors.NotPermittedError` unless ``user`` holds ``permission``.

    Call it on the server before every guarded action (page body, download, import, restore),
    whatever the navigation showed.

    Raises
    ------
    NotPermittedError
        Naming the action, the user and the role; ``.permission`` is the permission's value.
    """
    if allowed(user, permission):
        return
    action = _ACTIONS[Permission(permission)]
    if user is None:
        raise NotPermittedError(f"sign in to {action}", permission=str(permission))
    raise NotPermittedError(
        f"{user.name} (role {Role(user.role).value}) may not {action}", permission=str(permission)
    )


def visible_pages(user: Principal | None) -> tuple[str, ...]:
    """The pages ``user`` may open, in navigation order (none when nobody is signed in)."""
    return tuple(page for page in PAGES if allowed(user, PAGE_PERMISSION[page]))


def can_open_page(user: Principal | None, page: str) -> bool:
    """Whether ``user`` may open ``page`` (an unknown page name: never)."""
    permission = PAGE_PERMISSION.get(page)
    return permission is not None and allowed(user, permission)


def operator_filter(user: Principal | None) -> str | None:
    """The one operator whose sites, cells and coverage ``user`` may see, or None for no filter.

    A partner gets its operator (canonical spelling of :class:`geo.schema.Operator`); every other
    role None (they either see every operator or hold no download permission at all). A partner
    account without an operator cannot be built (:class:`auth.users.User` refuses it), and is
    refused here too rather than left unfiltered.
    """
    if user is None or Role(user.role) is not Role.PARTNER:
        return None
    if not user.operator:
        raise NotPermittedError(
            f"{user.name} is a partner without an operator; ask the data office to fix the account",
            permission=str(Permission.DOWNLOAD_ALL_OPERATORS),
        )
    return check_operator(user.operator)


def sees_operator(user: Principal | None, operator: str) -> bool:
    """Whether ``user`` may see base-station data of ``operator`` (any spelling of it).

    Needs :attr:`Permission.VIEW_MAP` or :attr:`Permission.DOWNLOAD`; a partner only sees its own
    operator.
    """
    if not (allowed(user, Permission.VIEW_MAP) or allowed(user, Permission.DOWNLOAD)):
        return False
    own = operator_filter(user)
    if own is None:
        return True
    found = parse_category(Operator, operator)
    return found is not None and found.value == own


def check_operator(value: str) -> str:
    """The canonical name of operator ``value`` (any accepted spelling, e.g. "viettel", "VNPT").

    Raises
    ------
    ParameterError
        When ``value`` names no known operator (the message lists the accepted ones).
    """
    found = parse_category(Operator, value)
    if found is None:
        raise ParameterError(
            f"{value!r} is not a known operator; use one of {', '.join(o.value for o in Operator)}"
        )
    return found.value


# ---------------------------------------------------------------- identity-provider claims


@dataclass(frozen=True)
class RoleGrant:
    """What an identity provider's claims entitle someone to.

    Parameters
    ----------
    role : Role
        The role granted.
    operator : str or None
        Canonical operator name for a partner, else None.
    """

    role: Role
    operator: str | None = None


def _default_role_values() -> Mapping[str, Role]:
    return MappingProxyType({r.value: r for r in Role})


@dataclass(frozen=True)
class ClaimMapping:
    """How OIDC claims (e.g. from Keycloak) become a :class:`RoleGrant`; see docs/ACCESS.md.

    Parameters
    ----------
    roles_claim : str
        Claim holding the user's roles or groups: a list of strings or one string of names
        separated by spaces or commas. A dotted path reaches into nested claims, e.g.
        ``"realm_access.roles"`` or ``"resource_access.phusong.roles"`` (Keycloak), ``"groups"``.
    operator_claim : str
        Claim naming a partner's operator (dotted path allowed); any spelling
        :func:`geo.schema.parse_category` accepts.
    role_values : mapping of str to Role
        Claim value -> role, matched exactly (case-sensitive), e.g. ``{"phusong-admin": Role.ADMIN,
        "/phusong/planners": Role.PLANNER}``. Default: the role names themselves.
    operator_values : mapping of str to str
        Optional claim value -> operator, for groups that name the operator (e.g.
        ``{"/partners/viettel": "Viettel"}``); checked against the roles claim's values too, so a
        group can carry the operator when no operator claim is issued.
    """

    roles_claim: str = "roles"
    operator_claim: str = "operator"
    role_values: Mapping[str, Role] = field(default_factory=_default_role_values)
    operator_values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if not self.roles_claim.strip() or not self.operator_claim.strip():
            raise ParameterError("claim mapping: roles_claim and operator_claim must not be empty")
        for key, value in self.role_values.items():
            if not isinstance(value, Role):
                raise ParameterError(f"claim mapping: value of {key!r} is not a Role")
        canonical = {key: check_operator(value) for key, value in self.operator_values.items()}
        object.__setattr__(self, "role_values", MappingProxyType(dict(self.role_values)))
        object.__setattr__(self, "operator_values", MappingProxyType(canonical))


def claim_mapping_from_dict(table: Mapping[str, Any], source: str = "auth.toml [oidc]") -> ClaimMapping:
    """Build a :class:`ClaimMapping` from the ``[oidc]`` table of ``auth.toml``.

    Keys: ``roles_claim`` (str), ``operator_claim`` (str), ``roles`` (table: claim value -> role
    name) and ``operators`` (table: claim value -> operator). Missing keys keep the defaults.

    Raises
    ------
    ParameterError
        On an unknown key, a value of the wrong type, an unknown role or operator.
    """
    known = {"roles_claim", "operator_claim", "roles", "operators"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ParameterError(f"{source}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for key in ("roles_claim", "operator_claim"):
        if key in table:
            if not isinstance(table[key], str):
                raise ParameterError(f"{source}: {key} must be a string")
            kwargs[key] = table[key]
    for key in ("roles", "operators"):
        if key in table and not (
            isinstance(table[key], Mapping) and all(isinstance(v, str) for v in table[key].values())
        ):
            raise ParameterError(f"{source}: {key} must be a table of strings")
    if "roles" in table:
        roles: dict[str, Role] = {}
        for claim_value, role_name in table["roles"].items():
            try:
                roles[str(claim_value)] = parse_role(role_name)
            except ParameterError as exc:
                raise ParameterError(f"{source}: roles.{claim_value}: {exc}") from None
        kwargs["role_values"] = roles
    if "operators" in table:
        kwargs["operator_values"] = {str(k): v for k, v in table["operators"].items()}
    return ClaimMapping(**kwargs)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of nested claims (a flat key with dots wins), or None."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _values(raw: Any) -> list[str]:
    """A claim as a list of strings: a list's string items, or a string split on spaces/commas."""
    if isinstance(raw, str):
        return [v for v in raw.replace(",", " ").split() if v]
    if isinstance(raw, Iterable) and not isinstance(raw, Mapping | bytes):
        return [v.strip() for v in raw if isinstance(v, str) and v.strip()]
    return []


def claims_to_role(claims: Mapping[str, Any], mapping: ClaimMapping | None = None) -> RoleGrant:
    """Map identity-provider claims to a role (and a partner's operator); pure.

    Parameters
    ----------
    claims : mapping
        The ID token's claims (``st.user`` in Streamlit, or the decoded token).
    mapping : ClaimMapping, optional
        Which claims to read and how their values map; default :class:`ClaimMapping()` (a
        ``roles`` claim holding PhuSong's role names, an ``operator`` claim).

    Returns
    -------
    RoleGrant
        The most trusted role the claims name (:data:`ROLE_PRECEDENCE`), with the operator for a
        partner (None otherwise, even if an operator claim is present).

    Raises
    ------
    ClaimMappingError
        When no claim value maps to a role, or a partner has no operator claim (nor operator
        group) naming a known operator, or names two different ones.
    """
    mapping = mapping or ClaimMapping()
    values = _values(_claim(claims, mapping.roles_claim))
    granted = {mapping.role_values[v] for v in values if v in mapping.role_values}
    if not granted:
        raise ClaimMappingError(
            f"the sign-in claims give no PhuSong role (claim {mapping.roles_claim!r} holds "
            f"{', '.join(values) or 'nothing'}); ask the administrator of the identity provider"
        )
    role = next(r for r in ROLE_PRECEDENCE if r in granted)
    if role is not Role.PARTNER:
        return RoleGrant(role)
    operators = {mapping.operator_values[v] for v in values if v in mapping.operator_values}
    raw_operator = _claim(claims, mapping.operator_claim)
    for raw in [raw_operator.strip()] if isinstance(raw_operator, str) else _values(raw_operator):
        if not raw:
            continue
        if raw in mapping.operator_values:
            operators.add(mapping.operator_values[raw])
            continue
        found = parse_category(Operator, raw)
        if found is None:
            raise ClaimMappingError(f"claim {mapping.operator_claim!r}: {raw!r} is not a known operator")
        operators.add(found.value)
    if len(operators) != 1:
        problem = "names no operator" if not operators else f"names several ({', '.join(sorted(operators))})"
        raise ClaimMappingError(
            f"a partner account must name exactly one operator, but claim {mapping.operator_claim!r} "
            f"{problem}; ask the administrator of the identity provider"
        )
    return RoleGrant(role, operators.pop())
