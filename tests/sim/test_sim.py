#!/usr/bin/env python3
"""Tests of the Auth0 simulator (tests/sim/auth0sim.py) itself.

Each test class runs one simulator in-process on a free loopback port,
serving the fixture tenant tests/sim/tenant/ with certificates made by
tests/sim/mkcerts in a temporary directory, and talks to it over HTTPS
with urllib / http.client trusting the test CA.  The CLI class starts it
as a subprocess.  Run from the repository root with
    python3 -m unittest tests/sim/test_sim.py      or      python3 tests/sim/test_sim.py
"""

import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import auth0sim  # noqa: E402

TENANT = os.path.join(HERE, "tenant")
DB = "Username-Password-Authentication"
DB_ID = "con_sim0000000000db01"
GOOGLE_ID = "con_sim00000000000g02"
ALICE, BOB, GRACE = "auth0|5f1a00000000000000000a01", "auth0|5f1a00000000000000000a02", \
    "auth0|5f1a00000000000000000a07"
FRANK = "google-oauth2|103547991597142817347"
M2M = ("sim-m2m-client", "sim-m2m-secret")
ROLES_ONLY = ("sim-roles-only", "sim-roles-secret")
MGMT_ONLY = ("sim-mgmt-only", "sim-mgmt-only-secret")
BIND = ("sim-bind-client", "sim-bind-secret")
ENG, BACKEND, OPS, GOOGLE_STAFF = ("0b6f3c6e-1f1a-4c1e-9a55-2d6a3f4b5c0%d" % i for i in range(1, 5))
DEPLOYER, READER = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e01", "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e02"
CERTS = None


def setUpModule():
    global CERTS
    CERTS = tempfile.mkdtemp(prefix="auth0sim-certs-")
    subprocess.run([os.path.join(HERE, "mkcerts"), CERTS], check=True)


def tearDownModule():
    shutil.rmtree(CERTS, ignore_errors=True)


def cert(name):
    return os.path.join(CERTS, name)


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class Reply:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def json(self):
        return json.loads(self.raw)


class Client:
    """HTTPS client of one simulator (urllib, trusting the test CA)."""

    def __init__(self, base):
        self.base = base
        self.ctx = ssl.create_default_context(cafile=cert("ca.pem"))

    def call(self, method, path, body=None, token=None, headers=None, timeout=5):
        headers = dict(headers or {})
        data = None
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if token:
            headers["Authorization"] = "Bearer " + token
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, context=self.ctx, timeout=timeout) as r:
                return Reply(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Reply(e.code, e.headers, e.read())

    def get(self, path, token=None, **kw):
        return self.call("GET", path, token=token, **kw)

    def oauth(self, params, headers=None, as_json=False):
        body = params if as_json else urllib.parse.urlencode(params)
        return self.call("POST", "/oauth/token", body, headers=headers)

    def token(self, audience=None, client=M2M, **extra):
        params = {"grant_type": "client_credentials", "client_id": client[0],
                  "client_secret": client[1], "audience": audience or self.base + "/api/v2/"}
        params.update(extra)
        reply = self.oauth(params)
        assert reply.status == 200, reply.raw
        return reply.json["access_token"]

    def login(self, username, password, realm=DB, client=BIND, forwarded_for=None):
        params = {"grant_type": auth0sim.GRANT_REALM, "client_id": client[0],
                  "client_secret": client[1], "username": username, "password": password,
                  "realm": realm}
        headers = {"auth0-forwarded-for": forwarded_for} if forwarded_for else None
        return self.oauth(params, headers)

    def control(self, method, path, body=None):
        reply = self.call(method, "/__sim/" + path, body)
        return reply

    def stats(self):
        return self.get("/__sim/stats").json


class SimCase(unittest.TestCase):
    """One simulator per test class; faults, settings and stats reset per test."""

    sim_options = {}

    @classmethod
    def setUpClass(cls):
        cls.sim = auth0sim.Simulator(TENANT, cert("server.pem"), cert("server.key"),
                                     **cls.sim_options).start()
        cls.c = Client(cls.sim.url)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.c.control("DELETE", "faults")
        self.c.control("POST", "config", {"rate": 0, "burst": None, "token_ttl": 86400,
                                          "export_polls": 2, "export_url_ttl": 60,
                                          "hide_enabled_clients": False,
                                          "log_retention": 0})
        self.c.control("POST", "reset-stats")

    def mgmt(self, path, client=M2M):
        return self.c.get("/api/v2" + path, self.c.token(client=client))

    def authz(self, path, client=M2M):
        token = self.c.token(audience=auth0sim.AUTHZ_AUDIENCE, client=client)
        return self.c.get("/authz/api" + path, token)

    def assertError(self, reply, status, **fields):
        self.assertEqual(reply.status, status, reply.raw)
        body = reply.json
        for key, value in fields.items():
            self.assertEqual(body.get(key), value, body)
        return body


# ---------------------------------------------------------------------------

class TokenEndpoint(SimCase):

    def cc(self, **overrides):
        params = {"grant_type": "client_credentials", "client_id": M2M[0],
                  "client_secret": M2M[1], "audience": self.sim.url + "/api/v2/"}
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def test_client_credentials_form(self):
        reply = self.c.oauth(self.cc())
        self.assertEqual(reply.status, 200)
        body = reply.json
        self.assertEqual(body["token_type"], "Bearer")
        self.assertEqual(body["expires_in"], 86400)
        self.assertEqual(set(body["scope"].split()),
                         {"read:users", "read:roles", "read:clients", "read:connections",
                          "read:logs"})
        self.assertEqual(body["access_token"].count("."), 2)
        self.assertNotEqual(body["access_token"], self.c.oauth(self.cc()).json["access_token"])
        self.assertEqual(self.c.stats()["tokens_issued"], 2)

    def test_client_credentials_json(self):
        reply = self.c.oauth(self.cc(), as_json=True)
        self.assertEqual(reply.status, 200)
        self.assertIn("access_token", reply.json)

    def test_wrong_secret_and_unknown_client(self):
        self.assertError(self.c.oauth(self.cc(client_secret="nope")), 401,
                         error="access_denied", error_description="Unauthorized")
        self.assertError(self.c.oauth(self.cc(client_id="who")), 401, error="access_denied")

    def test_audience_must_match_exactly(self):
        audience = self.sim.url + "/api/v2"
        self.assertError(self.c.oauth(self.cc(audience=audience)), 403, error="access_denied",
                         error_description="Service not found: " + audience)

    def test_no_client_grant_for_api(self):
        reply = self.c.oauth(self.cc(client_id=MGMT_ONLY[0], client_secret=MGMT_ONLY[1],
                                     audience=auth0sim.AUTHZ_AUDIENCE))
        body = self.assertError(reply, 403, error="access_denied")
        self.assertIn('Client is not authorized to access "urn:auth0-authz-api"',
                      body["error_description"])

    def test_grant_type_not_allowed(self):
        reply = self.c.oauth(self.cc(client_id=BIND[0], client_secret=BIND[1]))
        body = self.assertError(reply, 403, error="unauthorized_client")
        self.assertEqual(body["error_description"],
                         "Grant type 'client_credentials' not allowed for the client.")

    def test_missing_parameters(self):
        self.assertError(self.c.oauth(self.cc(grant_type=None)), 400, error="invalid_request",
                         error_description="Missing required parameter: grant_type")
        self.assertError(self.c.oauth(self.cc(audience=None)), 400, error="invalid_request",
                         error_description="Missing required parameter: audience")
        self.assertError(self.c.oauth(self.cc(grant_type="password")), 403,
                         error="unsupported_grant_type")

    def test_requested_scope(self):
        self.assertEqual(self.c.oauth(self.cc(scope="read:users")).json["scope"], "read:users")
        self.assertError(self.c.oauth(self.cc(scope="read:users delete:users")), 403,
                         error="access_denied")

    def test_authz_audience(self):
        reply = self.c.oauth(self.cc(audience=auth0sim.AUTHZ_AUDIENCE))
        self.assertEqual(reply.status, 200)
        self.assertIn("read:groups", reply.json["scope"].split())
        by_audience = self.c.stats()["tokens_by_audience"]
        self.assertEqual(by_audience, {auth0sim.AUTHZ_AUDIENCE: 1})


class ManagementAuth(SimCase):

    def test_missing_token(self):
        reply = self.c.get("/api/v2/users")
        self.assertEqual(reply.json, {"statusCode": 401, "error": "Unauthorized",
                                      "message": "Missing authentication"})

    def test_invalid_token(self):
        reply = self.c.get("/api/v2/users", "not.a.token")
        self.assertEqual(reply.json, {"statusCode": 401, "error": "Unauthorized",
                                      "message": "Invalid token",
                                      "attributes": {"error": "Invalid token"}})

    def test_insufficient_scope(self):
        reply = self.mgmt("/users", client=ROLES_ONLY)
        self.assertEqual(reply.json, {
            "statusCode": 403, "error": "Forbidden",
            "message": "Insufficient scope, expected any of: read:users",
            "errorCode": "insufficient_scope"})
        self.assertEqual(self.mgmt("/roles", client=ROLES_ONLY).status, 200)

    def test_role_members_need_both_scopes(self):
        body = self.assertError(self.mgmt("/roles/rol_sim0000000000001/users", ROLES_ONLY), 403,
                                errorCode="insufficient_scope")
        self.assertEqual(body["message"],
                         "Insufficient scope, expected all of: read:users, read:roles")

    def test_expire_tokens(self):
        token = self.c.token()
        self.assertEqual(self.c.get("/api/v2/roles", token).status, 200)
        self.assertEqual(self.c.control("POST", "expire-tokens").status, 200)
        self.assertError(self.c.get("/api/v2/roles", token), 401,
                         message="Expired token received for JSON Web Token validation")
        self.assertEqual(self.mgmt("/roles").status, 200)

    def test_token_ttl(self):
        self.c.control("POST", "config", {"token_ttl": 1})
        reply = self.c.oauth({"grant_type": "client_credentials", "client_id": M2M[0],
                              "client_secret": M2M[1], "audience": self.sim.url + "/api/v2/"})
        self.assertEqual(reply.json["expires_in"], 1)
        time.sleep(1.1)
        self.assertEqual(self.c.get("/api/v2/roles", reply.json["access_token"]).status, 401)

    def test_authz_token_rejected(self):
        token = self.c.token(audience=auth0sim.AUTHZ_AUDIENCE)
        self.assertError(self.c.get("/api/v2/roles", token), 401,
                         message="Bad audience: urn:auth0-authz-api")


class Users(SimCase):

    def all_users(self):
        return read_ndjson(os.path.join(TENANT, "users.ndjson"))

    def test_envelope(self):
        body = self.mgmt("/users?include_totals=true&per_page=2&page=1").json
        self.assertEqual({k: body[k] for k in ("start", "limit", "length", "total")},
                         {"start": 2, "limit": 2, "length": 2, "total": 8})
        self.assertEqual([u["user_id"] for u in body["users"]],
                         [u["user_id"] for u in self.all_users()[2:4]])

    def test_bare_array_and_paging_to_the_end(self):
        seen, page = [], 0
        while True:
            chunk = self.mgmt(f"/users?per_page=3&page={page}").json
            self.assertIsInstance(chunk, list)
            if not chunk:
                break
            seen += [u["user_id"] for u in chunk]
            page += 1
        self.assertEqual(seen, [u["user_id"] for u in self.all_users()])

    def test_private_keys_stripped(self):
        self.assertIn("_note", self.all_users()[0])
        for user in self.mgmt("/users").json:
            self.assertFalse([k for k in user if k.startswith("_")], user)

    def test_connection_query(self):
        q = urllib.parse.quote('identities.connection:"google-oauth2"')
        body = self.mgmt(f"/users?q={q}&search_engine=v3&include_totals=true").json
        self.assertEqual([u["user_id"] for u in body["users"]], [FRANK])
        self.assertEqual(body["total"], 1)
        q = urllib.parse.quote(f'identities.connection:"{DB}"')
        self.assertEqual(len(self.mgmt(f"/users?q={q}").json), 7)

    def test_query_terms(self):
        def ids(query):
            return [u["user_id"] for u in self.mgmt("/users?q=" + urllib.parse.quote(query)).json]
        self.assertEqual(ids('email:"ALICE@example.com"'), [ALICE])
        self.assertEqual(ids("username:bob"), [BOB])
        self.assertEqual(ids("app_metadata.groups:ops"), [GRACE])
        self.assertEqual(ids("name:Gra*"), [GRACE])
        self.assertEqual(len(ids("created_at:[2024-06-01 TO *]")), 3)
        self.assertEqual(ids(f'identities.connection:"{DB}" AND blocked:true'),
                         ["auth0|5f1a00000000000000000a03"])
        self.assertEqual(ids("_exists_:last_login AND logins_count:[20 TO *]"), [FRANK])
        reply = self.mgmt("/users?q=" + urllib.parse.quote("name:a OR name:b"))
        self.assertError(reply, 400, errorCode="invalid_query_string")

    def test_thousand_result_cap(self):
        body = self.assertError(self.mgmt("/users?page=10&per_page=100"), 400,
                                errorCode="invalid_paging")
        self.assertEqual(body, {"statusCode": 400, "error": "Bad Request",
                                "message": auth0sim.MSG_INVALID_PAGING,
                                "errorCode": "invalid_paging"})
        self.assertIn("You can only page through the first 1000 records", body["message"])
        self.assertEqual(self.mgmt("/users?page=9&per_page=100").json, [])
        self.assertEqual(self.mgmt("/users?page=19&per_page=50").status, 200)
        self.assertEqual(self.mgmt("/users?page=20&per_page=50").status, 400)

    def test_per_page_bounds(self):
        body = self.assertError(self.mgmt("/users?per_page=101"), 400,
                                errorCode="invalid_query_string")
        self.assertIn("'Value 101 is greater than maximum 100' on property per_page",
                      body["message"])
        self.assertEqual(self.mgmt("/users?page=-1").status, 400)
        self.assertEqual(self.mgmt("/users?per_page=0&include_totals=true").json["users"], [])

    def test_search_engine(self):
        self.assertError(self.mgmt("/users?search_engine=v2"), 400, message=(
            "You are not allowed to use search_engine=v2. Use search_engine=v3 instead."))
        self.assertEqual(self.mgmt("/users?search_engine=v3").status, 200)

    def test_fields(self):
        users = self.mgmt("/users?fields=user_id,email&include_fields=true").json
        self.assertEqual(set(users[0]), {"user_id", "email"})
        users = self.mgmt("/users?fields=identities,app_metadata&include_fields=false").json
        self.assertNotIn("identities", users[0])
        self.assertIn("email", users[0])

    def test_sort(self):
        users = self.mgmt("/users?sort=created_at:-1&fields=user_id,created_at").json
        stamps = [u["created_at"] for u in users]
        self.assertEqual(stamps, sorted(stamps, reverse=True))
        self.assertEqual(self.mgmt("/users?sort=created_at").status, 400)

    def test_user_by_id(self):
        reply = self.mgmt("/users/" + urllib.parse.quote(ALICE, safe=""))
        self.assertEqual(reply.json["email"], "alice@example.com")
        self.assertError(self.mgmt("/users/auth0%7Cnobody"), 404, errorCode="inexistent_user")


class ExportJobs(SimCase):

    FIELDS = [{"name": "user_id"}, {"name": "email"},
              {"name": "identities[0].connection", "export_as": "provider"}]

    def create(self, body, token):
        return self.c.call("POST", "/api/v2/jobs/users-exports", body, token)

    def test_lifecycle_and_gzip_download(self):
        token = self.c.token()
        job = self.create({"connection_id": DB_ID, "format": "json", "fields": self.FIELDS},
                          token).json
        self.assertEqual((job["type"], job["status"], job["connection"]),
                         ("users_export", "pending", DB))
        self.assertTrue(job["id"].startswith("job_"))
        statuses = [self.c.get("/api/v2/jobs/" + job["id"], token).json for _ in range(3)]
        self.assertEqual([s["status"] for s in statuses], ["pending", "processing", "completed"])
        done = statuses[-1]
        self.assertEqual(done["percentage_done"], 100)
        self.assertTrue(done["location"].startswith(self.sim.url + "/__exports/"))
        with urllib.request.urlopen(done["location"], context=self.c.ctx) as r:
            self.assertEqual(r.headers["Content-Type"], "application/gzip")
            lines = gzip.decompress(r.read()).decode().splitlines()
        rows = [json.loads(line) for line in lines]
        self.assertEqual(len(rows), 7)
        self.assertEqual(rows[0], {"user_id": ALICE, "email": "alice@example.com",
                                   "provider": DB})

    def test_full_objects_without_fields(self):
        self.c.control("POST", "config", {"export_polls": 0})
        token = self.c.token()
        job = self.create({"connection_id": GOOGLE_ID, "format": "json"}, token).json
        done = self.c.get("/api/v2/jobs/" + job["id"], token).json
        self.assertEqual(done["status"], "completed")
        data = self.c.call("GET", done["location"][len(self.sim.url):]).raw
        rows = [json.loads(line) for line in gzip.decompress(data).decode().splitlines()]
        q = urllib.parse.quote('identities.connection:"google-oauth2"')
        self.assertEqual(rows, self.c.get("/api/v2/users?q=" + q, token).json)

    def test_limit_and_all_connections(self):
        self.c.control("POST", "config", {"export_polls": 0})
        token = self.c.token()
        job = self.create({"limit": 3, "fields": [{"name": "user_id"}]}, token).json
        self.assertNotIn("connection_id", job)
        location = self.c.get("/api/v2/jobs/" + job["id"], token).json["location"]
        data = gzip.decompress(self.c.get(location[len(self.sim.url):]).raw).decode()
        self.assertEqual(len(data.splitlines()), 3)
        self.assertEqual(self.create({"format": "xml"}, token).status, 400)

    def test_bad_signature(self):
        self.c.control("POST", "config", {"export_polls": 0})
        token = self.c.token()
        job = self.create({"connection_id": DB_ID}, token).json
        location = self.c.get("/api/v2/jobs/" + job["id"], token).json["location"]
        path = location[len(self.sim.url):].replace("Signature=", "Signature=x")
        self.assertEqual(self.c.get(path).status, 403)

    def test_unknown_connection_and_job(self):
        token = self.c.token()
        self.assertError(self.create({"connection_id": "con_nope"}, token), 400,
                         message="The connection does not exist.")
        self.assertError(self.c.get("/api/v2/jobs/job_nope", token), 404, message="Job not found.")

    def test_failed_job_fault(self):
        token = self.c.token()
        job = self.create({"connection_id": DB_ID}, token).json
        self.c.control("POST", "faults", [{"path_prefix": "/api/v2/jobs/", "fail_job": True}])
        self.assertEqual(self.c.get("/api/v2/jobs/" + job["id"], token).json["status"], "failed")


class Roles(SimCase):

    def test_list(self):
        body = self.mgmt("/roles?include_totals=true&per_page=2").json
        self.assertEqual((body["start"], body["limit"], body["total"]), (0, 2, 3))
        self.assertEqual(body["roles"][0], {"id": "rol_sim0000000000001", "name": "Admins",
                                            "description": "Tenant administrators"})
        self.assertEqual(len(self.mgmt("/roles").json), 3)
        self.assertEqual(len(self.mgmt("/roles?name_filter=VIEW").json), 1)

    def test_checkpoint_paging_of_members(self):
        token = self.c.token()
        path = "/api/v2/roles/rol_sim0000000000002/users?take=2"
        members, pages, body = [], 0, self.c.get(path, token).json
        while True:
            pages += 1
            self.assertLessEqual(len(body["users"]), 2)
            members += [u["user_id"] for u in body["users"]]
            if "next" not in body:
                break
            body = self.c.get(path + "&from=" + urllib.parse.quote(body["next"]), token).json
        self.assertEqual(pages, 3)
        self.assertEqual(len(members), 5)
        self.assertEqual(members[0], ALICE)
        self.assertEqual(set(self.c.get(path.replace("take=2", "take=5"), token).json), {"users"})

    def test_offset_paging_of_members(self):
        body = self.mgmt("/roles/rol_sim0000000000002/users?per_page=2&page=2&include_totals=true")
        self.assertEqual((body.json["total"], len(body.json["users"])), (5, 1))
        self.assertEqual(set(body.json["users"][0]), {"user_id", "email", "name", "picture"})

    def test_checkpoint_errors(self):
        self.assertEqual(self.mgmt("/roles/rol_sim0000000000002/users?take=101").status, 400)
        self.assertEqual(self.mgmt("/roles/rol_sim0000000000002/users?from=garbage").status, 400)
        self.assertError(self.mgmt("/roles/rol_nope/users?take=5"), 404, message="Role not found.")

    def test_empty_role(self):
        self.assertEqual(self.mgmt("/roles/rol_sim0000000000003/users?take=50").json,
                         {"users": []})

    def test_permissions(self):
        body = self.mgmt("/roles/rol_sim0000000000001/permissions?include_totals=true").json
        self.assertEqual(body["total"], 2)
        self.assertEqual(body["permissions"][0]["resource_server_identifier"],
                         "https://docs.example/")


class ClientsAndConnections(SimCase):

    def test_clients_paging_and_secrets(self):
        body = self.mgmt("/clients?per_page=2&page=1&include_totals=true").json
        self.assertEqual((body["start"], body["limit"], body["total"]), (2, 2, 3))
        self.assertEqual([c["name"] for c in body["clients"]], ["LDAP bridge"])
        for client in self.mgmt("/clients").json:
            self.assertNotIn("client_secret", client)
        self.assertEqual(self.mgmt("/clients?per_page=101").status, 400)

    def test_clients_fields_and_filters(self):
        clients = self.mgmt("/clients?fields=client_id,name&include_fields=true").json
        self.assertEqual(set(clients[0]), {"client_id", "name"})
        self.assertEqual([c["name"] for c in self.mgmt("/clients?app_type=spa").json],
                         ["Grafana"])

    def test_connections_checkpoint_and_offset(self):
        token = self.c.token()
        first = self.c.get("/api/v2/connections?take=1", token).json
        self.assertEqual(first["connections"][0]["id"], DB_ID)
        second = self.c.get("/api/v2/connections?take=1&from=" + first["next"], token).json
        self.assertEqual(second["connections"][0]["id"], GOOGLE_ID)
        self.assertNotIn("next", second)
        body = self.mgmt("/connections?per_page=1&page=1&include_totals=true").json
        self.assertEqual((body["total"], body["connections"][0]["id"]), (2, GOOGLE_ID))
        self.assertEqual(len(self.mgmt("/connections?strategy=auth0&strategy=samlp").json), 1)
        fields = self.mgmt("/connections?take=5&fields=id,name&include_fields=true").json
        self.assertEqual(set(fields["connections"][0]), {"id", "name"})

    def test_enabled_clients_endpoint(self):
        token = self.c.token()
        path = f"/api/v2/connections/{DB_ID}/clients?take=1"
        first = self.c.get(path, token).json
        self.assertEqual(first["clients"], [{"client_id": "simJenkins0000000000000000000001"}])
        last = self.c.get(path + "&from=" + first["next"], token).json
        self.assertEqual(last, {"clients": [{"client_id": "simGrafana0000000000000000000002"}]})
        self.assertEqual(self.c.get("/api/v2/connections/con_nope/clients", token).status, 404)

    def test_hide_enabled_clients(self):
        self.c.control("POST", "config", {"hide_enabled_clients": True})
        self.assertNotIn("enabled_clients", self.mgmt("/connections").json[0])


NATIVE = ("sim-native", "sim-native-secret")
ORG_MEMBERS = ("sim-org-members", "sim-org-members-secret")
STAFF, DEVS, DEVS_G = ("grp_sim0000000000000%d" % i for i in range(1, 4))


class NativeGroupsAndOrganizations(SimCase):
    """auth0-api.md sections 6 and 10, from tenant/groups.json and
    tenant/organizations.json."""

    def test_groups_checkpoint_and_offset_without_members(self):
        token = self.c.token(client=NATIVE)
        first = self.c.get("/api/v2/groups?take=2", token).json
        self.assertEqual([g["id"] for g in first["groups"]], [STAFF, DEVS])
        self.assertTrue(all("members" not in g and "roles" not in g for g in first["groups"]))
        last = self.c.get("/api/v2/groups?take=2&from=" + first["next"], token).json
        self.assertEqual([g["id"] for g in last["groups"]], [DEVS_G])
        self.assertNotIn("next", last)
        body = self.mgmt("/groups?per_page=1&page=2&include_totals=true", client=NATIVE).json
        self.assertEqual((body["total"], body["groups"][0]["connection_id"]), (3, GOOGLE_ID))
        self.assertEqual(len(self.mgmt("/groups?name=Devs", client=NATIVE).json), 2)
        self.assertEqual(self.mgmt("/groups/grp_nope", client=NATIVE).status, 404)

    def test_group_members_checkpoint_only_users_and_groups(self):
        token = self.c.token(client=NATIVE)
        first = self.c.get("/api/v2/groups/%s/members?take=1" % STAFF, token).json
        self.assertEqual(first["members"][0]["member_type"], "group")
        self.assertEqual(first["members"][0]["id"], DEVS)
        last = self.c.get("/api/v2/groups/%s/members?take=1&from=%s" % (STAFF, first["next"]), token).json
        self.assertEqual((last["members"][0]["member_type"], last["members"][0]["connection_id"]),
                         ("user", DB_ID))
        self.assertNotIn("next", last)
        reply = self.c.get("/api/v2/groups/%s/members" % STAFF, self.c.token(client=ROLES_ONLY))
        self.assertEqual(reply.status, 403)
        self.assertIn("read:group_members", reply.json["message"])

    def test_role_groups_and_group_roles(self):
        body = self.mgmt("/roles/rol_sim0000000000002/groups?take=50", client=NATIVE).json
        self.assertEqual([g["id"] for g in body["groups"]], [STAFF, DEVS])
        self.assertNotIn("members", body["groups"][0])
        self.assertEqual(self.mgmt("/roles/rol_sim0000000000003/groups", client=NATIVE).json, {"groups": []})
        roles = self.mgmt("/groups/%s/roles" % DEVS, client=NATIVE).json
        self.assertEqual({r["name"] for r in roles}, {"Admins", "Viewers"})
        reply = self.mgmt("/groups?take=5", client=ROLES_ONLY)
        self.assertEqual((reply.status, reply.json["message"]),
                         (403, "Insufficient scope, expected any of: read:groups"))

    def test_organizations_and_members_with_roles(self):
        body = self.mgmt("/organizations?take=10", client=NATIVE).json
        self.assertEqual(body, {"organizations": [{"id": "org_sim0000000000001", "name": "acme",
                                                   "display_name": "Acme"}]})
        path = "/organizations/org_sim0000000000001/members?fields=user_id,roles&include_fields=true&take=2"
        first = self.mgmt(path, client=NATIVE).json
        self.assertEqual(first["members"][0], {"user_id": ALICE,
                                               "roles": [{"id": "rol_sim0000000000001", "name": "Admins"}]})
        token = self.c.token(client=NATIVE)
        last = self.c.get("/api/v2" + path + "&from=" + first["next"], token).json
        self.assertEqual(len(last["members"]), 1)
        self.assertNotIn("next", last)
        plain = self.mgmt("/organizations/org_sim0000000000001/members?take=5", client=ORG_MEMBERS).json
        self.assertNotIn("roles", plain["members"][0])
        self.assertEqual(plain["members"][0]["user_id"], ALICE)
        reply = self.mgmt(path, client=ORG_MEMBERS)
        self.assertEqual((reply.status, reply.json["message"]),
                         (403, "Insufficient scope, expected any of: read:organization_member_roles"))
        self.assertEqual(self.mgmt("/organizations?take=1", client=ROLES_ONLY).status, 403)
        self.assertEqual(self.mgmt("/organizations/org_nope/members?take=1", client=NATIVE).status, 404)

    def test_offset_members_stop_at_1000(self):
        reply = self.mgmt("/organizations/org_sim0000000000001/members?per_page=100&page=10",
                          client=ORG_MEMBERS)
        self.assertEqual((reply.status, reply.json["errorCode"]), (400, "invalid_paging"))

    def test_faults_apply_to_native_paths(self):
        self.c.control("POST", "faults", [{"path_prefix": "/api/v2/groups", "status": 503, "count": 1}])
        self.assertEqual(self.mgmt("/groups?take=5", client=NATIVE).status, 503)
        self.assertEqual(self.mgmt("/groups?take=5", client=NATIVE).status, 200)


class AuthorizationExtension(SimCase):

    def test_token_checks(self):
        self.assertError(self.c.get("/authz/api/groups"), 401, message="Missing authentication")
        mgmt_token = self.c.token()
        self.assertEqual(self.c.get("/authz/api/groups", mgmt_token).json,
                         {"statusCode": 401, "error": "Unauthorized", "message": "Invalid token"})
        self.assertEqual(self.authz("/groups", client=ROLES_ONLY).json,
                         {"statusCode": 403, "error": "Forbidden", "message": "Insufficient scope"})
        self.assertEqual(self.authz("/roles", client=ROLES_ONLY).status, 200)
        token = self.c.token(audience=auth0sim.AUTHZ_AUDIENCE)
        self.c.control("POST", "expire-tokens")
        self.assertError(self.c.get("/authz/api/groups", token), 401, message="Token expired")

    def test_groups(self):
        body = self.authz("/groups").json
        self.assertEqual(body["total"], 4)
        for group in body["groups"]:
            self.assertIsInstance(group["members"], list)
            self.assertIsInstance(group["mappings"], list)
        filtered = self.authz("/groups?q=back&field=name").json
        self.assertEqual(([g["name"] for g in filtered["groups"]], filtered["total"]),
                         (["Backend"], 4))

    def test_group_and_expand(self):
        self.assertEqual(self.authz("/groups/" + OPS).json,
                         {"_id": OPS, "name": "Ops", "description": "Operations"})
        roles = self.authz(f"/groups/{OPS}?expand=true").json["roles"]
        self.assertEqual({r["name"] for r in roles}, {"Deployer", "Reader"})
        deployer = [r for r in roles if r["name"] == "Deployer"][0]
        self.assertEqual({p["name"] for p in deployer["permissions"]}, {"deploy", "read"})

    def test_unknown_and_malformed_ids(self):
        unknown = "0b6f3c6e-1f1a-4c1e-9a55-2d6a3f4b5cff"
        self.assertEqual(self.authz("/groups/" + unknown).json, {
            "statusCode": 404, "error": "NotFoundError",
            "message": f"The record {unknown} in groups does not exist."})
        self.assertError(self.authz("/groups/not-a-guid"), 400, error="Bad Request")

    def test_members_paging(self):
        first = self.authz(f"/groups/{BACKEND}/members?per_page=1&page=0").json
        self.assertEqual(first, self.authz(f"/groups/{BACKEND}/members?per_page=1&page=1").json)
        second = self.authz(f"/groups/{BACKEND}/members?per_page=1&page=2").json
        self.assertEqual(first["total"], 2)
        self.assertEqual(first["users"][0]["user_id"], BOB)
        self.assertEqual(second["users"][0]["identities"], [{"connection": "N/A"}])
        self.assertError(self.authz(f"/groups/{BACKEND}/members?per_page=26"), 400)

    def test_nested_roles_mappings(self):
        self.assertEqual([g["name"] for g in self.authz(f"/groups/{ENG}/nested").json],
                         ["Backend"])
        self.assertEqual([r["name"] for r in self.authz(f"/groups/{ENG}/roles").json],
                         ["Deployer"])
        nested = self.authz(f"/groups/{ENG}/members/nested").json
        self.assertEqual(nested["total"], 4)
        self.assertEqual({e["group"]["name"] for e in nested["nested"]},
                         {"Engineering", "Backend", "Ops"})
        self.assertEqual(self.authz(f"/groups/{GOOGLE_STAFF}/mappings").json[0]["connectionName"],
                         "google-oauth2 (google-oauth2)")
        pairs = self.authz(f"/groups/{OPS}/roles/nested").json
        self.assertEqual({(p["group"]["name"], p["role"]["name"]) for p in pairs},
                         {("Engineering", "Deployer"), ("Backend", "Reader")})

    def test_roles_permissions_export(self):
        roles = self.authz("/roles").json
        self.assertEqual((roles["total"], roles["roles"][0]["_id"]), (2, DEPLOYER))
        self.assertEqual(self.authz("/roles/" + READER).json["name"], "Reader")
        self.assertEqual(self.authz("/permissions").json["total"], 2)
        with open(os.path.join(TENANT, "authz.json"), encoding="utf-8") as f:
            self.assertEqual(self.authz("/configuration/export").json, json.load(f))

    def test_user_groups_and_roles(self):
        quoted = urllib.parse.quote(GRACE, safe="")
        self.assertEqual([g["name"] for g in self.authz(f"/users/{quoted}/groups").json], ["Ops"])
        calculated = self.authz(f"/users/{quoted}/groups/calculate").json
        self.assertEqual({g["name"] for g in calculated}, {"Ops", "Backend", "Engineering"})
        roles = self.authz(f"/users/{quoted}/roles/calculate").json
        self.assertEqual({r["name"] for r in roles}, {"Deployer", "Reader"})
        frank = urllib.parse.quote(FRANK, safe="")
        self.assertEqual([r["name"] for r in self.authz(f"/users/{frank}/roles").json],
                         ["Deployer"])


class RateLimit(SimCase):

    def test_headers_on_every_response(self):
        token = self.c.token()
        for reply in (self.c.get("/api/v2/users", token), self.c.get("/api/v2/nothing", token),
                      self.c.get("/authz/api/groups"), self.c.oauth({})):
            for name in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
                self.assertTrue(reply.headers[name].isdigit(), (name, reply.headers))

    def test_bucket(self):
        token = self.c.token()
        self.c.control("POST", "config", {"rate": 2})
        replies = [self.c.get("/api/v2/roles", token) for _ in range(3)]
        self.assertEqual([r.status for r in replies], [200, 200, 429])
        self.assertEqual(replies[1].headers["x-ratelimit-remaining"], "0")
        limited = replies[2]
        self.assertEqual(limited.json, auth0sim.TOO_MANY_REQUESTS)
        self.assertEqual(limited.headers["x-ratelimit-limit"], "2")
        reset = int(limited.headers["x-ratelimit-reset"])
        self.assertGreaterEqual(reset, int(time.time()))
        self.assertLessEqual(reset, time.time() + 2)
        self.assertEqual(self.c.stats()["rate_limited"], 1)
        time.sleep(max(0.0, reset - time.time()) + 0.05)
        self.assertEqual(self.c.get("/api/v2/roles", token).status, 200)

    def test_rate_limit_fault(self):
        self.c.control("POST", "faults", [{"path_prefix": "/api/v2/users", "rate_limit": True,
                                           "reset_after": 5, "count": 1}])
        token = self.c.token()
        reply = self.c.get("/api/v2/users", token)
        self.assertEqual((reply.status, reply.json["errorCode"]), (429, "too_many_requests"))
        self.assertEqual(reply.headers["x-ratelimit-remaining"], "0")
        self.assertAlmostEqual(int(reply.headers["x-ratelimit-reset"]), time.time() + 5, delta=1.5)
        self.assertEqual(self.c.get("/api/v2/users", token).status, 200)


class Faults(SimCase):

    def raw(self, path, timeout=5):
        """http.client request; returns (response, connection)."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.sim.port, context=self.c.ctx,
                                           timeout=timeout)
        conn.request("GET", path, headers={"Authorization": "Bearer " + self.token})
        return conn.getresponse(), conn

    def setUp(self):
        super().setUp()
        self.token = self.c.token()

    def add(self, *rules):
        reply = self.c.control("POST", "faults", list(rules))
        self.assertEqual(reply.status, 200, reply.raw)

    def test_status_with_count(self):
        self.add({"path_prefix": "/api/v2/users", "status": 503, "count": 2})
        first = self.c.get("/api/v2/users", self.token)
        self.assertEqual(first.json, {"statusCode": 503, "error": "Service Unavailable",
                                      "message": "Service Unavailable"})
        self.assertEqual(self.c.get("/api/v2/users", self.token).status, 503)
        self.assertEqual(self.c.get("/api/v2/users", self.token).status, 200)
        self.assertEqual(self.c.stats()["faults_applied"], 2)

    def test_custom_body_method_query_skip(self):
        self.add({"path_prefix": "/api/v2/users", "method": "GET", "query": "page=1",
                  "skip": 1, "status": 500, "body": {"statusCode": 500, "message": "boom"}})
        self.assertEqual(self.c.get("/api/v2/users?page=1", self.token).status, 200)
        self.assertEqual(self.c.get("/api/v2/users?page=0", self.token).status, 200)
        reply = self.c.get("/api/v2/users?page=1", self.token)
        self.assertEqual((reply.status, reply.json["message"]), (500, "boom"))
        self.add({"path_prefix": "/api/v2/jobs", "method": "POST", "status": 502})
        self.assertEqual(self.c.get("/api/v2/jobs/job_x", self.token).status, 404)

    def test_oauth_fault_body(self):
        self.add({"path_prefix": "/oauth/token", "status": 503, "count": 1})
        reply = self.c.login("alice@example.com", "alice-Secret-1")
        self.assertEqual(reply.json["error"], "server_error")

    def test_delay_beyond_client_timeout(self):
        self.add({"path_prefix": "/api/v2/roles", "delay": 1.0, "count": 1})
        started = time.monotonic()
        with self.assertRaises((TimeoutError, socket.timeout, urllib.error.URLError)):
            self.c.get("/api/v2/roles", self.token, timeout=0.3)
        self.assertLess(time.monotonic() - started, 0.9)
        self.assertEqual(self.c.get("/api/v2/roles", self.token).status, 200)

    def test_delay_then_answer(self):
        self.add({"path_prefix": "/api/v2/roles", "delay": 0.3})
        started = time.monotonic()
        self.assertEqual(self.c.get("/api/v2/roles", self.token).status, 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_latency_counts_from_the_request(self):
        # the simulator's own time (here a 0.3 s delay) is part of the
        # latency, not added to it
        self.add({"path_prefix": "/api/v2/roles", "latency": 0.4, "delay": 0.3})
        started = time.monotonic()
        self.assertEqual(self.c.get("/api/v2/roles", self.token).status, 200)
        took = time.monotonic() - started
        self.assertGreaterEqual(took, 0.4)
        self.assertLess(took, 0.65)

    def test_truncate(self):
        self.add({"path_prefix": "/api/v2/users", "truncate": True})
        response, conn = self.raw("/api/v2/users")
        self.assertEqual(response.status, 200)
        with self.assertRaises(http.client.IncompleteRead):
            response.read()
        conn.close()

    def test_malformed(self):
        self.add({"path_prefix": "/api/v2/users", "malformed": True, "count": 1},
                 {"path_prefix": "/api/v2/roles", "malformed": "{\"roles\": [", "count": 1})
        response, conn = self.raw("/api/v2/users")
        body = response.read()
        self.assertEqual(int(response.headers["Content-Length"]), len(body))
        with self.assertRaises(json.JSONDecodeError):
            json.loads(body)
        conn.close()
        self.assertEqual(self.c.get("/api/v2/roles", self.token).raw, b'{"roles": [')

    def test_reset(self):
        self.add({"path_prefix": "/api/v2/users", "reset": True, "count": 1})
        with self.assertRaises((OSError, http.client.HTTPException)):
            self.raw("/api/v2/users")[0].read()
        self.assertEqual(self.c.get("/api/v2/users", self.token).status, 200)
        self.assertEqual(self.c.stats()["statuses"]["reset"], 1)

    def test_rule_management(self):
        self.assertEqual(self.c.control("POST", "faults", [{"path_prefix": "/x"}]).status, 400)
        self.assertEqual(self.c.control("POST", "faults", [{"stauts": 500}]).status, 400)
        self.add({"path_prefix": "/api/v2/users", "status": 500, "count": 3})
        self.c.get("/api/v2/users", self.token)
        rules = self.c.get("/__sim/faults").json["faults"]
        self.assertEqual((rules[0]["remaining"], rules[0]["hits"]), (2, 1))
        self.c.control("DELETE", "faults")
        self.assertEqual(self.c.get("/api/v2/users", self.token).status, 200)


class PasswordRealm(SimCase):

    def test_success_records_forwarded_for(self):
        reply = self.c.login("ALICE@Example.com", "alice-Secret-1", forwarded_for="203.0.113.7")
        self.assertEqual(reply.status, 200, reply.raw)
        self.assertEqual(reply.json["token_type"], "Bearer")
        self.assertEqual(self.c.login("alice", "alice-Secret-1").status, 200)
        stats = self.c.stats()
        self.assertEqual(stats["forwarded_for"], ["203.0.113.7", None])
        self.assertEqual(stats["logins"][0], {
            "grant": "password-realm", "realm": DB, "username": "ALICE@Example.com",
            "client_id": BIND[0], "forwarded_for": "203.0.113.7", "status": 200, "error": None})
        self.assertNotIn("alice-Secret-1", json.dumps(stats))
        self.assertEqual(stats["tokens_issued"], 0)

    def test_wrong_password_and_unknown_user(self):
        for user, password in (("alice@example.com", "wrong"), ("nobody@example.com", "x"),
                               ("frank@gmail.example", "x")):
            self.assertEqual(self.c.login(user, password).json,
                             {"error": "invalid_grant",
                              "error_description": "Wrong email or password."})
        self.assertEqual(self.c.stats()["logins"][-1]["status"], 403)

    def test_login_name_collision(self):
        def subject(reply):
            self.assertEqual(reply.status, 200, reply.raw)
            payload = reply.json["access_token"].split(".")[1]
            return json.loads(auth0sim.unb64url(payload))["sub"]
        self.assertEqual(subject(self.c.login("grace@example.com", "grace-Secret-7")), GRACE)
        self.assertEqual(subject(self.c.login("grace@example.com", "henry-Secret-8")),
                         "auth0|5f1a00000000000000000a08")

    def test_social_and_unknown_realm(self):
        self.assertError(self.c.login("frank@gmail.example", "x", realm="google-oauth2"), 400,
                         error="invalid_request")
        self.assertError(self.c.login("alice", "x", realm="nope"), 400, error="invalid_request")

    def test_mfa(self):
        reply = self.c.login("bob@example.com", "bob-Secret-2")
        body = self.assertError(reply, 403, error="mfa_required",
                                error_description="Multifactor authentication required")
        params = {"grant_type": auth0sim.GRANT_MFA_OTP, "client_id": BIND[0],
                  "client_secret": BIND[1], "mfa_token": body["mfa_token"], "otp": "000000"}
        self.assertError(self.c.oauth(params), 403, error="invalid_grant",
                         error_description="Invalid otp_code.")
        self.assertEqual(self.c.oauth(dict(params, otp="123456")).status, 200)
        self.assertError(self.c.oauth(dict(params, otp="123456")), 403,
                         error_description="Malformed mfa_token")

    def test_otp_used_once(self):
        self.c.control("POST", "config", {"otp_reuse_window": 30})
        params = {"grant_type": auth0sim.GRANT_MFA_OTP, "client_id": BIND[0],
                  "client_secret": BIND[1], "otp": "123456"}
        first = self.c.login("bob", "bob-Secret-2").json["mfa_token"]
        second = self.c.login("bob", "bob-Secret-2").json["mfa_token"]
        try:
            self.assertEqual(self.c.oauth(dict(params, mfa_token=first)).status, 200)
            self.assertError(self.c.oauth(dict(params, mfa_token=second)), 403,
                             error="invalid_grant", error_description="Invalid otp_code.")
        finally:
            self.c.control("POST", "config", {"otp_reuse_window": 0})

    def push_challenge(self):
        mfa_token = self.c.login("bob", "bob-Secret-2").json["mfa_token"]
        auths = self.c.get("/mfa/authenticators", token=mfa_token)
        self.assertEqual(auths.status, 200)
        push = [a for a in auths.json if a["authenticator_type"] == "oob"]
        self.assertEqual(push[0]["oob_channel"], "auth0")
        reply = self.c.call("POST", "/mfa/challenge", {
            "client_id": BIND[0], "client_secret": BIND[1], "mfa_token": mfa_token,
            "challenge_type": "oob", "authenticator_id": push[0]["id"]})
        self.assertEqual(reply.status, 200, reply.raw)
        self.assertEqual(reply.json["challenge_type"], "oob")
        return {"grant_type": auth0sim.GRANT_MFA_OOB, "client_id": BIND[0],
                "client_secret": BIND[1], "mfa_token": mfa_token,
                "oob_code": reply.json["oob_code"]}

    def test_push_pending_slow_down_approved_denied(self):
        self.c.control("POST", "config", {"push_interval": 0.3, "push_answer": ""})
        params = self.push_challenge()
        time.sleep(0.35)
        self.assertError(self.c.oauth(params), 400, error="authorization_pending")
        self.assertError(self.c.oauth(params), 400, error="slow_down")
        self.assertEqual(self.c.control("POST", "push", {"action": "approve"}).json["decided"], 1)
        time.sleep(0.35)
        self.assertEqual(self.c.oauth(params).status, 200)
        params = self.push_challenge()
        self.c.control("POST", "push", {"action": "deny"})
        time.sleep(0.35)
        self.assertError(self.c.oauth(params), 403, error="invalid_grant",
                         error_description="MFA Authorization rejected.")
        self.c.control("POST", "config", {"push_answer": "approve", "push_after": 2})
        params = self.push_challenge()
        time.sleep(0.35)
        self.assertError(self.c.oauth(params), 400, error="authorization_pending")
        time.sleep(0.35)
        self.assertEqual(self.c.oauth(params).status, 200)
        self.assertEqual(self.c.control("POST", "config", {"push_answer": "maybe"}).status, 400)
        self.c.control("POST", "config", {"push_answer": "", "push_after": 1, "push_interval": 1})

    def test_mfa_token_expiry(self):
        mfa_token = self.c.login("bob", "bob-Secret-2").json["mfa_token"]
        self.c.control("POST", "expire-tokens")
        reply = self.c.oauth({"grant_type": auth0sim.GRANT_MFA_OTP, "client_id": BIND[0],
                              "client_secret": BIND[1], "mfa_token": mfa_token, "otp": "123456"})
        self.assertError(reply, 403, error="expired_token",
                         error_description="mfa_token is expired")

    def test_attack_protection_outcomes(self):
        self.assertError(self.c.login("erin@example.com", "erin-Secret-5"), 429,
                         error="too_many_attempts")
        self.assertError(self.c.login("dave@example.com", "dave-Secret-4"), 401,
                         error="password_leaked")
        self.assertError(self.c.login("carol@example.com", "carol-Secret-3"), 401,
                         error="unauthorized", error_description="user is blocked")

    def test_client_checks(self):
        self.assertError(self.c.login("alice", "alice-Secret-1", client=M2M), 403,
                         error="unauthorized_client")
        self.assertError(self.c.login("alice", "alice-Secret-1", client=(BIND[0], "bad")), 401,
                         error="access_denied")
        reply = self.c.oauth({"grant_type": auth0sim.GRANT_REALM, "client_id": BIND[0],
                              "client_secret": BIND[1], "username": "alice", "realm": DB})
        self.assertError(reply, 400, error_description="Missing required parameter: password")


class Control(SimCase):

    def tenant_copy(self):
        directory = tempfile.mkdtemp(prefix="auth0sim-tenant-")
        self.addCleanup(shutil.rmtree, directory, True)
        for name in os.listdir(TENANT):
            shutil.copy(os.path.join(TENANT, name), directory)
        return directory

    def test_stats_counters(self):
        token = self.c.token()
        self.c.get("/api/v2/users", token)
        self.c.get("/api/v2/users?page=1", token)
        self.c.get("/api/v2/roles/rol_sim0000000000001/users?take=1", token)
        self.c.get("/__sim/faults")
        stats = self.c.stats()
        self.assertEqual(stats["total"], 4)
        self.assertEqual(stats["requests"], {"POST /oauth/token": 1, "GET /api/v2/users": 2,
                                             "GET /api/v2/roles/{id}/users": 1})
        self.assertEqual((stats["statuses"], stats["tokens_issued"]), ({"200": 4}, 1))
        self.assertEqual(stats["recent"][2], {"method": "GET", "status": "200",
                                              "path": "/api/v2/users?page=1"})
        self.c.control("POST", "reset-stats")
        self.assertEqual(self.c.stats()["total"], 0)

    def test_reload(self):
        directory = self.tenant_copy()
        token = self.c.token()
        with open(os.path.join(directory, "users.ndjson"), "a", encoding="utf-8") as f:
            f.write(json.dumps({"user_id": "auth0|new", "email": "new@example.com",
                                "identities": [{"connection": DB}]}) + "\n")
        self.assertEqual(self.c.control("POST", "reload", {"tenant": directory}).json["users"], 9)
        try:
            self.assertEqual(len(self.c.get("/api/v2/users", token).json), 9)
            with open(os.path.join(directory, "roles.json"), "w") as f:
                f.write("[not json")
            self.assertEqual(self.c.control("POST", "reload").status, 400)
            self.assertEqual(len(self.c.get("/api/v2/users", token).json), 9)
        finally:
            self.c.control("POST", "reload", {"tenant": TENANT})
        self.assertEqual(len(self.c.get("/api/v2/users", token).json), 8)

    def test_default_client_and_no_extension(self):
        directory = self.tenant_copy()
        os.remove(os.path.join(directory, "sim-clients.json"))
        os.remove(os.path.join(directory, "authz.json"))
        self.c.control("POST", "reload", {"tenant": directory})
        try:
            token = self.c.token(client=("sim-m2m-client", "sim-m2m-secret"),
                                 audience=auth0sim.AUTHZ_AUDIENCE)
            self.assertEqual(self.c.get("/authz/api/groups", token).status, 404)
            self.assertEqual(self.c.login("alice", "alice-Secret-1", client=M2M).status, 200)
        finally:
            self.c.control("POST", "reload", {"tenant": TENANT})

    def test_sim_files_never_served(self):
        for path in ("/sim-users.json", "/api/v2/sim-users.json", "/__exports/sim-users.json"):
            self.assertIn(self.c.get(path).status, (403, 404))
        token = self.c.token()
        everything = b"".join(self.c.get(p, token).raw for p in (
            "/api/v2/users", "/api/v2/clients", "/api/v2/roles", "/api/v2/connections"))
        for secret in (b"alice-Secret-1", b"sim-m2m-secret", b"jenkins-secret-never-shown"):
            self.assertNotIn(secret, everything)

    def test_config(self):
        self.assertEqual(self.c.control("POST", "config", {"export_polls": 5}).json["export_polls"],
                         5)
        self.assertEqual(self.c.get("/__sim/config").json["export_polls"], 5)
        self.assertEqual(self.c.control("POST", "config", {"nope": 1}).status, 400)
        self.assertEqual(self.c.control("POST", "config", {"rate": "fast"}).status, 400)

    def test_keep_alive_and_content_length(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.sim.port, context=self.c.ctx,
                                           timeout=5)
        conn.request("GET", "/__sim/health")
        first = conn.getresponse()
        first.read()
        sock = conn.sock
        for path in ("/api/v2/users", "/nothing", "/__sim/stats"):
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            self.assertEqual(int(response.headers["Content-Length"]), len(body))
            self.assertIs(conn.sock, sock)
        self.assertEqual(response.version, 11)
        conn.close()


class Logs(SimCase):
    """GET /api/v2/logs: events recorded for each change, checkpoint paging, retention."""

    def tenant_copy(self):
        directory = tempfile.mkdtemp(prefix="auth0sim-tenant-")
        self.addCleanup(shutil.rmtree, directory, True)
        for name in os.listdir(TENANT):
            shutil.copy(os.path.join(TENANT, name), directory)
        self.addCleanup(self.c.control, "POST", "reload", {"tenant": TENANT})
        return directory

    def newest(self, token):
        reply = self.c.get("/api/v2/logs?per_page=1&sort=date:-1", token)
        self.assertEqual(reply.status, 200, reply.raw)
        if reply.json:
            return reply.json[0]["log_id"]
        return self.c.control("GET", "logs").json["pruned"] or "0"

    def since(self, token, checkpoint, take=100):
        return self.c.get(f"/api/v2/logs?from={checkpoint}&take={take}", token)

    def edit_users(self, directory, change):
        path = os.path.join(directory, "users.ndjson")
        users = read_ndjson(path)
        users = change(users)
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(u) + "\n" for u in users))

    def test_reload_records_user_changes(self):
        token = self.c.token()
        start = self.newest(token)
        directory = self.tenant_copy()

        def change(users):
            for u in users:
                if u["user_id"] == ALICE:
                    u["family_name"] = "Renamed"
                if u["user_id"] == GRACE:
                    u["last_login"], u["logins_count"] = "2026-12-01T00:00:00.000Z", 99
            users = [u for u in users if u["user_id"] != BOB]
            users.append({"user_id": "auth0|new1", "email": "new1@example.com",
                          "identities": [{"connection": DB}]})
            return users
        self.edit_users(directory, change)
        reply = self.c.control("POST", "reload", {"tenant": directory})
        self.assertEqual(reply.json["events"], 4)
        events = self.since(token, start).json
        kinds = {(e["type"], e.get("user_id")) for e in events}
        self.assertEqual(kinds, {("sapi", ALICE), ("s", GRACE), ("ss", "auth0|new1"),
                                 ("sdu", BOB)})
        sapi = [e for e in events if e["type"] == "sapi"][0]
        self.assertEqual(sapi["details"]["request"]["path"],
                         "/api/v2/users/auth0%7C5f1a00000000000000000a01")
        self.assertEqual(sapi["details"]["request"]["method"], "patch")
        self.assertEqual(sapi["connection"], DB)
        ids = [e["log_id"] for e in events]
        self.assertEqual(ids, sorted(ids))
        for e in events:
            self.assertTrue(e["date"].endswith("Z"))
            self.assertIn("description", e)
        self.assertEqual(self.since(token, ids[-1]).json, [])

    def test_role_membership_and_password_events(self):
        token = self.c.token()
        start = self.newest(token)
        directory = self.tenant_copy()
        path = os.path.join(directory, "roles.json")
        with open(path, encoding="utf-8") as f:
            roles = json.load(f)
        roles[0]["members"] = [m for m in roles[0]["members"] if m != ALICE] + [BOB]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(roles, f)
        path = os.path.join(directory, "sim-users.json")
        with open(path, encoding="utf-8") as f:
            profiles = json.load(f)
        profiles[ALICE]["password"] = "alice-New-2"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(profiles, f)
        self.c.control("POST", "reload", {"tenant": directory})
        events = self.since(token, start).json
        paths = sorted((e["type"], (e.get("details") or {}).get("request", {}).get("path"))
                       for e in events)
        rid = roles[0]["id"]
        self.assertEqual(paths, [("sapi", f"/api/v2/roles/{rid}/users"),
                                 ("sapi", "/api/v2/users/auth0%7C5f1a00000000000000000a01/roles"),
                                 ("scp", None)])
        assign = [e for e in events if e.get("details", {}).get("request", {}).get(
            "path", "").endswith("/users")][0]
        self.assertEqual(assign["details"]["request"]["body"], {"users": [BOB]})

    def test_checkpoint_paging(self):
        token = self.c.token()
        start = self.newest(token)
        self.c.control("POST", "logs", [{"type": "depnote", "description": f"n{i}"}
                                        for i in range(250)])
        seen, checkpoint, calls = [], start, 0
        while True:
            reply = self.since(token, checkpoint)
            calls += 1
            self.assertEqual(reply.status, 200)
            if not reply.json:
                self.assertNotIn("Link", reply.headers)
                break
            self.assertIn('rel="next"', reply.headers["Link"])
            seen += reply.json
            checkpoint = reply.json[-1]["log_id"]
        self.assertEqual(len(seen), 250)
        self.assertEqual(calls, 4)
        self.assertEqual([e["description"] for e in seen], [f"n{i}" for i in range(250)])
        self.assertEqual(self.since(token, start, take=101).status, 400)
        self.assertEqual(self.since(token, "not-a-log-id").status, 400)

    def test_retention_refuses_old_checkpoint(self):
        token = self.c.token()
        start = self.newest(token)
        self.c.control("POST", "logs", [{"type": "sapi", "description": "x"}] * 3)
        middle = self.since(token, start).json[0]["log_id"]
        self.assertGreaterEqual(
            self.c.control("POST", "logs/expire", {"keep": 1}).json["expired"], 2)
        self.assertEqual(len(self.c.control("GET", "logs").json["logs"]), 1)
        self.assertError(self.since(token, middle), 400, errorCode="invalid_query_string")
        newest = self.newest(token)
        self.assertEqual(self.since(token, newest).json, [])
        # age-based retention
        self.c.control("POST", "config", {"log_retention": 1})
        self.c.control("POST", "logs", [{"type": "sapi", "description": "soon gone"}] * 2)
        self.assertEqual(len(self.since(token, newest).json), 2)
        time.sleep(2.1)
        self.assertError(self.since(token, newest), 400)
        self.assertEqual(self.c.get("/api/v2/logs", token).json, [])

    def test_scope_and_faults(self):
        reply = self.mgmt("/logs?from=0&take=10", client=MGMT_ONLY)
        body = self.assertError(reply, 403, errorCode="insufficient_scope")
        self.assertIn("read:logs", body["message"])
        token = self.c.token()
        newest = self.newest(token)
        self.c.control("POST", "faults", {"path_prefix": "/api/v2/logs", "rate_limit": True,
                                          "count": 1})
        self.assertEqual(self.since(token, newest).status, 429)
        self.assertEqual(self.since(token, newest).status, 200)
        self.c.control("POST", "faults", {"path_prefix": "/api/v2/logs", "status": 503,
                                          "count": 1})
        self.assertEqual(self.since(token, newest).status, 503)

    def test_logins_are_logged(self):
        token = self.c.token()
        start = self.newest(token)
        self.assertEqual(self.c.login("alice@example.com", "alice-Secret-1").status, 200)
        self.assertEqual(self.c.login("alice@example.com", "wrong").status, 403)
        events = self.since(token, start).json
        self.assertEqual([(e["type"], e.get("user_id"), e.get("connection")) for e in events],
                         [("s", ALICE, DB), ("fp", ALICE, DB)])


class TLS(unittest.TestCase):

    def serve(self, name):
        sim = auth0sim.Simulator(TENANT, cert(name + ".pem"), cert(name + ".key")).start()
        self.addCleanup(sim.stop)
        return sim

    def fetch(self, url):
        context = ssl.create_default_context(cafile=cert("ca.pem"))
        with urllib.request.urlopen(url + "/__sim/health", context=context, timeout=5) as r:
            return r.status

    def test_valid_for_ip_and_localhost(self):
        sim = self.serve("server")
        self.assertEqual(self.fetch(sim.url), 200)
        self.assertEqual(self.fetch(f"https://localhost:{sim.port}"), 200)

    def test_expired(self):
        sim = self.serve("expired")
        with self.assertRaisesRegex(urllib.error.URLError, "expired"):
            self.fetch(sim.url)

    def test_wrong_host(self):
        sim = self.serve("wronghost")
        with self.assertRaisesRegex(urllib.error.URLError, "mismatch|doesn't match|not valid"):
            self.fetch(sim.url)

    def test_loopback_only(self):
        with self.assertRaises(ValueError):
            auth0sim.Simulator(TENANT, cert("server.pem"), cert("server.key"), host="0.0.0.0")


class CommandLine(unittest.TestCase):

    def start(self, *extra):
        work = tempfile.mkdtemp(prefix="auth0sim-cli-")
        self.addCleanup(shutil.rmtree, work, True)
        port_file, log = os.path.join(work, "port"), os.path.join(work, "access.log")
        command = [sys.executable, os.path.join(HERE, "auth0sim.py"), "--tenant", TENANT,
                   "--cert", cert("server.pem"), "--key", cert("server.key"), "--port", "0",
                   "--port-file", port_file, "--log", log, *extra]
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: process.poll() is None and process.kill())
        deadline = time.monotonic() + 10
        while not os.path.exists(port_file):
            self.assertIsNone(process.poll(), "simulator exited early")
            self.assertLess(time.monotonic(), deadline, "no port file")
            time.sleep(0.05)
        with open(port_file) as f:
            return process, int(f.read()), log

    def test_serve_and_sigterm(self):
        audience = "https://tenant.example.auth0.com/api/v2/"
        process, port, log = self.start("--audience", audience, "--token-ttl", "600")
        client = Client(f"https://127.0.0.1:{port}")
        self.assertEqual(client.get("/__sim/health").json["users"], 8)
        self.assertEqual(client.oauth({"grant_type": "client_credentials", "client_id": M2M[0],
                                       "client_secret": M2M[1],
                                       "audience": audience}).json["expires_in"], 600)
        self.assertEqual(client.get("/api/v2/roles", client.token()).status, 200)
        self.assertEqual(client.login("alice", "alice-Secret-1").status, 200)
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=5), 0)
        process.stderr.close()
        with open(log, encoding="utf-8") as f:
            text = f.read()
        self.assertIn("POST /oauth/token 200", text)
        for secret in ("alice-Secret-1", "sim-m2m-secret", "sim-bind-secret"):
            self.assertNotIn(secret, text)

    def test_refuses_public_address(self):
        result = subprocess.run([sys.executable, os.path.join(HERE, "auth0sim.py"), "--tenant",
                                 TENANT, "--cert", cert("server.pem"), "--key",
                                 cert("server.key"), "--host", "0.0.0.0"],
                                capture_output=True, text=True, timeout=10)
        self.assertEqual(result.returncode, 2)
        self.assertIn("loopback", result.stderr)

    @unittest.skipUnless(socket.has_ipv6, "no IPv6")
    def test_ipv6_loopback(self):
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
        except OSError:
            self.skipTest("::1 not available")
        process, port, _ = self.start("--host", "::1")
        self.assertEqual(Client(f"https://[::1]:{port}").get("/__sim/health").status, 200)
        process.terminate()
        self.assertEqual(process.wait(timeout=5), 0)
        process.stderr.close()


if __name__ == "__main__":
    unittest.main()
