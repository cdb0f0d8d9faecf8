"""Who may call what: every route of the service and the roles allowed on it, in this one table.

The app factory refuses to start if a route is missing here (or an entry names no route), and the role-matrix
test calls every route as every role from this table. ``PUBLIC`` means anyone, signed in or not; a route
without ``PUBLIC`` needs a valid token of one of the listed roles (401 without one, 403 with another role).
What a permitted caller then sees is narrowed by his scope (``gi.accounts.scope``).
"""

from __future__ import annotations

from enum import StrEnum


class Access(StrEnum):
    """A kind of caller."""

    PUBLIC = "public"
    INSPECTOR = "inspector"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


EVERYONE = frozenset(Access)
SIGNED_IN = frozenset({Access.INSPECTOR, Access.SUPERVISOR, Access.ADMIN})
STAFF = frozenset({Access.SUPERVISOR, Access.ADMIN})
INSPECTORS = frozenset({Access.INSPECTOR, Access.ADMIN})
ADMINS = frozenset({Access.ADMIN})

ROUTES: dict[tuple[str, str], frozenset[Access]] = {
    # Service description and OGC API - Features (Part 1 core); samples are for staff only.
    ("GET", "/"): EVERYONE,
    ("GET", "/api"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/health"): EVERYONE,
    ("GET", "/conformance"): EVERYONE,
    ("GET", "/collections"): EVERYONE,
    ("GET", "/collections/{collection_id}"): EVERYONE,
    ("GET", "/collections/{collection_id}/queryables"): EVERYONE,
    ("GET", "/collections/{collection_id}/items"): EVERYONE,
    ("GET", "/collections/{collection_id}/items/{feature_id}"): EVERYONE,
    # Accounts.
    ("POST", "/auth/token"): EVERYONE,
    ("POST", "/auth/logout"): SIGNED_IN,
    ("GET", "/users/me"): SIGNED_IN,
    # Samples: inspectors upload as themselves; reads are scoped (own, region, all).
    ("POST", "/samples"): INSPECTORS,
    ("GET", "/samples"): SIGNED_IN,
    ("GET", "/samples/{sample_id}"): SIGNED_IN,
    ("POST", "/samples/form"): INSPECTORS,
    ("POST", "/samples/{sample_id}/photos"): INSPECTORS,
    ("GET", "/samples/{sample_id}/photos/{sha256}"): SIGNED_IN,
    # Batch uploads of sample files: offices import them; the submitter follows the job.
    ("POST", "/jobs/samples"): STAFF,
    ("GET", "/jobs/{job_id}"): SIGNED_IN,
    # Lab results: supervisors (and admins) upload them.
    ("POST", "/lab-results"): STAFF,
    ("POST", "/lab-results/file"): STAFF,
    # Office files (directories, mark authorizations and issuance, capacity, volumes, listings): supervisors.
    ("POST", "/imports/{kind}"): STAFF,
    # Maps and reports: supervisors their region's, the public the notice; a record follows its sample's scope.
    ("GET", "/reports/campaign"): STAFF,
    ("GET", "/reports/notice"): EVERYONE,
    ("GET", "/reports/records/{sample_id}"): SIGNED_IN,
    ("GET", "/maps/season"): STAFF,
    # Plans: published files are public; supervisors plan, draw and record; inspectors see their tasks.
    ("GET", "/plans"): EVERYONE,
    ("POST", "/plans"): STAFF,
    ("GET", "/plans/{plan_id}"): EVERYONE,
    ("POST", "/plans/{plan_id}/draw"): STAFF,
    ("POST", "/plans/{plan_id}/findings"): STAFF,
    ("POST", "/plans/{plan_id}/labels"): STAFF,
    ("GET", "/plans/{plan_id}/files"): EVERYONE,
    ("GET", "/plans/{plan_id}/files/{name}"): EVERYONE,
    ("GET", "/plans/{plan_id}/tasks"): SIGNED_IN,
    ("GET", "/tasks"): SIGNED_IN,
    ("POST", "/tasks/{task_id}/result"): STAFF,
    # OpenRosa for ODK Collect (api/routes/openrosa.py): the caller's form, task list and submissions.
    ("GET", "/odk/formList"): SIGNED_IN,
    ("GET", "/odk/forms/{form_id}.xml"): SIGNED_IN,
    ("GET", "/odk/forms/{form_id}/manifest"): SIGNED_IN,
    ("GET", "/odk/forms/{form_id}/attachments/{name}"): SIGNED_IN,
    ("GET", "/odk/submission"): SIGNED_IN,
    ("POST", "/odk/submission"): INSPECTORS,  # a sample, as POST /samples: inspectors upload as themselves
    # Pages (api/pages): the public results, and the supervisor dashboard of his region.
    ("GET", "/public"): EVERYONE,
    ("GET", "/public/plans/{plan_id}"): EVERYONE,
    ("GET", "/public/plans/{plan_id}/notice.csv"): EVERYONE,
    ("GET", "/login"): EVERYONE,
    ("POST", "/login"): EVERYONE,
    ("POST", "/logout"): SIGNED_IN,
    ("GET", "/dashboard"): STAFF,
    ("GET", "/dashboard/samples/{sample_id}"): STAFF,
    ("GET", "/dashboard/samples/{sample_id}/record.pdf"): STAFF,
    ("GET", "/dashboard/samples/{sample_id}/photos/{sha256}"): STAFF,
    ("GET", "/dashboard/report.pdf"): STAFF,
    ("GET", "/dashboard/notice.pdf"): STAFF,
    ("GET", "/dashboard/map"): STAFF,
    ("GET", "/dashboard/tiles/{layer}/{z}/{x}/{y}.mvt"): STAFF,
}

# Pages answer browsers with HTML (errors too), take the session cookie as well as a bearer token, and send an
# anonymous browser to the sign-in page instead of answering 401.
PAGE_PREFIXES = ("/public", "/dashboard", "/login", "/logout")


def is_page(path: str) -> bool:
    """True for the path (template) of a page route."""
    return any(path == p or path.startswith(p + "/") for p in PAGE_PREFIXES)


# Routes that also take HTTP Basic credentials (ODK Collect signs in so, over TLS) and challenge with Basic.
BASIC_ROUTES: frozenset[tuple[str, str]] = frozenset(key for key in ROUTES if key[1].startswith("/odk/"))

# OGC collections served under /collections/{collection_id}: who may read each one.
COLLECTIONS: dict[str, frozenset[Access]] = {
    "gi-areas": EVERYONE,
    "gi-area-versions": EVERYONE,
    "producers": EVERYONE,
    "samples": STAFF,
}


def allowed(roles: frozenset[Access], role: str | None) -> bool:
    """True when a caller of ``role`` (None = anonymous) may call a route open to ``roles``."""
    return Access.PUBLIC in roles or (role is not None and Access(role) in roles)
