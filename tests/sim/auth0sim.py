#!/usr/bin/env python3
"""auth0sim.py - a fake Auth0 tenant over HTTPS, for back-auth0's tests.

It serves a tenant snapshot directory (DESIGN.md section 2: users.ndjson,
roles.json, clients.json, connections.json and an optional authz.json) the
way Auth0 would: the Authentication API's POST /oauth/token (client
credentials, password-realm and mfa-otp grants), the Management API v2 read
endpoints the module uses (users with the 1000-result cap, users-export jobs
whose gzip NDJSON file is downloaded from the simulator itself, roles and
role members with checkpoint paging, clients, connections) and the
Authorization Extension API under /authz/api.  Shapes, limits and error
bodies follow shared/docs/auth0-api.md.  Every answer carries the
x-ratelimit-* headers; a token bucket (--rate) answers 429 when exceeded.

Tests steer it through a control API under /__sim/ (fault injection,
statistics, token expiry, tenant reload, settings).  Files named sim-* in
the tenant directory hold what Auth0 never shows (client secrets and
grants, user passwords and login outcomes); they are never served, and
top-level keys starting with "_" are stripped from every tenant object.

Python 3.11 standard library only.  README.md next to this file describes
the command line, the control API and the tenant files.
"""

import argparse
import base64
import collections
import csv
import gzip
import hmac
import io
import ipaddress
import json
import math
import os
import re
import secrets
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# Constants

MGMT, AUTHZ, USER = "management", "authz", "user"
AUTHZ_AUDIENCE = "urn:auth0-authz-api"
AUTHZ_PREFIX = "/authz/api"
RATE_LIMITED_PREFIXES = ("/api/v2/", AUTHZ_PREFIX + "/")

GRANT_CC = "client_credentials"
GRANT_REALM = "http://auth0.com/oauth/grant-type/password-realm"
GRANT_MFA_OTP = "http://auth0.com/oauth/grant-type/mfa-otp"
GRANT_MFA_OOB = "http://auth0.com/oauth/grant-type/mfa-oob"
ALL_GRANTS = (GRANT_CC, GRANT_REALM, GRANT_MFA_OTP, GRANT_MFA_OOB)
PUSH_AUTHENTICATOR = "push|dev_sim"
MGMT_READ_SCOPES = ("read:users", "read:roles", "read:clients", "read:connections",
                    "read:logs", "read:organizations", "read:organization_members",
                    "read:organization_member_roles", "read:groups", "read:group_members")
AUTHZ_READ_SCOPES = ("read:users", "read:groups", "read:roles", "read:permissions",
                     "read:configuration", "read:applications", "read:connections")
PASSWORD_STRATEGIES = ("auth0", "ad", "auth0-adldap")
CASE_INSENSITIVE_FIELDS = ("email", "email.domain", "name", "given_name",
                           "family_name", "nickname")
SECRET_PARAMS = ("password", "client_secret", "otp", "mfa_token", "access_token",
                 "id_token", "code", "signature")

USERS_CAP = 1000
MFA_TOKEN_TTL = 600
HANDSHAKE_TIMEOUT = 10
KEEP_ALIVE_TIMEOUT = 120
UNLIMITED = 1000            # x-ratelimit-limit reported when no --rate is set
JSON_TYPE = "application/json; charset=utf-8"
GUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")

MSG_INVALID_PAGING = ("You can only page through the first 1000 records. See "
                      "https://auth0.com/docs/users/search/v3/view-search-results-by-page"
                      "#limitation")
MSG_EXPIRED = "Expired token received for JSON Web Token validation"
MSG_WRONG_PASSWORD = "Wrong email or password."
MSG_TOO_MANY = ("Your account has been blocked after multiple consecutive login attempts. "
                "We've sent you an email with instructions on how to unblock it.")
MSG_SUSPICIOUS = ("We have detected suspicious login behavior and further attempts will "
                  "be blocked. Please contact the administrator.")
MSG_LEAKED = ("This login attempt has been blocked because the password you're using was "
              "previously disclosed through a data breach (not in this application). "
              "Please check your email for more information.")
MSG_NO_GRANT = ('Client is not authorized to access "{}". You need to create a '
                '"client-grant" associated to this API. See: '
                "https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants")
TOO_MANY_REQUESTS = {"statusCode": 429, "error": "Too Many Requests",
                     "message": "Global limit has been reached",
                     "errorCode": "too_many_requests"}
ACCESS_DENIED_XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied'
                     b"</Code><Message>Access denied</Message></Error>")
PARAM_HELP = {"page": "Page index of the results to return. First page is 0.",
              "per_page": "Number of results per page.",
              "take": "Number of results per page. Defaults to 50."}


# ---------------------------------------------------------------------------
# Small helpers

def json_bytes(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def iso_now():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (now % 1 * 1000)


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def same_secret(given, expected):
    """Constant-time comparison of two strings (None never matches)."""
    if given is None or expected is None:
        return False
    return hmac.compare_digest(str(given).encode("utf-8"), str(expected).encode("utf-8"))


def pick(obj, keys):
    return {k: obj[k] for k in keys if k in obj}


def public(obj):
    """A tenant object without its private top-level keys (those starting with '_')."""
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def redacted_target(path, raw_query):
    """Path and query for logs and stats, with secret-looking parameters hidden."""
    if not raw_query:
        return path
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    safe = [(k, "REDACTED" if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
    return path + "?" + urllib.parse.urlencode(safe)


# ---------------------------------------------------------------------------
# Errors and responses

class HttpError(Exception):
    """An error answer, raised anywhere while a request is handled."""

    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def api_error(status, message, error_code=None, **extra):
    """Management API error envelope {statusCode, error, message, errorCode?}."""
    body = {"statusCode": status, "error": reason(status), "message": message}
    if error_code:
        body["errorCode"] = error_code
    body.update(extra)
    return HttpError(status, body)


def oauth_error(status, error, description, **extra):
    """Authentication API error body {error, error_description, ...}."""
    return HttpError(status, {"error": error, "error_description": description, **extra})


def query_error(detail):
    return api_error(400, "Query validation error: " + detail, "invalid_query_string")


def joi_error(source, key, rule):
    """The Authorization Extension's (hapi + joi) validation error."""
    return HttpError(400, {"statusCode": 400, "error": "Bad Request",
                           "message": f'child "{key}" fails because ["{key}" {rule}]',
                           "validation": {"source": source, "keys": [key]}})


class Response:
    """What the simulator sends back; `action` may be "reset" or "truncate"."""

    def __init__(self, status, body=b"", content_type=JSON_TYPE, headers=None, action=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = dict(headers or {})
        self.action = action

    @classmethod
    def json(cls, status, obj, headers=None):
        return cls(status, json_bytes(obj), headers=headers)


# ---------------------------------------------------------------------------
# Requests

class Request:
    """One parsed HTTP request plus what the pipeline learns about it."""

    def __init__(self, method, target, headers, body, client_ip):
        split = urllib.parse.urlsplit(target)
        self.method, self.path, self.raw_query = method, split.path, split.query
        self.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        self.headers, self.body, self.client_ip = headers, body, client_ip
        self.route, self.params, self.token, self.fault = None, {}, None, None
        self.rate_headers = None

    @property
    def host(self):
        return self.headers.get("Host")

    def arg(self, name, default=None):
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name):
        return self.query.get(name, [])

    def has_any(self, *names):
        return any(name in self.query for name in names)

    def flag(self, name, default=False):
        value = self.arg(name)
        if value is None or value == "":
            return default
        if value not in ("true", "false"):
            raise query_error(f"'Expected type boolean but found type string' on property {name}.")
        return value == "true"

    def integer(self, name, default, low, high=None):
        """A Management API integer query parameter, validated like Auth0 does."""
        text = self.arg(name)
        if text is None or text == "":
            return default
        help_text = PARAM_HELP.get(name, name)
        if not re.fullmatch(r"-?\d+", text):
            raise query_error(f"'Expected type integer but found type string' on property "
                              f"{name} ({help_text}).")
        value = int(text)
        if value < low:
            raise query_error(f"'Value {value} is less than minimum {low}' on property "
                              f"{name} ({help_text}).")
        if high is not None and value > high:
            raise query_error(f"'Value {value} is greater than maximum {high}' on property "
                              f"{name} ({help_text}).")
        return value

    def json_body(self):
        try:
            return json.loads(self.body.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise api_error(400, "Invalid request payload JSON format") from None

    def form(self):
        """/oauth/token parameters, form-encoded or JSON."""
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype == "application/json":
            try:
                data = json.loads(self.body.decode("utf-8") or "{}")
            except (UnicodeDecodeError, json.JSONDecodeError):
                data = None
            if not isinstance(data, dict):
                raise oauth_error(400, "invalid_request", "Invalid JSON body")
            return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()
                    if v is not None}
        text = self.body.decode("utf-8", "replace")
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))


def read_chunked(rfile):
    chunks = []
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        chunks.append(rfile.read(size))
        rfile.readline()
    while rfile.readline() not in (b"\r\n", b"\n", b""):
        pass
    return b"".join(chunks)


def read_request(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = read_chunked(handler.rfile)
    else:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length > 0 else b""
    return Request(handler.command, handler.path, handler.headers, body,
                   handler.client_address[0])


class Route:
    """METHOD + path template ("/api/v2/roles/{id}/users") -> handler."""

    def __init__(self, method, template, handler, api=None, scopes=(), all_scopes=False):
        self.method, self.template, self.handler = method, template, handler
        self.api, self.scopes, self.all_scopes = api, tuple(scopes), all_scopes
        self.name = f"{method} {template}"
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        self.regex = re.compile(pattern + r"\Z")

    def match(self, req):
        if req.method != self.method:
            return None
        m = self.regex.match(req.path)
        if m is None:
            return None
        return {k: urllib.parse.unquote(v) for k, v in m.groupdict().items()}


# ---------------------------------------------------------------------------
# Paging

def offset_page(req, items, key, per_page_default=50, per_page_min=1,
                with_length=False, project=None):
    """page/per_page paging: a bare array, or with include_totals an envelope."""
    page = req.integer("page", 0, 0)
    per_page = req.integer("per_page", per_page_default, per_page_min, 100)
    start = page * per_page
    chunk = items[start:start + per_page]
    if project:
        chunk = [project(item) for item in chunk]
    if not req.flag("include_totals"):
        return chunk
    envelope = {"start": start, "limit": per_page}
    if with_length:
        envelope["length"] = len(chunk)
    envelope.update({"total": len(items), key: chunk})
    return envelope


def checkpoint_page(req, items, key, scope):
    """from/take paging: {key: [...], "next": "..."}; no next on the last page."""
    take = req.integer("take", 50, 1, 100)
    start = decode_checkpoint(req.arg("from"), scope)
    body = {key: items[start:start + take]}
    if start + take < len(items):
        body["next"] = b64url(f"{scope}:{start + take}".encode("utf-8"))
    return body


def decode_checkpoint(value, scope):
    if not value:
        return 0
    try:
        owner, _, offset = unb64url(value).decode("utf-8").rpartition(":")
        if owner == scope and offset.isdigit():
            return int(offset)
    except (ValueError, UnicodeDecodeError):
        pass
    raise query_error("'from' is not a valid checkpoint (it must be a previous 'next').")


def field_projection(req):
    """fields=a,b&include_fields=true|false as a function object -> object."""
    spec = req.arg("fields")
    if not spec:
        return None
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if req.flag("include_fields", True):
        return lambda obj: {k: obj[k] for k in names if k in obj}
    return lambda obj: {k: v for k, v in obj.items() if k not in names}


# ---------------------------------------------------------------------------
# User search (the subset of Auth0's Lucene syntax a sync client needs)

TERM_RE = re.compile(r"""
    (?P<field>[A-Za-z_][\w.]*):
    (?: "(?P<quoted>(?:[^"\\]|\\.)*)"
      | (?P<range>[\[{][^\]}]*[\]}])
      | (?P<bare>(?:[^\s\\()"]|\\.)+) )""", re.X)
JOIN_RE = re.compile(r"\s+(?:AND\s+)?|\s*\Z")


def parse_query(q):
    """q -> list of predicates, all of which must hold (terms joined by AND)."""
    terms, pos, q = [], 0, q.strip()
    while pos < len(q):
        term = TERM_RE.match(q, pos)
        join = term and JOIN_RE.match(q, term.end())
        if not term or not join:
            raise query_error(f"unsupported query near '{q[pos:pos + 30]}' (the simulator "
                              "understands field:value terms joined by AND).")
        terms.append(term_predicate(term))
        pos = join.end()
    return terms


def term_predicate(term):
    field = term["field"]
    if term["range"] is not None:
        return range_predicate(field, term["range"])
    raw = term["quoted"] if term["quoted"] is not None else term["bare"]
    value = re.sub(r"\\(.)", r"\1", raw)
    if field == "_exists_":
        return lambda user: bool(field_values(user, value))
    return value_predicate(field, value, wildcard=term["bare"] is not None)


def value_predicate(field, value, wildcard):
    flags = re.I if field in CASE_INSENSITIVE_FIELDS else 0
    parts = value.split("*") if wildcard else [value]
    pattern = re.compile(".*".join(re.escape(p) for p in parts) + r"\Z", flags | re.S)
    return lambda user: any(pattern.match(v) for v in field_values(user, field))


def range_predicate(field, text):
    low_incl, high_incl = text[0] == "[", text[-1] == "]"
    bounds = re.split(r"\s+TO\s+", text[1:-1].strip(), maxsplit=1)
    if len(bounds) != 2:
        raise query_error(f"bad range {text}.")
    low, high = (b.strip().strip('"') for b in bounds)

    def inside(value):
        if low != "*" and (compare(value, low) < 0 or (compare(value, low) == 0 and not low_incl)):
            return False
        return high == "*" or compare(value, high) < 0 or (compare(value, high) == 0 and high_incl)
    return lambda user: any(inside(v) for v in field_values(user, field))


def compare(a, b):
    try:
        x, y = float(a), float(b)
    except ValueError:
        x, y = a, b
    return (x > y) - (x < y)


def field_values(obj, path):
    """Scalar values at a dotted path (array levels skipped), as query text."""
    if path == "email.domain":
        email = obj.get("email") or ""
        return [email.rpartition("@")[2]] if "@" in email else []
    current = [obj]
    for part in path.split("."):
        current = [item for c in current if isinstance(c, dict) and part in c
                   for item in (c[part] if isinstance(c[part], list) else [c[part]])]
    return [json.dumps(v) if isinstance(v, bool) else str(v) for v in current
            if v is not None and not isinstance(v, (dict, list))]


def sort_items(items, spec):
    """sort=field:1|-1; users without the field come last."""
    if not spec:
        return items
    field, _, direction = spec.partition(":")
    if not field or direction not in ("1", "-1"):
        raise query_error(f"'sort' must look like field:1 or field:-1, not '{spec}'.")
    present = [u for u in items if u.get(field) is not None]
    missing = [u for u in items if u.get(field) is None]
    present.sort(key=lambda u: sort_key(u[field]), reverse=direction == "-1")
    return present + missing


def sort_key(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value, "")
    return (1, 0, value if isinstance(value, str) else json.dumps(value))


# ---------------------------------------------------------------------------
# The tenant

def read_json(path, default):
    if not os.path.exists(path):
        return default
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}: {e}") from None


def read_ndjson(path):
    if not os.path.exists(path):
        return []
    objects = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{number}: {e}") from None
    return objects


def default_sim_clients():
    """The M2M client used when the tenant has no sim-clients.json."""
    return [{"client_id": "sim-m2m-client", "client_secret": "sim-m2m-secret",
             "grants": {"https://DOMAIN/api/v2/": list(MGMT_READ_SCOPES),
                        AUTHZ_AUDIENCE: list(AUTHZ_READ_SCOPES)},
             "grant_types": list(ALL_GRANTS)}]


class Tenant:
    """A tenant snapshot directory, loaded and indexed (read-only once built)."""

    def __init__(self, directory):
        if not os.path.isdir(directory):
            raise ValueError(f"tenant directory {directory} does not exist")
        self.directory = directory
        try:
            self._load(lambda name: os.path.join(directory, name))
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"{directory}: malformed tenant data ({e!r})") from None

    def _load(self, path):
        self.users = [public(u) for u in read_ndjson(path("users.ndjson"))]
        self.roles = [public(r) for r in read_json(path("roles.json"), [])]
        self.clients = [public(c) for c in read_json(path("clients.json"), [])]
        self.connections = [public(c) for c in read_json(path("connections.json"), [])]
        self.groups = [public(g) for g in read_json(path("groups.json"), [])]
        self.organizations = [public(o) for o in read_json(path("organizations.json"), [])]
        authz = read_json(path("authz.json"), None)
        self.authz = AuthzStore(authz) if authz is not None else None
        sim_clients = read_json(path("sim-clients.json"), None)
        self.sim_clients = default_sim_clients() if sim_clients is None else sim_clients
        self.sim_users = read_json(path("sim-users.json"), {})
        self.user_by_id = {u.get("user_id"): u for u in self.users}
        self.role_by_id = {r.get("id"): r for r in self.roles}
        self.connection_by_id = {c.get("id"): c for c in self.connections}
        self.connection_by_name = {c.get("name"): c for c in self.connections}
        self.sim_client_by_id = {c.get("client_id"): c for c in self.sim_clients}
        self.group_by_id = {g.get("id"): g for g in self.groups}
        self.organization_by_id = {o.get("id"): o for o in self.organizations}
        self.by_login = {}          # lower-case e-mail or username -> users, in file order
        for u in self.users:
            for key in {(u.get("email") or "").lower(), (u.get("username") or "").lower()} - {""}:
                self.by_login.setdefault(key, []).append(u)

    def counts(self):
        return {"users": len(self.users), "roles": len(self.roles),
                "clients": len(self.clients), "connections": len(self.connections),
                "groups": len(self.groups), "organizations": len(self.organizations),
                "authz": self.authz is not None}

    def users_of_connection(self, name):
        """Users whose primary identity is in connection `name` (export jobs)."""
        return [u for u in self.users if primary_connection(u) == name]

    def find_login(self, realm, username, password):
        """The user of connection `realm` whose email or username is `username`.

        Should several match (one's username is another's e-mail), the one
        whose password matches wins, else the first."""
        matches = [u for u in self.by_login.get(username.lower(), []) if realm in connections_of(u)]
        for user in matches:
            if same_secret(password, self.login_profile(user).get("password")):
                return user
        return matches[0] if matches else None

    def login_profile(self, user):
        """sim-users.json entry of a user ("*" is the default entry)."""
        if user is None:
            return {}
        return self.sim_users.get(user.get("user_id")) or self.sim_users.get("*") or {}


def connections_of(user):
    return [i.get("connection") for i in user.get("identities") or [] if isinstance(i, dict)]


def primary_connection(user):
    names = connections_of(user)
    return names[0] if names else None


class AuthzStore:
    """The Authorization Extension's store (authz.json) with its group graph."""

    def __init__(self, data):
        self.data = data
        self.groups = {g["_id"]: g for g in data.get("groups", [])}
        self.roles = {r["_id"]: r for r in data.get("roles", [])}
        self.permissions = {p["_id"]: p for p in data.get("permissions", [])}
        self.parents = collections.defaultdict(list)
        for group in self.groups.values():
            for child in group.get("nested") or []:
                self.parents[child].append(group["_id"])

    def find(self, table, record_id):
        """A group, role or permission by id: 400 for a malformed id, 404 if unknown."""
        records = getattr(self, table)
        if record_id in records:
            return records[record_id]
        if not GUID_RE.match(record_id):
            raise joi_error("params", "id", "must be a valid GUID")
        raise HttpError(404, {"statusCode": 404, "error": "NotFoundError",
                              "message": f"The record {record_id} in {table} does not exist."})

    def walk(self, start, step):
        """Group ids reachable from `start` (included), each visited once."""
        seen, queue = {}, collections.deque([start])     # a dict keeps the visit order
        while queue:
            gid = queue.popleft()
            if gid in seen or gid not in self.groups:
                continue
            seen[gid] = True
            queue.extend(step(gid))
        return list(seen)

    def descendants(self, gid):
        return self.walk(gid, lambda g: self.groups[g].get("nested") or [])

    def ancestors(self, gid):
        return self.walk(gid, lambda g: self.parents.get(g, []))

    def direct_groups(self, user_id):
        return [gid for gid, g in self.groups.items() if user_id in (g.get("members") or [])]


# ---------------------------------------------------------------------------
# The tenant log (GET /api/v2/logs): what Auth0 records for each change

LOG_ID_WIDTH = 24           # log_ids are decimal text of one width: text order = id order
LOGIN_FIELDS = ("last_login", "logins_count", "last_ip", "updated_at")
MSG_OLD_CHECKPOINT = ("The log event 'from' refers to is no longer available (older than the "
                      "tenant's log retention).")


def make_log_id(n):
    return "9002" + str(n).zfill(LOG_ID_WIDTH - 4)


class EventLog:
    """Log events with increasing log_ids; events older than `retention` seconds are gone.

    `pruned` is the newest log_id dropped so far: a checkpoint older than it
    lost events, so Auth0 refuses it."""

    def __init__(self, retention=0):
        self.lock = threading.Lock()
        self.events, self.seq, self.pruned, self.retention = [], 0, None, retention

    def record(self, event_type, description, user=None, user_id=None, method=None,
               path=None, body=None, connection=None, client_id=None, date=None):
        event = {"date": date or iso_now(), "type": event_type, "description": description}
        if user is not None:
            user_id = user.get("user_id")
            event["user_name"] = user.get("email") or user.get("username") or user_id
            connection = connection or primary_connection(user)
        if user_id is not None:
            event["user_id"] = user_id
        if connection:
            event["connection"] = connection
        if client_id:
            event["client_id"] = client_id
        if path:
            request = {"method": method or "patch", "path": path}
            if body is not None:
                request["body"] = body
            event["details"] = {"request": request}
        with self.lock:
            self.seq += 1
            event["log_id"] = make_log_id(self.seq)
            self.events.append(event)
        return event

    def add_raw(self, events):
        """Appends test-supplied events as they are (a log_id is added when missing)."""
        with self.lock:
            for event in events:
                self.seq += 1
                event = dict(event)
                event.setdefault("log_id", make_log_id(self.seq))
                event.setdefault("date", iso_now())
                self.events.append(event)
        return len(events)

    def expire(self, keep=0):
        """Drops every event but the newest `keep` (as if retention had passed)."""
        with self.lock:
            cut = max(0, len(self.events) - keep)
            if cut:
                self.pruned = self.events[cut - 1]["log_id"]
                self.events = self.events[cut:]
            return cut

    def _prune(self):
        if self.retention <= 0:
            return
        limit = time.time() - self.retention
        while self.events and parse_iso(self.events[0]["date"]) < limit:
            self.pruned = self.events.pop(0)["log_id"]

    def since(self, checkpoint, take):
        """Events newer than `checkpoint`, at most `take` (400 when too old)."""
        if not re.fullmatch(r"\d{1,64}", checkpoint):
            raise query_error("'from' must be a log_id.")
        with self.lock:
            self._prune()
            if self.pruned is not None and int(checkpoint) < int(self.pruned):
                raise api_error(400, MSG_OLD_CHECKPOINT, "invalid_query_string")
            newer = [e for e in self.events if int(e["log_id"]) > int(checkpoint)]
        return newer[:take]

    def all(self):
        with self.lock:
            self._prune()
            return list(self.events)


def parse_iso(text):
    try:
        return time.mktime(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except (TypeError, ValueError):
        return 0


def changed_fields(old, new):
    keys = set(old) | set(new)
    return sorted(k for k in keys if old.get(k) != new.get(k))


def diff_events(log, old, new):
    """The events Auth0 would have logged while `old` became `new` (tenant reload)."""
    diff_users(log, old, new)
    diff_roles(log, old, new)
    for name, items_old, items_new, key in (
            ("clients", old.clients, new.clients, "client_id"),
            ("connections", old.connections, new.connections, "id")):
        diff_resource(log, name, items_old, items_new, key)
    # native groups and organizations: their member lists (and a group's roles)
    for name, items_old, items_new in (
            ("groups", old.groups, new.groups),
            ("organizations", old.organizations, new.organizations)):
        diff_resource(log, name, items_old, items_new, "id", members=True)


def diff_users(log, old, new):
    for user in new.users:
        uid = user.get("user_id")
        before = old.user_by_id.get(uid)
        if before is None:
            log.record("ss", "Successful signup", user)
            continue
        fields = changed_fields(before, user)
        if any(f not in LOGIN_FIELDS for f in fields):
            log.record("sapi", "Update a user", user, method="patch",
                       path="/api/v2/users/" + urllib.parse.quote(uid, safe=""),
                       body={f: user.get(f) for f in fields if f not in LOGIN_FIELDS})
        elif "logins_count" in fields or "last_login" in fields:
            log.record("s", "Success Login", user, client_id="sim-bind-client")
        if old.login_profile(before).get("password") != new.login_profile(user).get("password"):
            log.record("scp", "Change password", user)
    for user in old.users:
        if user.get("user_id") not in new.user_by_id:
            log.record("sdu", "Successful user deletion", user)


def diff_roles(log, old, new):
    for role in new.roles:
        rid = role.get("id")
        path = "/api/v2/roles/" + urllib.parse.quote(str(rid), safe="")
        before = old.role_by_id.get(rid)
        if before is None:
            log.record("sapi", "Create a role", method="post", path="/api/v2/roles",
                       body={"name": role.get("name")})
            before = {"members": []}
        elif changed_fields(role_summary(before), role_summary(role)):
            log.record("sapi", "Update a role", method="patch", path=path)
        if (before.get("permissions") or []) != (role.get("permissions") or []) and \
                "id" in before:
            log.record("sapi", "Add permissions to a role", method="post",
                       path=path + "/permissions")
        was, now = set(before.get("members") or []), set(role.get("members") or [])
        if now - was:
            log.record("sapi", "Assign users to a role", method="post", path=path + "/users",
                       body={"users": sorted(now - was)})
        for uid in sorted(was - now):
            log.record("sapi", "Removes roles from a user", user_id=uid, method="delete",
                       path="/api/v2/users/" + urllib.parse.quote(uid, safe="") + "/roles",
                       body={"roles": [rid]})
    for role in old.roles:
        if role.get("id") not in new.role_by_id:
            log.record("sapi", "Delete a role", method="delete",
                       path="/api/v2/roles/" + urllib.parse.quote(str(role.get("id")), safe=""))


def diff_resource(log, name, old_items, new_items, key, members=False):
    """Creations, updates and deletions of clients, connections, groups, organizations."""
    old_by = {i.get(key): i for i in old_items}
    new_by = {i.get(key): i for i in new_items}
    for ident, item in new_by.items():
        path = f"/api/v2/{name}/" + urllib.parse.quote(str(ident), safe="")
        before = old_by.get(ident)
        if before is None:
            log.record("sapi", f"Create {name}", method="post", path=f"/api/v2/{name}")
            continue
        fields = changed_fields(before, item)
        if members and "members" in fields:
            log.record("sapi", f"Update {name} members", method="post", path=path + "/members")
            fields.remove("members")
        if fields:
            log.record("sapi", f"Update {name}", method="patch", path=path)
    for ident in old_by:
        if ident not in new_by:
            log.record("sapi", f"Delete {name}", method="delete",
                       path=f"/api/v2/{name}/" + urllib.parse.quote(str(ident), safe=""))


# ---------------------------------------------------------------------------
# Tokens, rate limit, faults, statistics, export jobs

class TokenStore:
    """Access tokens and MFA tokens issued by /oauth/token (server-side state)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tokens, self.mfa = {}, {}

    def issue(self, claims, ttl, kind):
        now = time.time()
        claims = dict(claims, iat=int(now), exp=int(now + ttl), jti=secrets.token_hex(8))
        header = {"alg": "RS256", "typ": "JWT", "kid": "auth0sim"}
        token = ".".join((b64url(json_bytes(header)), b64url(json_bytes(claims)),
                          b64url(secrets.token_bytes(32))))
        with self.lock:
            self.tokens[token] = {"claims": claims, "kind": kind, "expires": now + ttl}
        return token

    def lookup(self, token):
        with self.lock:
            return self.tokens.get(token)

    def expire_all(self):
        with self.lock:
            for entry in self.tokens.values():
                entry["expires"] = 0
            for entry in self.mfa.values():
                entry["expires"] = 0
            return len(self.tokens)

    def issue_mfa(self, user_id, client_id):
        token = "Fe26.2**" + secrets.token_hex(24)
        with self.lock:
            self.mfa[token] = {"user_id": user_id, "client_id": client_id,
                               "expires": time.time() + MFA_TOKEN_TTL}
        return token

    def mfa_lookup(self, token):
        with self.lock:
            return self.mfa.get(token)

    def mfa_consume(self, token):
        with self.lock:
            self.mfa.pop(token, None)

    def otp_reused(self, user_id, otp, window):
        """True when this code was accepted for this user less than window s ago;
        else remembers it (a TOTP code is good once, as at Auth0)."""
        now = time.time()
        with self.lock:
            used = getattr(self, "used_otps", None)
            if used is None:
                used = self.used_otps = {}
            for key in [k for k, t in used.items() if now - t >= window]:
                del used[key]
            if (user_id, otp) in used:
                return True
            if window > 0:
                used[(user_id, otp)] = now
            return False


class PushStore:
    """Guardian push challenges (mfa-oob): pending until approved or denied,
    by a test (approve/deny, /__sim/push) or by push_answer after push_after polls."""

    def __init__(self):
        self.lock = threading.Lock()
        self.challenges = {}
        self.slow_downs = self.polls = 0

    def create(self, user_id, mfa_token, answer, after):
        code = "oob_" + secrets.token_hex(16)
        with self.lock:
            self.challenges[code] = {"user_id": user_id, "mfa_token": mfa_token,
                                     "state": "pending", "polls": 0, "last_poll": time.monotonic(),
                                     "answer": answer, "after": after}
        return code

    def decide(self, action, user_id=None):
        """approve / deny every pending challenge (of user_id); how many."""
        state = {"approve": "approved", "deny": "denied"}[action]
        n = 0
        with self.lock:
            for c in self.challenges.values():
                if c["state"] == "pending" and user_id in (None, c["user_id"]):
                    c["state"] = state
                    n += 1
        return n

    def pending(self):
        with self.lock:
            return sum(c["state"] == "pending" for c in self.challenges.values())

    def poll(self, code, min_interval):
        """The challenge's state after one poll: pending, slow_down, approved, denied, None."""
        with self.lock:
            c = self.challenges.get(code)
            if c is None:
                return None, None
            now = time.monotonic()
            too_soon = now - c["last_poll"] < min_interval
            c["last_poll"] = now
            c["polls"] += 1
            self.polls += 1
            if c["state"] == "pending" and c["answer"] and c["polls"] >= c["after"]:
                c["state"] = {"approve": "approved", "deny": "denied"}[c["answer"]]
            if too_soon and c["state"] == "pending":
                self.slow_downs += 1
                return "slow_down", c
            if c["state"] != "pending":
                self.challenges.pop(code, None)
            return c["state"], c


class TokenBucket:
    """Request-rate limiter: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate=0.0, burst=None):
        self.lock = threading.Lock()
        self.configure(rate, burst)

    def configure(self, rate, burst=None):
        with self.lock:
            self.rate = float(rate or 0)
            self.burst = int(burst) if burst else max(1, math.ceil(self.rate))
            self.tokens, self.stamp = float(self.burst), time.monotonic()

    def take(self):
        """(allowed, x-ratelimit-* headers) for one request."""
        with self.lock:
            if self.rate <= 0:
                return True, self._headers()
            self._refill()
            allowed = self.tokens >= 1
            if allowed:
                self.tokens -= 1
            return allowed, self._headers()

    def peek(self):
        with self.lock:
            if self.rate > 0:
                self._refill()
            return self._headers()

    def _refill(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def _headers(self):
        now = time.time()
        if self.rate <= 0:
            return {"x-ratelimit-limit": str(UNLIMITED), "x-ratelimit-remaining": str(UNLIMITED),
                    "x-ratelimit-reset": str(int(now))}
        if self.tokens >= self.burst:
            reset = int(now)
        else:   # epoch second at which the next whole token arrives
            reset = math.ceil(now + (1 - self.tokens % 1) / self.rate)
        return {"x-ratelimit-limit": str(self.burst),
                "x-ratelimit-remaining": str(int(self.tokens)),
                "x-ratelimit-reset": str(reset)}


FAULT_ACTIONS = ("status", "delay", "latency", "truncate", "malformed", "reset", "rate_limit",
                 "fail_job", "trickle", "stall")
FAULT_KEYS = set(FAULT_ACTIONS) | {"path_prefix", "method", "query", "body", "headers",
                                   "count", "skip", "reset_after"}


class Fault:
    """One fault-injection rule (see README.md, "Fault injection")."""

    def __init__(self, spec):
        if not isinstance(spec, dict):
            raise ValueError("a fault rule is a JSON object")
        unknown = sorted(set(spec) - FAULT_KEYS)
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(unknown)}")
        if not any(spec.get(k) for k in FAULT_ACTIONS):
            raise ValueError(f"a fault rule needs one of: {', '.join(FAULT_ACTIONS)}")
        for key in ("count", "skip", "status", "delay", "latency", "reset_after", "trickle",
                    "stall"):
            if spec.get(key) is not None and not isinstance(spec[key], (int, float)):
                raise ValueError(f"fault key {key} must be a number")
        self.spec = dict(spec)
        self.prefix = spec.get("path_prefix", "/")
        self.method = (spec.get("method") or "").upper() or None
        self.remaining, self.skip, self.hits = spec.get("count"), spec.get("skip", 0), 0

    def matches(self, req):
        return (req.path.startswith(self.prefix)
                and (self.method is None or req.method == self.method)
                and (not self.spec.get("query") or self.spec["query"] in req.raw_query))

    def describe(self):
        return dict(self.spec, remaining=self.remaining, skip=self.skip, hits=self.hits)

    def fixed_response(self, req):
        """The answer replacing the real one, or None to let the request through."""
        spec = self.spec
        if spec.get("reset"):
            return Response(0, action="reset")
        if spec.get("rate_limit"):
            reset = math.ceil(time.time() + float(spec.get("reset_after", 1)))
            headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
            return self._with_headers(Response.json(429, spec.get("body") or TOO_MANY_REQUESTS,
                                                    headers))
        if spec.get("status"):
            return self._with_headers(self._status_response(req))
        return None

    def _status_response(self, req):
        status, body = int(self.spec["status"]), self.spec.get("body")
        if isinstance(body, str):
            return Response(status, body.encode("utf-8"), "text/plain; charset=utf-8")
        if body is None and req.path.startswith("/oauth/"):
            body = {"error": "server_error" if status >= 500 else "invalid_request",
                    "error_description": reason(status)}
        elif body is None:
            body = {"statusCode": status, "error": reason(status), "message": reason(status)}
        return Response.json(status, body)

    def _with_headers(self, resp):
        for name, value in (self.spec.get("headers") or {}).items():
            if name.lower() == "content-type":
                resp.content_type = str(value)
            else:
                resp.headers[name] = str(value)
        return resp

    def mangle(self, resp):
        """Apply truncate / malformed to a real answer."""
        malformed = self.spec.get("malformed")
        if isinstance(malformed, str):
            resp.body = malformed.encode("utf-8")
        elif malformed:
            resp.body = resp.body[:len(resp.body) // 2]
        if self.spec.get("truncate"):
            resp.action = "truncate"
        return self._with_headers(resp)


class FaultBook:
    """The active fault rules; the first matching rule with uses left wins."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, specs):
        rules = [Fault(spec) for spec in (specs if isinstance(specs, list) else [specs])]
        with self.lock:
            self.rules.extend(rules)
        return len(rules)

    def clear(self):
        with self.lock:
            self.rules = []

    def describe(self):
        with self.lock:
            return [rule.describe() for rule in self.rules]

    def take(self, req):
        with self.lock:
            for rule in self.rules:
                if rule.remaining == 0 or not rule.matches(req):
                    continue
                if rule.skip > 0:
                    rule.skip -= 1
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                rule.hits += 1
                return rule
        return None


class Stats:
    """Counters for GET /__sim/stats (control requests are not counted)."""

    KEEP = 200

    def __init__(self):
        self.lock = threading.Lock()
        self.in_flight = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.total, self.rate_limited, self.faults_applied = 0, 0, 0
            self.tokens_issued, self.connections = 0, 0
            self.requests, self.statuses = collections.Counter(), collections.Counter()
            self.tokens_by_audience = collections.Counter()
            self.forwarded_for = collections.deque(maxlen=self.KEEP)
            self.logins = collections.deque(maxlen=self.KEEP)
            self.recent = collections.deque(maxlen=500)
            self.max_in_flight = self.in_flight

    def bump(self, name, amount=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + amount)

    def begin(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def end(self, name, req, status):
        label = str(status) if status else "reset"
        with self.lock:
            self.in_flight -= 1
            self.total += 1
            self.requests[name] += 1
            self.statuses[label] += 1
            self.rate_limited += status == 429
            self.recent.append({"method": req.method, "status": label,
                                "path": redacted_target(req.path, req.raw_query)})

    def token_issued(self, audience):
        with self.lock:
            self.tokens_issued += 1
            self.tokens_by_audience[audience] += 1

    def forwarded(self, value):
        with self.lock:
            self.forwarded_for.append(value)

    def login(self, record):
        with self.lock:
            self.logins.append(record)

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "requests": dict(self.requests),
                    "statuses": dict(self.statuses), "rate_limited": self.rate_limited,
                    "tokens_issued": self.tokens_issued,
                    "tokens_by_audience": dict(self.tokens_by_audience),
                    "forwarded_for": list(self.forwarded_for),
                    "last_forwarded_for": self.forwarded_for[-1] if self.forwarded_for else None,
                    "logins": list(self.logins), "faults_applied": self.faults_applied,
                    "connections": self.connections, "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight, "recent": list(self.recent)}


class ExportJob:
    """A users-export job; its file is built at creation, served when completed."""

    def __init__(self, connection, fmt, fields, limit, users, polls_needed):
        self.id = "job_" + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")
        self.connection, self.format, self.fields, self.limit = connection, fmt, fields, limit
        self.created_at, self.polls, self.polls_needed = iso_now(), 0, polls_needed
        self.failed, self.signatures = False, {}
        self.data = build_export(users, fmt, fields)

    def summary(self, status="pending"):
        body = {"type": "users_export", "status": status, "id": self.id,
                "format": self.format, "created_at": self.created_at}
        if self.connection:
            body.update(connection_id=self.connection.get("id"),
                        connection=self.connection.get("name"))
        if self.limit is not None:
            body["limit"] = self.limit
        if self.fields:
            body["fields"] = self.fields
        return body

    def poll(self):
        """Status of the next GET /jobs/{id}: pending, processing..., completed."""
        self.polls += 1
        if self.failed:
            return "failed"
        if self.polls > self.polls_needed:
            return "completed"
        return "pending" if self.polls == 1 else "processing"

    def describe(self, status, location=None):
        body = self.summary(status)
        if status == "processing":
            body.update(percentage_done=50, time_left_seconds=1)
        elif status == "completed":
            body.update(percentage_done=100, time_left_seconds=0, location=location)
        elif status == "failed":
            body["status_details"] = "The export failed (simulated)."
        return body

    def sign(self, base, ttl):
        """A fresh pre-signed download URL valid for `ttl` seconds."""
        signature, expires = secrets.token_urlsafe(16), int(time.time() + ttl)
        self.signatures[signature] = expires
        return (f"{base}/__exports/{self.id}.{self.format}.gz?Expires={expires}"
                f"&Key-Pair-Id=AUTH0SIM&Signature={signature}")


def export_value(obj, path):
    """Value at an export field name such as "identities[0].connection" (or a KeyError)."""
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if token.startswith("["):
            obj = obj[int(token[1:-1])] if isinstance(obj, list) else None
        else:
            obj = obj[token] if isinstance(obj, dict) else None
        if obj is None:
            raise KeyError(path)
    return obj


def export_row(user, fields):
    if not fields:
        return user
    row = {}
    for field in fields:
        try:
            row[field.get("export_as") or field["name"]] = export_value(user, field["name"])
        except (KeyError, IndexError):
            pass
    return row


def csv_cell(value):
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def build_export(users, fmt, fields):
    rows = [export_row(u, fields) for u in users]
    if fmt == "json":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    else:
        columns = [f.get("export_as") or f["name"] for f in fields or []] or \
            sorted({k for r in rows for k in r})
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([csv_cell(r.get(c)) for c in columns] for r in rows)
        text = out.getvalue()
    return gzip.compress(text.encode("utf-8"), mtime=0)


# ---------------------------------------------------------------------------
# Authentication API

class OAuthApi:
    """POST /oauth/token: client credentials, password-realm, mfa-otp."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        return [Route("POST", "/oauth/token", self.token),
                Route("GET", "/mfa/authenticators", self.authenticators),
                Route("POST", "/mfa/challenge", self.challenge)]

    def token(self, req):
        params = req.form()
        grant = require(params, "grant_type")
        handler = {GRANT_CC: self.client_credentials, GRANT_REALM: self.check_password,
                   GRANT_MFA_OTP: self.check_otp, GRANT_MFA_OOB: self.check_oob}.get(grant)
        if handler is None:
            raise oauth_error(403, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        if grant == GRANT_CC:
            return self.grant(req, params, grant, handler)
        return self.recorded(req, params, lambda: self.grant(req, params, grant, handler))

    def grant(self, req, params, grant, handler):
        client = self.client(params)
        if grant not in client.get("grant_types", ALL_GRANTS):
            raise oauth_error(403, "unauthorized_client",
                              f"Grant type '{grant}' not allowed for the client.",
                              error_uri="https://auth0.com/docs/clients/client-grant-types")
        return handler(req, params, client)

    def client(self, params):
        client = self.sim.tenant.sim_client_by_id.get(require(params, "client_id"))
        if client is None or not same_secret(params.get("client_secret"),
                                             client.get("client_secret")):
            raise oauth_error(401, "access_denied", "Unauthorized")
        return client

    # -- client credentials

    def client_credentials(self, req, params, client):
        audience = require(params, "audience")
        kind = self.sim.audience_kind(audience, req)
        if kind is None:
            raise oauth_error(403, "access_denied", f"Service not found: {audience}")
        granted = self.sim.client_scopes(client, kind)
        if granted is None:
            raise oauth_error(403, "access_denied", MSG_NO_GRANT.format(audience))
        scopes = granted
        if params.get("scope"):
            scopes = params["scope"].split()
            missing = [s for s in scopes if s not in granted]
            if missing:
                raise oauth_error(403, "access_denied",
                                  f"Client has not been granted scopes: {', '.join(missing)}")
        claims = {"iss": self.sim.issuer(req), "sub": client["client_id"] + "@clients",
                  "aud": audience, "scope": " ".join(scopes), "gty": "client-credentials",
                  "azp": client["client_id"]}
        self.sim.stats.token_issued(audience)
        return self.token_body(claims, kind)

    def token_body(self, claims, kind):
        ttl = self.sim.config["token_ttl"]
        token = self.sim.tokens.issue(claims, ttl, kind)
        body = {"access_token": token, "expires_in": ttl, "token_type": "Bearer"}
        if claims.get("scope"):
            body["scope"] = claims["scope"]
        return body

    # -- password-realm and MFA

    def recorded(self, req, params, attempt):
        """Run a login attempt; record its outcome (never the password) in stats."""
        forwarded_for = req.headers.get("auth0-forwarded-for")
        self.sim.stats.forwarded(forwarded_for)
        record = {"grant": params["grant_type"].rpartition("/")[2], "realm": params.get("realm"),
                  "username": params.get("username"), "client_id": params.get("client_id"),
                  "forwarded_for": forwarded_for}
        try:
            body = attempt()
            record.update(status=200, error=None)
            self.login_event("s", "Success Login", params)
            return body
        except HttpError as e:
            record.update(status=e.status, error=e.body.get("error"))
            if e.body.get("error") == "invalid_grant":
                self.login_event("fp", "Wrong email or password.", params)
            raise
        finally:
            self.sim.stats.login(record)

    def login_event(self, event_type, description, params):
        """The `s` / `fp` event of a password-realm login (the user, when known)."""
        if params["grant_type"] != GRANT_REALM:
            return
        realm, username = params.get("realm"), params.get("username") or ""
        user = self.sim.tenant.find_login(realm, username, params.get("password"))
        self.sim.events.record(event_type, description, user,
                               connection=realm, client_id=params.get("client_id"))

    def check_password(self, req, params, client):
        username, password = require(params, "username"), require(params, "password")
        realm = self.password_realm(require(params, "realm"))
        tenant = self.sim.tenant
        user = tenant.find_login(realm, username, password)
        profile = tenant.login_profile(user)
        if profile.get("too_many_attempts"):
            text = MSG_SUSPICIOUS if profile["too_many_attempts"] == "ip" else MSG_TOO_MANY
            raise oauth_error(429, "too_many_attempts", text)
        if user is None or not same_secret(password, profile.get("password")):
            raise oauth_error(403, "invalid_grant", MSG_WRONG_PASSWORD)
        if user.get("blocked"):
            raise oauth_error(401, "unauthorized", "user is blocked")
        if profile.get("password_leaked"):
            raise oauth_error(401, "password_leaked", MSG_LEAKED)
        if profile.get("mfa"):
            mfa_token = self.sim.tokens.issue_mfa(user["user_id"], client["client_id"])
            raise oauth_error(403, "mfa_required", "Multifactor authentication required",
                              mfa_token=mfa_token)
        return self.user_token(req, params, user, client)

    def password_realm(self, realm):
        """The realm's name, if it is a connection that takes passwords."""
        connection = self.sim.tenant.connection_by_name.get(realm)
        if connection is None:
            raise oauth_error(400, "invalid_request", f"Unknown realm: {realm}")
        if connection.get("strategy") not in PASSWORD_STRATEGIES:
            raise oauth_error(400, "invalid_request",
                              f"Connection '{realm}' does not accept passwords "
                              f"(strategy {connection.get('strategy')}).")
        return realm

    def check_otp(self, req, params, client):
        mfa_token, otp = require(params, "mfa_token"), require(params, "otp")
        entry = self.sim.tokens.mfa_lookup(mfa_token)
        if entry is None or entry["client_id"] != client["client_id"]:
            raise oauth_error(403, "invalid_grant", "Malformed mfa_token")
        if entry["expires"] <= time.time():
            raise oauth_error(403, "expired_token", "mfa_token is expired")
        user = self.sim.tenant.user_by_id.get(entry["user_id"])
        if user is None or not same_secret(otp, self.sim.tenant.login_profile(user).get("otp")):
            raise oauth_error(403, "invalid_grant", "Invalid otp_code.")
        if self.sim.tokens.otp_reused(user["user_id"], otp, self.sim.config["otp_reuse_window"]):
            raise oauth_error(403, "invalid_grant", "Invalid otp_code.")
        self.sim.tokens.mfa_consume(mfa_token)
        return self.user_token(req, params, user, client)

    # -- Guardian push (mfa-oob)

    def mfa_entry(self, token):
        entry = self.sim.tokens.mfa_lookup(token or "")
        if entry is None:
            raise oauth_error(401, "invalid_grant", "Malformed mfa_token")
        if entry["expires"] <= time.time():
            raise oauth_error(401, "expired_token", "mfa_token is expired")
        return entry

    def push_enrolled(self, user_id):
        user = self.sim.tenant.user_by_id.get(user_id)
        profile = self.sim.tenant.login_profile(user) if user else {}
        return bool(profile.get("mfa")) and profile.get("push", True)

    def authenticators(self, req):
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        entry = self.mfa_entry(token.strip() if scheme.lower() == "bearer" else None)
        user = self.sim.tenant.user_by_id.get(entry["user_id"])
        profile = self.sim.tenant.login_profile(user) if user else {}
        found = []
        if profile.get("otp"):
            found.append({"id": "totp|dev_sim", "authenticator_type": "otp", "active": True})
        if self.push_enrolled(entry["user_id"]):
            found.append({"id": PUSH_AUTHENTICATOR, "authenticator_type": "oob",
                          "oob_channel": "auth0", "name": "Sim phone", "active": True})
        return Response.json(200, found)

    def challenge(self, req):
        params = req.form()
        client = self.client(params)
        entry = self.mfa_entry(params.get("mfa_token"))
        if entry["client_id"] != client["client_id"]:
            raise oauth_error(403, "invalid_grant", "Malformed mfa_token")
        kind = require(params, "challenge_type")
        if kind != "oob" or params.get("authenticator_id") not in (None, PUSH_AUTHENTICATOR) \
                or not self.push_enrolled(entry["user_id"]):
            raise oauth_error(400, "unsupported_challenge_type",
                              "User is not enrolled with this challenge type.")
        cfg = self.sim.config
        code = self.sim.push.create(entry["user_id"], params["mfa_token"], cfg["push_answer"],
                                    cfg["push_after"])
        return {"challenge_type": "oob", "oob_code": code}

    def check_oob(self, req, params, client):
        mfa_token, code = require(params, "mfa_token"), require(params, "oob_code")
        entry = self.sim.tokens.mfa_lookup(mfa_token)
        if entry is None or entry["client_id"] != client["client_id"]:
            raise oauth_error(403, "invalid_grant", "Malformed mfa_token")
        if entry["expires"] <= time.time():
            raise oauth_error(403, "expired_token", "mfa_token is expired")
        state, challenge = self.sim.push.poll(code, self.sim.config["push_interval"])
        if state is None or challenge["mfa_token"] != mfa_token:
            raise oauth_error(403, "invalid_grant", "Invalid oob_code.")
        if state == "slow_down":
            raise oauth_error(400, "slow_down",
                              "You are polling faster than allowed. Try again in 10 seconds.")
        if state == "pending":
            raise oauth_error(400, "authorization_pending",
                              "Authorization pending: please repeat the request in a few seconds.")
        if state == "denied":
            raise oauth_error(403, "invalid_grant", "MFA Authorization rejected.")
        self.sim.tokens.mfa_consume(mfa_token)
        user = self.sim.tenant.user_by_id.get(entry["user_id"])
        return self.user_token(req, params, user, client)

    def user_token(self, req, params, user, client):
        scope = params.get("scope", "")
        audience = params.get("audience") or self.sim.issuer(req) + "userinfo"
        claims = {"iss": self.sim.issuer(req), "sub": user["user_id"], "aud": audience,
                  "azp": client["client_id"], "scope": scope, "gty": "password"}
        body = self.token_body(claims, USER)
        if "openid" in scope.split():
            id_claims = {"iss": claims["iss"], "sub": user["user_id"],
                         "aud": client["client_id"], "email": user.get("email")}
            body["id_token"] = self.sim.tokens.issue(id_claims, self.sim.config["token_ttl"], USER)
        return body


def require(params, name):
    value = params.get(name)
    if value is None or value == "":
        raise oauth_error(400, "invalid_request", f"Missing required parameter: {name}")
    return value


# ---------------------------------------------------------------------------
# Management API v2

class ManagementApi:
    """The read side of /api/v2 a sync client needs, plus users-export jobs."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        def route(method, template, handler, scopes, all_scopes=False):
            return Route(method, "/api/v2" + template, handler, MGMT, scopes, all_scopes)
        return [
            route("GET", "/users", self.users, ["read:users"]),
            route("GET", "/users/{id}", self.user, ["read:users"]),
            route("POST", "/jobs/users-exports", self.create_export, ["read:users"]),
            route("GET", "/jobs/{id}", self.job, ["create:users", "read:users"]),
            route("GET", "/roles", self.roles, ["read:roles"]),
            route("GET", "/roles/{id}/users", self.role_users, ["read:users", "read:roles"], True),
            route("GET", "/roles/{id}/permissions", self.role_permissions, ["read:roles"]),
            route("GET", "/clients", self.clients,
                  ["read:clients", "read:client_keys", "read:client_summary"]),
            route("GET", "/connections", self.connections, ["read:connections"]),
            route("GET", "/connections/{id}/clients", self.connection_clients,
                  ["read:connections"]),
            route("GET", "/groups", self.groups, ["read:groups"]),
            route("GET", "/groups/{id}", self.group, ["read:groups"]),
            route("GET", "/groups/{id}/members", self.group_members, ["read:group_members"]),
            route("GET", "/groups/{id}/roles", self.group_roles, ["read:groups", "read:roles"], True),
            route("GET", "/roles/{id}/groups", self.role_groups, ["read:roles"]),
            route("GET", "/organizations", self.organizations, ["read:organizations"]),
            route("GET", "/organizations/{id}/members", self.organization_members,
                  ["read:organization_members"]),
            route("GET", "/logs", self.logs, ["read:logs"]),
        ]

    # -- users

    def users(self, req):
        check_search_engine(req.arg("search_engine"))
        found = self.sim.tenant.users
        if req.arg("q"):
            predicates = parse_query(req.arg("q"))
            found = [u for u in found if all(p(u) for p in predicates)]
        found = sort_items(found, req.arg("sort"))
        page = req.integer("page", 0, 0)
        per_page = req.integer("per_page", 50, 0, 100)
        if (page + 1) * per_page > USERS_CAP:
            raise api_error(400, MSG_INVALID_PAGING, "invalid_paging")
        return offset_page(req, found, "users", per_page_min=0, with_length=True,
                           project=field_projection(req))

    def user(self, req):
        user = self.sim.tenant.user_by_id.get(req.params["id"])
        if user is None:
            raise api_error(404, "The user does not exist.", "inexistent_user")
        project = field_projection(req)
        return project(user) if project else user

    # -- export jobs

    def create_export(self, req):
        body = req.json_body()
        if not isinstance(body, dict):
            raise api_error(400, "Payload validation error: 'Expected type object'.",
                            "invalid_body")
        tenant, connection = self.sim.tenant, None
        if body.get("connection_id") is not None:
            connection = tenant.connection_by_id.get(body["connection_id"])
            if connection is None:
                raise api_error(400, "The connection does not exist.", "inexistent_connection")
        fmt, fields, limit = export_options(body)
        users = tenant.users_of_connection(connection["name"]) if connection else tenant.users
        job = ExportJob(connection, fmt, fields, limit, users[:limit] if limit else users,
                        self.sim.config["export_polls"])
        job.failed = bool(req.fault and req.fault.spec.get("fail_job"))
        with self.sim.lock:
            self.sim.jobs[job.id] = job
        return job.summary()

    def job(self, req):
        job = self.sim.jobs.get(req.params["id"])
        if job is None:
            raise api_error(404, "Job not found.", "inexistent_job")
        with self.sim.lock:
            if req.fault and req.fault.spec.get("fail_job"):
                job.failed = True
            status = job.poll()
            location = None
            if status == "completed":
                location = job.sign(self.sim.base_url(req), self.sim.config["export_url_ttl"])
        return job.describe(status, location)

    # -- roles

    def roles(self, req):
        items = [role_summary(r) for r in self.sim.tenant.roles]
        wanted = (req.arg("name_filter") or "").lower()
        if wanted:
            items = [r for r in items if wanted in (r.get("name") or "").lower()]
        return offset_page(req, items, "roles")

    def role(self, req):
        role = self.sim.tenant.role_by_id.get(req.params["id"])
        if role is None:
            raise api_error(404, "Role not found.", "inexistent_role")
        return role

    def role_users(self, req):
        role, users = self.role(req), self.sim.tenant.user_by_id
        members = [pick(users.get(uid) or {"user_id": uid}, ("user_id", "email", "name", "picture"))
                   for uid in role.get("members") or []]
        if req.has_any("from", "take"):
            return checkpoint_page(req, members, "users", "role-users:" + role["id"])
        return offset_page(req, members, "users")

    def role_permissions(self, req):
        return offset_page(req, self.role(req).get("permissions") or [], "permissions")

    # -- clients and connections

    def clients(self, req):
        scopes = set(req.token["claims"].get("scope", "").split())
        items = [client_view(c, scopes) for c in self.sim.tenant.clients if client_wanted(c, req)]
        return offset_page(req, items, "clients", project=field_projection(req))

    def connections(self, req):
        strategies, name = req.args("strategy"), req.arg("name")
        items = [c for c in self.sim.tenant.connections
                 if (not strategies or c.get("strategy") in strategies)
                 and (not name or c.get("name") == name)]
        if self.sim.config["hide_enabled_clients"]:
            items = [{k: v for k, v in c.items() if k != "enabled_clients"} for c in items]
        project = field_projection(req)
        if req.has_any("from", "take"):
            items = [project(c) for c in items] if project else items
            return checkpoint_page(req, items, "connections", "connections")
        return offset_page(req, items, "connections", per_page_default=100, project=project)

    def connection_clients(self, req):
        connection = self.sim.tenant.connection_by_id.get(req.params["id"])
        if connection is None:
            raise api_error(404, "The connection does not exist", "inexistent_connection")
        items = [{"client_id": cid} for cid in connection.get("enabled_clients") or []]
        return checkpoint_page(req, items, "clients", "connection-clients:" + connection["id"])


    # -- native groups (auth0-api.md section 10)

    def groups(self, req):
        items = [native_group_view(g) for g in self.sim.tenant.groups]
        for param in ("connection_id", "name", "external_id"):
            if req.arg(param) is not None:
                items = [g for g in items if g.get(param) == req.arg(param)]
        project = field_projection(req)
        if project:
            items = [project(g) for g in items]
        if req.has_any("from", "take"):
            return checkpoint_page(req, items, "groups", "groups")
        return offset_page(req, items, "groups")

    def group(self, req):
        group = self.sim.tenant.group_by_id.get(req.params["id"])
        if group is None:
            raise api_error(404, "The group does not exist.", "inexistent_group")
        return group

    def group_members(self, req):
        """Checkpoint only; members of type user carry their connection."""
        group, users = self.group(req), self.sim.tenant.user_by_id
        items = []
        for m in group.get("members") or []:
            item = {"id": m.get("id"), "member_type": m.get("member_type")}
            if m.get("member_type") == "user":
                conn = primary_connection(users.get(m.get("id")) or {})
                by_name = self.sim.tenant.connection_by_name.get(conn) or {}
                item.update({"type": "connection", "connection_id": by_name.get("id")})
            item["created_at"] = group.get("created_at") or "2026-01-05T10:00:00.000Z"
            items.append(item)
        return checkpoint_page(req, items, "members", "group-members:" + group["id"])

    def group_roles(self, req):
        group, roles = self.group(req), self.sim.tenant.role_by_id
        items = [role_summary(roles[r]) for r in group.get("roles") or [] if r in roles]
        return offset_page(req, items, "roles")

    def role_groups(self, req):
        role = self.role(req)
        items = [native_group_view(g) for g in self.sim.tenant.groups
                 if role["id"] in (g.get("roles") or [])]
        return checkpoint_page(req, items, "groups", "role-groups:" + role["id"])

    # -- organizations

    def organizations(self, req):
        items = [organization_view(o) for o in self.sim.tenant.organizations]
        if req.has_any("from", "take"):
            return checkpoint_page(req, items, "organizations", "organizations")
        return offset_page(req, items, "organizations")

    def organization_members(self, req):
        """fields=...roles needs read:organization_member_roles; offset
        paging lists at most the first 1000 members."""
        org = self.sim.tenant.organization_by_id.get(req.params["id"])
        if org is None:
            raise api_error(404, "No organization found by that id or name",
                            "inexistent_organization")
        project = field_projection(req)
        users = self.sim.tenant.user_by_id
        items = []
        for m in org.get("members") or []:
            user = users.get(m.get("user_id")) or {}
            items.append({"user_id": m.get("user_id"), "email": user.get("email"),
                          "name": user.get("name"), "picture": user.get("picture"),
                          "roles": [{"id": r.get("id"), "name": r.get("name")}
                                    for r in m.get("roles") or []]})
        if project is None or "roles" not in project(items[0] if items else {"roles": []}):
            items = [{k: v for k, v in i.items() if k != "roles"} for i in items]
        else:
            scopes = set(req.token["claims"].get("scope", "").split())
            if "read:organization_member_roles" not in scopes:
                raise api_error(403, "Insufficient scope, expected any of: "
                                "read:organization_member_roles", "insufficient_scope")
        if project:
            items = [project(i) for i in items]
        if req.has_any("from", "take"):
            return checkpoint_page(req, items, "members", "organization-members:" + org["id"])
        if (req.integer("page", 0, 0) + 1) * req.integer("per_page", 50, 1, 100) > USERS_CAP:
            raise api_error(400, MSG_INVALID_PAGING, "invalid_paging")
        return offset_page(req, items, "members")

    # -- logs

    def logs(self, req):
        """Checkpoint reads (from=<log_id>&take=) or a search page, oldest first by log_id."""
        log = self.sim.events
        if req.has_any("from"):
            take = req.integer("take", 50, 1, 100)
            events = log.since(req.arg("from", ""), take)
            headers = {}
            if events:
                link = (f"{self.sim.base_url(req)}/api/v2/logs?from={events[-1]['log_id']}"
                        f"&take={take}")
                headers["Link"] = f'<{link}>; rel="next"'
            return Response.json(200, events, headers)
        events = log.all()
        sort = req.arg("sort") or "date:-1"
        if sort not in ("date:1", "date:-1"):
            raise query_error(f"'sort' must be date:1 or date:-1, not '{sort}'.")
        if sort == "date:-1":
            events.reverse()
        return offset_page(req, events, "logs", with_length=True)


def native_group_view(group):
    """A native group as GET /api/v2/groups shows it: no members, no roles."""
    return {k: v for k, v in group.items() if k not in ("members", "roles")}


def organization_view(org):
    return {k: v for k, v in org.items() if k != "members"}


def check_search_engine(engine):
    if engine in (None, "", "v3"):
        return
    if engine == "v1":
        raise api_error(400, "You are not allowed to use search_engine=v1.",
                        "operation_not_supported")
    if engine == "v2":
        raise api_error(400, "You are not allowed to use search_engine=v2. "
                        "Use search_engine=v3 instead.", "operation_not_supported")
    raise query_error(f"'No enum match for: \"{engine}\"' on property search_engine.")


def export_options(body):
    """format, fields, limit of a users-exports request (400 when malformed)."""
    fmt = body.get("format", "json")
    if fmt not in ("json", "csv"):
        raise api_error(400, f"Payload validation error: 'No enum match for: \"{fmt}\"' on "
                        "property format.", "invalid_body")
    fields = body.get("fields")
    if fields is not None and not (isinstance(fields, list) and all(
            isinstance(f, dict) and isinstance(f.get("name"), str) for f in fields)):
        raise api_error(400, "Payload validation error: 'fields' must be an array of "
                        "{name, export_as?} objects.", "invalid_body")
    limit = body.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise api_error(400, "Payload validation error: 'limit' must be an integer >= 1.",
                        "invalid_body")
    return fmt, fields, limit


def role_summary(role):
    return {k: v for k, v in role.items() if k not in ("members", "permissions")}


def client_view(client, scopes):
    """A client as a token with `scopes` may see it."""
    if not scopes & {"read:clients", "read:client_keys"}:
        return pick(client, ("client_id", "name", "description", "app_type"))
    if "read:client_keys" in scopes:
        return client
    return {k: v for k, v in client.items() if k not in ("client_secret", "signing_keys")}


def client_wanted(client, req):
    app_types = [t for t in (req.arg("app_type") or "").split(",") if t]
    if app_types and client.get("app_type") not in app_types:
        return False
    for param, key in (("is_first_party", "is_first_party"), ("is_global", "global")):
        if req.arg(param) is not None and req.flag(param) != bool(client.get(key)):
            return False
    return True


# ---------------------------------------------------------------------------
# Authorization Extension API

class AuthzApi:
    """The extension's read API, served under /authz/api."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        def get(template, handler, scope):
            return Route("GET", AUTHZ_PREFIX + template, handler, AUTHZ, [scope])
        return [
            get("/groups", self.groups, "read:groups"),
            get("/groups/{id}", self.group, "read:groups"),
            get("/groups/{id}/members", self.group_members, "read:groups"),
            get("/groups/{id}/members/nested", self.group_members_nested, "read:groups"),
            get("/groups/{id}/nested", self.group_nested, "read:groups"),
            get("/groups/{id}/roles", self.group_roles, "read:groups"),
            get("/groups/{id}/roles/nested", self.group_roles_nested, "read:groups"),
            get("/groups/{id}/mappings", self.group_mappings, "read:groups"),
            get("/roles", self.roles, "read:roles"),
            get("/roles/{id}", self.role, "read:roles"),
            get("/permissions", self.permissions, "read:permissions"),
            get("/permissions/{id}", self.permission, "read:permissions"),
            get("/users/{id}/groups", self.user_groups, "read:groups"),
            get("/users/{id}/groups/calculate", self.user_groups_calculated, "read:groups"),
            get("/users/{id}/roles", self.user_roles, "read:roles"),
            get("/users/{id}/roles/calculate", self.user_roles_calculated, "read:roles"),
            get("/configuration/export", self.export, "read:configuration"),
        ]

    def store(self):
        store = self.sim.tenant.authz
        if store is None:   # the tenant has no Authorization Extension
            raise api_error(404, "Not Found")
        return store

    # -- groups

    def groups(self, req):
        store = self.store()
        items = [group_view(g) for g in store.groups.values()]
        return {"groups": substring_filter(req, items), "total": len(items)}

    def group(self, req):
        store = self.store()
        group = store.find("groups", req.params["id"])
        body = short(group)
        if req.arg("expand") == "true":
            body["roles"] = [self.expanded_role(store, role)
                             for role in self.inherited_roles(store, group)]
        return body

    def group_members(self, req):
        group = self.store().find("groups", req.params["id"])
        ids = sorted(group.get("members") or [])
        start, per_page = authz_paging(req)
        users = self.sim.tenant.user_by_id
        return {"total": len(ids),
                "users": [users.get(uid) or error_user(uid) for uid in ids[start:start + per_page]]}

    def group_members_nested(self, req):
        store = self.store()
        store.find("groups", req.params["id"])
        users, entries = self.sim.tenant.user_by_id, []
        for gid in store.descendants(req.params["id"]):
            group = store.groups[gid]
            for uid in group.get("members") or []:
                user = users.get(uid) or error_user(uid)
                entries.append({"user": pick(user, ("user_id", "name", "nickname", "email")),
                                "group": short(group)})
        entries.sort(key=lambda e: e["user"]["user_id"])
        start, per_page = authz_paging(req)
        return {"total": len(entries), "nested": entries[start:start + per_page]}

    def group_nested(self, req):
        store = self.store()
        group = store.find("groups", req.params["id"])
        children = [group_view(store.groups[c]) for c in group.get("nested") or []
                    if c in store.groups]
        return sorted(children, key=lambda g: g.get("name", ""))

    def group_roles(self, req):
        store = self.store()
        group = store.find("groups", req.params["id"])
        return [store.roles[r] for r in group.get("roles") or [] if r in store.roles]

    def group_roles_nested(self, req):
        store = self.store()
        store.find("groups", req.params["id"])
        return [{"role": store.roles[rid], "group": short(store.groups[gid])}
                for gid in store.ancestors(req.params["id"])
                for rid in store.groups[gid].get("roles") or [] if rid in store.roles]

    def group_mappings(self, req):
        group = self.store().find("groups", req.params["id"])
        connections = self.sim.tenant.connection_by_name
        result = []
        for mapping in group.get("mappings") or []:
            name = mapping.get("connectionName")
            strategy = (connections.get(name) or {}).get("strategy")
            shown = f"{name} ({strategy})" if strategy else name
            result.append(dict(mapping, connectionName=shown))
        return result

    # -- roles and permissions

    def roles(self, req):
        items = list(self.store().roles.values())
        return {"roles": substring_filter(req, items), "total": len(items)}

    def role(self, req):
        return self.store().find("roles", req.params["id"])

    def permissions(self, req):
        items = list(self.store().permissions.values())
        return {"permissions": substring_filter(req, items), "total": len(items)}

    def permission(self, req):
        return self.store().find("permissions", req.params["id"])

    # -- users

    def user_groups(self, req):
        store = self.store()
        return [short(store.groups[g]) for g in store.direct_groups(req.params["id"])]

    def user_groups_calculated(self, req):
        store = self.store()
        return [short(store.groups[g]) for g in self.calculated_groups(store, req.params["id"])]

    def user_roles(self, req):
        return [pick(r, ("_id", "name", "applicationId", "description"))
                for r in self.direct_roles(self.store(), req.params["id"])]

    def user_roles_calculated(self, req):
        store, uid = self.store(), req.params["id"]
        roles = list(self.direct_roles(store, uid))
        for gid in self.calculated_groups(store, uid):
            roles += [store.roles[r] for r in store.groups[gid].get("roles") or []
                      if r in store.roles]
        unique = list({r["_id"]: r for r in roles}.values())
        return [pick(r, ("_id", "name", "applicationId", "description")) for r in unique]

    def export(self, req):
        return self.store().data

    # -- helpers

    @staticmethod
    def direct_roles(store, user_id):
        return [r for r in store.roles.values() if user_id in (r.get("users") or [])]

    @staticmethod
    def calculated_groups(store, user_id):
        seen = []
        for gid in store.direct_groups(user_id):
            seen += [g for g in store.ancestors(gid) if g not in seen]
        return seen

    @staticmethod
    def inherited_roles(store, group):
        ids = [rid for gid in store.ancestors(group["_id"])
               for rid in store.groups[gid].get("roles") or []]
        return [store.roles[rid] for rid in dict.fromkeys(ids) if rid in store.roles]

    @staticmethod
    def expanded_role(store, role):
        body = pick(role, ("_id", "name", "description", "applicationId", "applicationType"))
        body["permissions"] = [short(store.permissions[p]) for p in role.get("permissions") or []
                               if p in store.permissions]
        return body


def short(record):
    return pick(record, ("_id", "name", "description"))


def group_view(group):
    """A group as GET /groups lists it: members and mappings always arrays."""
    view = dict(group)
    view.setdefault("members", [])
    view.setdefault("mappings", [])
    return view


def error_user(user_id):
    """What the extension shows for a member it cannot fetch from Auth0."""
    return {"user_id": user_id, "name": "<Error: The user does not exist.>", "email": user_id,
            "identities": [{"connection": "N/A"}]}


def substring_filter(req, items):
    """?q=&field= : case-insensitive substring match (total stays unfiltered)."""
    wanted, field = (req.arg("q") or "").lower(), req.arg("field") or "name"
    if not wanted:
        return items
    return [i for i in items if wanted in str(i.get(field, "")).lower()]


def authz_paging(req):
    """(start, per_page) for the extension's member lists: page 0 and 1 are the same."""
    values = {}
    for name, default, low, high in (("page", 0, 0, None), ("per_page", 25, 1, 25)):
        text = req.arg(name)
        if text is None or text == "":
            values[name] = default
            continue
        if not re.fullmatch(r"-?\d+", text):
            raise joi_error("query", name, "must be a number")
        value = int(text)
        if value < low:
            raise joi_error("query", name, f"must be larger than or equal to {low}")
        if high is not None and value > high:
            raise joi_error("query", name, f"must be less than or equal to {high}")
        values[name] = value
    return max(values["page"] - 1, 0) * values["per_page"], values["per_page"]


# ---------------------------------------------------------------------------
# Export downloads and the control API

class ExportFiles:
    """GET /__exports/<job>.json.gz?...&Signature= : the pre-signed export file."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        return [Route("GET", "/__exports/{name}", self.download)]

    def download(self, req):
        job_id, _, suffix = req.params["name"].partition(".")
        job = self.sim.jobs.get(job_id)
        expires = job.signatures.get(req.arg("Signature", "")) if job else None
        if expires is None or expires < time.time() or suffix != f"{job.format}.gz":
            return Response(403, ACCESS_DENIED_XML, "application/xml")
        return Response(200, job.data, "application/gzip")


CONFIG_TYPES = {"rate": (int, float), "burst": (int, type(None)), "token_ttl": int,
                "export_polls": int, "export_url_ttl": int, "hide_enabled_clients": bool,
                "log_retention": (int, float),
                "otp_reuse_window": (int, float), "push_interval": (int, float),
                "push_answer": str, "push_after": int}


class ControlApi:
    """/__sim/*: plain JSON, no authentication, for tests only."""

    def __init__(self, sim):
        self.sim = sim

    def routes(self):
        def route(method, template, handler):
            return Route(method, "/__sim" + template, handler)
        return [
            route("GET", "/health", lambda req: {"ok": True, **self.sim.tenant.counts()}),
            route("GET", "/faults", lambda req: {"faults": self.sim.faults.describe()}),
            route("POST", "/faults", self.add_faults),
            route("DELETE", "/faults", self.clear_faults),
            route("GET", "/stats", lambda req: self.sim.stats.snapshot()),
            route("POST", "/reset-stats", self.reset_stats),
            route("POST", "/expire-tokens", self.expire_tokens),
            route("POST", "/reload", self.reload),
            route("GET", "/config", lambda req: dict(self.sim.config)),
            route("POST", "/config", self.set_config),
            route("GET", "/logs", lambda req: {"logs": self.sim.events.all(),
                                               "pruned": self.sim.events.pruned}),
            route("POST", "/logs", self.add_logs),
            route("POST", "/logs/expire", self.expire_logs),
            route("GET", "/push", lambda req: {"pending": self.sim.push.pending(),
                                               "polls": self.sim.push.polls,
                                               "slow_downs": self.sim.push.slow_downs}),
            route("POST", "/push", self.decide_push),
        ]

    def decide_push(self, req):
        body = req.json_body()
        if not isinstance(body, dict) or body.get("action") not in ("approve", "deny"):
            raise api_error(400, "push takes {\"action\": \"approve\"|\"deny\", \"user_id\": ...}")
        return {"decided": self.sim.push.decide(body["action"], body.get("user_id"))}

    def add_faults(self, req):
        try:
            added = self.sim.faults.add(req.json_body())
        except ValueError as e:
            raise api_error(400, str(e)) from None
        return {"added": added, "faults": self.sim.faults.describe()}

    def clear_faults(self, req):
        self.sim.faults.clear()
        return {"faults": []}

    def reset_stats(self, req):
        self.sim.stats.reset()
        return {"ok": True}

    def expire_tokens(self, req):
        return {"expired": self.sim.tokens.expire_all()}

    def reload(self, req):
        body = req.json_body() if req.body.strip() else {}
        if not isinstance(body, dict):
            raise api_error(400, "reload takes a JSON object: {\"tenant\": DIR} or nothing")
        directory = body.get("tenant") or self.sim.tenant.directory
        try:
            events = self.sim.reload(directory)
        except (OSError, ValueError) as e:
            raise api_error(400, f"reload failed, old data kept: {e}") from None
        return {"ok": True, "tenant": directory, **self.sim.tenant.counts(),
                "events": events}

    def add_logs(self, req):
        body = req.json_body()
        if not isinstance(body, list) or not all(isinstance(e, dict) for e in body):
            raise api_error(400, "logs takes a JSON array of log event objects")
        return {"added": self.sim.events.add_raw(body)}

    def expire_logs(self, req):
        body = req.json_body() if req.body.strip() else {}
        keep = body.get("keep", 0) if isinstance(body, dict) else None
        if not isinstance(keep, int) or keep < 0:
            raise api_error(400, "expire takes {\"keep\": N} (N >= 0) or nothing")
        return {"expired": self.sim.events.expire(keep)}

    def set_config(self, req):
        body = req.json_body()
        if not isinstance(body, dict):
            raise api_error(400, "config is a JSON object")
        for key, value in body.items():
            if key not in CONFIG_TYPES:
                raise api_error(400, f"unknown setting {key}")
            if not isinstance(value, CONFIG_TYPES[key]) or (
                    isinstance(value, bool) and key != "hide_enabled_clients"):
                raise api_error(400, f"bad value for {key}: {value!r}")
        if body.get("push_answer", "") not in ("", "approve", "deny"):
            raise api_error(400, "push_answer is \"\", \"approve\" or \"deny\"")
        self.sim.config.update(body)
        if "otp_reuse_window" in body:        # a new window starts afresh
            self.sim.tokens.used_otps = {}
        if "rate" in body or "burst" in body:
            self.sim.bucket.configure(self.sim.config["rate"], self.sim.config["burst"])
        self.sim.events.retention = self.sim.config["log_retention"]
        return dict(self.sim.config)


# ---------------------------------------------------------------------------
# The simulator: request pipeline and HTTPS server

class Simulator:
    """One fake tenant served over HTTPS; start() for tests, serve_forever() for the CLI."""

    def __init__(self, tenant_dir, cert, key, host="127.0.0.1", port=0, rate=0, burst=None,
                 token_ttl=86400, export_polls=2, audience=None,
                 authz_audience=AUTHZ_AUDIENCE, log=None, log_retention=0):
        self.tenant = Tenant(tenant_dir)
        self.config = {"rate": rate, "burst": burst, "token_ttl": token_ttl,
                       "export_polls": export_polls, "export_url_ttl": 60,
                       "hide_enabled_clients": False, "otp_reuse_window": 30,
                       "push_interval": 1, "push_answer": "", "push_after": 1,
                       "log_retention": log_retention}
        self.events = EventLog(log_retention)
        self.audience, self.authz_audience = audience, authz_audience
        self.tokens, self.stats, self.faults = TokenStore(), Stats(), FaultBook()
        self.push = PushStore()
        self.bucket = TokenBucket(rate, burst)
        self.jobs, self.lock, self.log_file = {}, threading.Lock(), log
        self.log_lock = threading.Lock()
        self.routes = [route for api in (OAuthApi, ManagementApi, AuthzApi, ExportFiles, ControlApi)
                       for route in api(self).routes()]
        self.host = loopback_host(host)
        self.server = TLSServer((self.host, port), tls_context(cert, key), self)
        self.port = self.server.server_address[1]
        self.thread = None

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"https://{host}:{self.port}"

    def start(self):
        self.thread = threading.Thread(target=self.serve_forever, name="auth0sim", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self):
        self.server.serve_forever(poll_interval=0.1)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        if self.thread:
            self.thread.join(5)

    def reload(self, directory=None):
        """Re-reads the tenant (or another directory); returns the events logged."""
        tenant = Tenant(directory or self.tenant.directory)
        with self.lock:
            old, self.tenant = self.tenant, tenant
            before = self.events.seq
            diff_events(self.events, old, tenant)
            return self.events.seq - before

    # -- tenant-wide facts

    def base_url(self, req):
        return "https://" + (req.host or self.url.split("://", 1)[1])

    def issuer(self, req):
        return self.base_url(req) + "/"

    def audience_kind(self, audience, req):
        if audience == self.authz_audience:
            return AUTHZ
        if audience in (self.base_url(req) + "/api/v2/", self.audience):
            return MGMT
        return None

    def client_scopes(self, client, kind):
        """Scopes `client` was granted for API `kind`, or None without a grant."""
        for audience, scopes in (client.get("grants") or {}).items():
            if audience == self.authz_audience and kind == AUTHZ:
                return list(scopes)
            if audience.endswith("/api/v2/") and kind == MGMT:
                return list(scopes)
        return None

    # -- the request pipeline

    def serve(self, handler):
        req = read_request(handler)
        req.route, req.params = self.find_route(req)
        if req.path.startswith("/__sim/"):
            self.write(handler, req, self.run(req))
            return
        name = req.route.name if req.route else f"{req.method} {req.path}"
        started, status, counted = time.monotonic(), 0, False
        self.stats.begin()
        try:
            resp = self.answer(req)
            status = resp.status
            # counted before the client can see the answer: a test that
            # reads the stats right after its request finds it there
            self.stats.end(name, req, status)
            counted = True
            self.write(handler, req, resp)
        finally:
            if not counted:
                self.stats.end(name, req, status)
            self.access_log(req, status, started)

    def find_route(self, req):
        for route in self.routes:
            params = route.match(req)
            if params is not None:
                return route, params
        return None, {}

    def answer(self, req):
        """Faults first, then the rate limit, then the real handler."""
        arrived = time.monotonic()
        rule = req.fault = self.faults.take(req)
        if rule:
            self.stats.bump("faults_applied")
            if rule.spec.get("delay"):
                time.sleep(float(rule.spec["delay"]))
            fixed = rule.fixed_response(req)
            if fixed:
                return fixed
        resp = self.rate_limit(req) or self.run(req)
        if rule and rule.spec.get("latency"):
            # an upstream S seconds away: the answer leaves S seconds after
            # the request came, however long the simulator itself took
            time.sleep(max(0.0, arrived + float(rule.spec["latency"]) - time.monotonic()))
        return rule.mangle(resp) if rule else resp

    def rate_limit(self, req):
        if not req.path.startswith(RATE_LIMITED_PREFIXES):
            return None
        allowed, req.rate_headers = self.bucket.take()
        return None if allowed else Response.json(429, TOO_MANY_REQUESTS)

    def run(self, req):
        if req.route is None:
            return Response.json(404, {"statusCode": 404, "error": "Not Found",
                                       "message": "Not Found"})
        try:
            if req.route.api:
                req.token = self.authorize(req, req.route)
            result = req.route.handler(req)
        except HttpError as e:
            return Response.json(e.status, e.body, e.headers)
        except Exception as e:   # a simulator bug: say so instead of hanging the client
            traceback.print_exc()
            return Response.json(500, {"statusCode": 500, "error": "Internal Server Error",
                                       "message": f"simulator error: {e}"})
        return result if isinstance(result, Response) else Response.json(200, result)

    def authorize(self, req, route):
        """The bearer token's entry, or 401 / 403 in the API's own words."""
        scheme, _, token = req.headers.get("Authorization", "").partition(" ")
        if not token.strip():
            raise api_error(401, "Missing authentication")
        entry = self.tokens.lookup(token.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry["kind"] != route.api:
            bad_audience = entry and f"Bad audience: {entry['claims']['aud']}"
            raise unauthorized(route.api, bad_audience or "Invalid token")
        if entry["expires"] <= time.time():
            raise unauthorized(route.api, MSG_EXPIRED)
        granted = set(entry["claims"].get("scope", "").split())
        needed = set(route.scopes)
        if needed and not (needed <= granted if route.all_scopes else needed & granted):
            raise forbidden(route)
        return entry

    def write(self, handler, req, resp):
        if resp.action == "reset":
            hard_close(handler)
            return
        headers = req.rate_headers or self.bucket.peek()
        headers.update(resp.headers)
        body = resp.body
        handler.send_response(resp.status)
        handler.send_header("Content-Type", resp.content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if resp.action == "truncate":
            body = body[:len(body) // 2]
            handler.close_connection = True
        spec = req.fault.spec if getattr(req, "fault", None) else {}
        if spec.get("trickle") or spec.get("stall"):
            self.write_slowly(handler, body, spec)
            return
        handler.wfile.write(body)
        handler.wfile.flush()

    @staticmethod
    def write_slowly(handler, body, spec):
        """trickle: at most that many bytes a second; stall: that many
        seconds of silence after the first half of the body."""
        rate = float(spec.get("trickle") or 0)
        chunk = max(1, int(rate / 10)) if rate else len(body) // 2 or 1
        sent, stalled = 0, False
        while sent < len(body):
            if spec.get("stall") and not stalled and sent >= len(body) // 2:
                time.sleep(float(spec["stall"]))
                stalled = True
            piece = body[sent:sent + chunk]
            handler.wfile.write(piece)
            handler.wfile.flush()
            sent += len(piece)
            if rate:
                time.sleep(len(piece) / rate)

    def access_log(self, req, status, started):
        if not self.log_file:
            return
        line = "%s %s %s %s %s %dms\n" % (
            iso_now(), req.client_ip, req.method, redacted_target(req.path, req.raw_query),
            status or "reset", (time.monotonic() - started) * 1000)
        with self.log_lock:
            self.log_file.write(line)
            self.log_file.flush()


def unauthorized(api, message):
    """401 in the API's words (the extension only says Invalid token / Token expired)."""
    if api == AUTHZ:
        return api_error(401, "Token expired" if message == MSG_EXPIRED else "Invalid token")
    return api_error(401, message, attributes={"error": message})


def forbidden(route):
    if route.api == AUTHZ:
        return api_error(403, "Insufficient scope")
    kind = "all of: " + ", ".join(route.scopes) if route.all_scopes else \
        "any of: " + ",".join(route.scopes)
    return api_error(403, f"Insufficient scope, expected {kind}", "insufficient_scope")


def hard_close(handler):
    """Drop the connection with a TCP reset, without an answer."""
    handler.close_connection = True
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        sock.close()


def loopback_host(host):
    if host == "localhost":
        return "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"the simulator binds loopback addresses only, not {host!r}")
    return host


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; everything goes through Simulator.serve."""

    protocol_version = "HTTP/1.1"
    server_version = "auth0sim/1.0"
    timeout = KEEP_ALIVE_TIMEOUT
    # headers and body are separate writes: with Nagle, a keep-alive client's
    # delayed ACK would hold every answer back 40 ms
    disable_nagle_algorithm = True

    def do_GET(self):
        self.server.sim.serve(self)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):   # the simulator keeps its own access log
        pass


class TLSServer(ThreadingHTTPServer):
    """A thread per connection; the TLS handshake happens in that thread."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address, context, sim):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.tls, self.sim = context, sim
        super().__init__(address, Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)   # no reverse DNS lookup of the address
        self.server_name, self.server_port = self.server_address[:2]

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            connection = self.tls.wrap_socket(request, server_side=True)
        except OSError:        # failed handshake (e.g. the client rejected our certificate)
            return
        self.sim.stats.bump("connections")
        # answers go out as written (headers and body are separate writes;
        # with Nagle each small answer would wait for a delayed ACK)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.RequestHandlerClass(connection, client_address, self)
        finally:
            connection.close()

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):   # peers hanging up are not errors
            super().handle_error(request, client_address)


# ---------------------------------------------------------------------------
# Command line

def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Fake Auth0 tenant over HTTPS, serving a tenant snapshot directory.")
    parser.add_argument("--tenant", required=True, help="tenant snapshot directory")
    parser.add_argument("--cert", required=True, help="server certificate (PEM)")
    parser.add_argument("--key", required=True, help="server private key (PEM)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument("--port-file", help="write the bound port to this file")
    parser.add_argument("--rate", type=float, default=0,
                        help="requests per second allowed on /api/v2 and /authz/api (0: no limit)")
    parser.add_argument("--burst", type=int, help="token bucket size (default: ceil(rate))")
    parser.add_argument("--token-ttl", type=int, default=86400, help="access token lifetime (s)")
    parser.add_argument("--export-polls", type=int, default=2,
                        help="GET /jobs/{id} polls before an export job completes")
    parser.add_argument("--audience", help="extra accepted Management API audience")
    parser.add_argument("--authz-audience", default=AUTHZ_AUDIENCE,
                        help="Authorization Extension API audience")
    parser.add_argument("--log", help="access log file ('-' for stderr)")
    parser.add_argument("--log-retention", type=float, default=0,
                        help="seconds log events are kept on /api/v2/logs (0: forever)")
    return parser.parse_args(argv)


def write_port_file(path, port):
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="ascii") as f:
        f.write(f"{port}\n")
    os.replace(temporary, path)


def main(argv=None):
    args = parse_args(argv)
    log = sys.stderr if args.log == "-" else None
    try:
        if args.log and args.log != "-":
            log = open(args.log, "a", encoding="utf-8")
        sim = Simulator(args.tenant, args.cert, args.key, host=args.host, port=args.port,
                        rate=args.rate, burst=args.burst, token_ttl=args.token_ttl,
                        export_polls=args.export_polls, audience=args.audience,
                        authz_audience=args.authz_audience, log=log,
                        log_retention=args.log_retention)
    except (OSError, ValueError) as e:
        print(f"auth0sim: {e}", file=sys.stderr)
        return 2
    if args.port_file:
        write_port_file(args.port_file, sim.port)
    stop = lambda signum, frame: threading.Thread(target=sim.server.shutdown).start()  # noqa
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"auth0sim: serving {args.tenant} on {sim.url}", file=sys.stderr, flush=True)
    sim.serve_forever()
    sim.server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
