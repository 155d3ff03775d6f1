"""Faults of the Auth0 APIs (the simulator injects them): what was stored
stays, what could be fetched completely is applied, the error is in the log
and in cn=Monitor, nothing is deleted because a fetch failed, and the next
good refresh converges."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import SUFFIX, TOP, Slapd, api_directives, simulator
from test_api import ApiBase, entries, monitor


def vals(a, name):
    return [v.decode() for v in a.get(name, [])]


# auth0MonFailedResources' names -> the resource of auth0Mon<R>LastSuccess
MONITOR_RESOURCE = {"users": "Users", "roles": "Roles", "clients": "Clients", "authz": "Authz",
                    "groups": "Groups", "group_members": "Groups", "organizations": "Organizations",
                    "organization_members": "Organizations", "connections": "Connections"}
NEVER = "19700101000000Z"


class FaultBase(ApiBase):
    """Imports the tenant, then changes it and refreshes under a fault."""

    def setUp(self):
        super().setUp()
        self.start()
        self.before = entries(self.s)
        self.change_tenant()

    def change_tenant(self):
        """A user renamed (cn) and a role losing a member, upstream."""
        path = os.path.join(self.tdir, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            users = [json.loads(line) for line in f if line.strip()]
        self.changed_user = next(u for u in users if u.get("name"))
        self.changed_user["name"] += " (renamed)"
        with open(path, "w", encoding="utf-8") as f:
            for u in users:
                f.write(json.dumps(u, ensure_ascii=False) + "\n")
        path = os.path.join(self.tdir, "roles.json")
        with open(path, encoding="utf-8") as f:
            roles = json.load(f)
        self.changed_role = next(r for r in roles if r.get("members"))
        self.changed_role["members"].pop()
        with open(path, "w", encoding="utf-8") as f:
            json.dump(roles, f)
        self.sim.faults.clear()
        self.sim.tenant = type(self.sim.tenant)(self.tdir)   # the simulator re-reads the tenant

    def user_cn(self):
        dn, a = self.s.people(["cn"])[self.changed_user["user_id"]]
        return vals(a, "cn")[0]

    def role_members(self):
        res = self.s.search("ou=roles," + SUFFIX, "(auth0RoleId=%s)" % self.changed_role["id"], ["member"])
        return len(res[0][1]["member"])

    def refresh_under(self, rules):
        self.sim.faults.add(rules)
        r = self.s.refresh_now(timeout=120)
        self.sim.faults.clear()
        return r, monitor(self.s)

    def converges(self):
        r = self.s.refresh_now(timeout=120)
        m = monitor(self.s)
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(m["auth0MonLastError"], "none")
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        return r

    def assertNothingWritten(self, m):
        self.assertEqual(entries(self.s), self.before)
        self.assertNotEqual(m["auth0MonLastError"], "none")


class Faults(FaultBase):
    """The sample tenant: every resource the module fetches, each fault."""

    # --- the users resource fails: the refresh keeps everything ----------
    def test_users_503_nothing_written(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "status": 503}])
        self.assertNothingWritten(m)
        self.assertIn("users", m["auth0MonFailedResources"])
        self.assertIn("503", self.s.log_text())
        self.converges()

    def test_users_timeout_nothing_written(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "delay": 4}])
        self.assertNothingWritten(m)
        self.converges()

    def test_users_connection_reset_nothing_written(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "reset": True}])
        self.assertNothingWritten(m)
        self.converges()

    def test_users_truncated_json_nothing_written(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "truncate": True}])
        self.assertNothingWritten(m)
        self.converges()

    def test_users_malformed_json_nothing_written(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "malformed": True}])
        self.assertNothingWritten(m)
        self.converges()

    def test_invalid_client_credentials(self):
        self.sim.tokens.expire_all()
        with open(self.s.directives["auth0-client-secret-file"], "w") as f:
            f.write("not-the-secret\n")
        self.s.stop()
        self.s.start()
        self.s.wait_refresh(2, timeout=120)
        m = monitor(self.s)
        self.assertNothingWritten(m)
        self.assertIn("oauth/token", m["auth0MonLastError"] + self.s.log_text())

    # --- another resource fails: its data stays, the rest is applied ------
    def test_roles_503_roles_kept_users_applied(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/roles", "status": 503}])
        self.assertEqual(m["auth0MonFailedResources"], "roles")
        self.assertEqual(self.user_cn(), self.changed_user["name"])   # users applied
        self.assertEqual(self.role_members(), len(self.changed_role["members"]) + 1)  # kept
        self.converges()
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))

    def test_clients_malformed_json_kept(self):
        apps = {dn for dn in self.before if ",ou=applications," in dn}
        r, m = self.refresh_under([{"path_prefix": "/api/v2/clients", "malformed": True}])
        self.assertIn("clients", m["auth0MonFailedResources"])
        self.assertEqual({dn for dn in entries(self.s) if ",ou=applications," in dn}, apps)
        self.converges()

    def test_roles_403_insufficient_scope_names_the_scope(self):
        self.sim.faults.add([{"path_prefix": "/api/v2/roles", "status": 403,
                              "body": {"statusCode": 403, "error": "Forbidden",
                                       "message": "Insufficient scope, expected any of: read:roles",
                                       "errorCode": "insufficient_scope"}}])
        self.s.refresh_now(timeout=120)
        self.sim.faults.clear()
        self.assertIn("read:roles", self.s.log_text())
        self.assertIn("roles", monitor(self.s)["auth0MonFailedResources"])

    def test_refresh_now_after_a_granted_scope_uses_a_new_token(self):
        self.test_roles_403_insufficient_scope_names_the_scope()
        issued = self.sim.stats.snapshot()["tokens_issued"]
        self.s.refresh_now(timeout=120)     # the admin granted read:roles
        self.assertGreater(self.sim.stats.snapshot()["tokens_issued"], issued)
        self.assertEqual(monitor(self.s)["auth0MonFailedResources"], "none")
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))

    def test_authz_502_groups_kept(self):
        groups = {dn: a for dn, a in self.before.items() if ",ou=groups," in dn}
        r, m = self.refresh_under([{"path_prefix": "/authz/api", "status": 502}])
        self.assertIn("authz", m["auth0MonFailedResources"])
        after = {dn: a for dn, a in entries(self.s).items() if ",ou=groups," in dn}
        self.assertEqual(after, groups)
        self.converges()

    # --- 403 for each resource the module fetches -------------------------
    def forbidden(self, path, scope, resource, ou=None, users_applied=True):
        """A 403 naming the missing scope on path: the resource is marked
        failed, its subtree keeps its stored entries, nothing is deleted,
        the rest is applied, the scope is in the log and a refresh without
        the fault converges."""
        kept = {dn: a for dn, a in self.before.items() if ou and ",ou=%s," % ou in dn}
        per = "auth0Mon%sLast" % MONITOR_RESOURCE[resource]
        read = monitor(self.s)[per + "Success"]
        self.assertNotEqual(read, NEVER)
        r, m = self.refresh_under([{"path_prefix": path, "status": 403,
                                    "body": {"statusCode": 403, "error": "Forbidden",
                                             "message": "Insufficient scope, expected any of: " + scope,
                                             "errorCode": "insufficient_scope"}}])
        self.assertIn(resource, m["auth0MonFailedResources"].split())
        self.assertIn("403", m["auth0MonLastError"])
        self.assertIn(scope, m["auth0MonLastError"])
        self.assertIn(scope, self.s.log_text())
        # per resource: its error, and the time it was last read whole kept
        self.assertIn(scope, m[per + "Error"])
        self.assertEqual(m[per + "Success"], read)
        for other in set(MONITOR_RESOURCE.values()) - {MONITOR_RESOURCE[resource]}:
            self.assertEqual(m["auth0Mon%sLastError" % other], "none", other)
        after = entries(self.s)
        self.assertEqual(set(self.before) - set(after), set(), "entries deleted")
        if ou:
            self.assertEqual({dn: a for dn, a in after.items() if ",ou=%s," % ou in dn}, kept)
        if users_applied:
            self.assertEqual(self.user_cn(), self.changed_user["name"])
        else:
            self.assertNothingWritten(m)
        time.sleep(1.1)         # cn=Monitor's times are in seconds
        self.converges()
        m = monitor(self.s)
        self.assertGreater(m[per + "Success"], read)
        self.assertIn(scope, m[per + "Error"])     # the last error stays

    def test_users_403_nothing_written(self):
        self.forbidden("/api/v2/users", "read:users", "users", users_applied=False)

    def test_role_users_403_roles_kept(self):
        self.forbidden("/api/v2/roles/%s/users" % self.changed_role["id"], "read:users,read:roles",
                       "roles", "roles")
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))

    def test_role_permissions_403_roles_kept(self):
        self.forbidden("/api/v2/roles/%s/permissions" % self.changed_role["id"], "read:roles",
                       "roles", "roles")

    def test_clients_403_applications_kept(self):
        self.forbidden("/api/v2/clients", "read:clients", "clients", "applications")

    def test_authz_groups_403_groups_kept(self):
        self.forbidden("/authz/api/groups", "read:groups", "authz", "groups")

    def test_authz_roles_403_groups_kept(self):
        self.forbidden("/authz/api/roles", "read:roles", "authz", "groups")

    def test_authz_permissions_403_groups_kept(self):
        self.forbidden("/authz/api/permissions", "read:permissions", "authz", "groups")

    # --- native groups, organizations, connections (DESIGN.md 8.3) --------
    def test_groups_403_groups_kept(self):
        self.forbidden("/api/v2/groups", "read:groups", "groups", "groups")

    def test_group_members_403_groups_kept(self):
        self.forbidden("/api/v2/groups/grp_2Rt6Yp9Lm4Wc8Nx3Kq/members", "read:group_members",
                       "group_members", "groups")

    def test_role_groups_403_groups_kept(self):
        self.forbidden("/api/v2/roles/rol_tYBznk4Y8tKVpfVo/groups", "read:roles", "groups", "groups")

    def test_organizations_403_organizations_kept(self):
        self.forbidden("/api/v2/organizations", "read:organizations", "organizations",
                       "organizations")

    def test_organization_members_403_organizations_kept(self):
        self.forbidden("/api/v2/organizations/org_In3Tc8Hq5Wv2Yz9K/members",
                       "read:organization_members", "organization_members", "organizations")

    def test_organization_member_roles_403_organizations_kept(self):
        self.forbidden("/api/v2/organizations/org_Gx7Lk2Mn8Pq4Rs6T/members",
                       "read:organization_member_roles", "organization_members", "organizations")

    def test_connection_clients_403_applications_kept(self):
        self.forbidden("/api/v2/connections/con_Ga6N3wZFa56h6clj/clients", "read:connections",
                       "connections", "applications")

    def test_organizations_403_with_nothing_stored_holds_nothing_back(self):
        """A tenant that never granted read:organizations: the rest applies,
        roles included (the failure is still reported)."""
        self.s.stop()
        self.s.cleanup(ok=False)
        self.s = Slapd("orgs403", tenant=None, directives={}, monitor=True)
        self.s.directives = api_directives(self.s, self.sim)
        self.s.write_conf()
        self.sim.faults.add([{"path_prefix": "/api/v2/organizations", "status": 403,
                              "body": {"statusCode": 403, "error": "Forbidden",
                                       "message": "Insufficient scope, expected any of: "
                                                  "read:organizations",
                                       "errorCode": "insufficient_scope"}}])
        self.s.start()
        r = self.s.wait_refresh(1, timeout=120)
        self.assertEqual(r["errors"], 0)
        m = monitor(self.s)
        self.assertEqual(m["auth0MonFailedResources"], "organizations")
        self.assertIn("read:organizations", m["auth0MonLastError"])
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))
        self.assertEqual(self.s.search("ou=organizations," + SUFFIX, "(objectClass=auth0Organization)",
                                       ["1.1"]), [])
        self.assertTrue(self.s.search("ou=groups," + SUFFIX, "(auth0GroupSource=auth0)", ["1.1"]))
        self.sim.faults.clear()

    # --- 5xx that persist ------------------------------------------------
    def test_clients_500_applications_kept(self):
        apps = {dn: a for dn, a in self.before.items() if ",ou=applications," in dn}
        r, m = self.refresh_under([{"path_prefix": "/api/v2/clients", "status": 500}])
        self.assertEqual(m["auth0MonFailedResources"], "clients")
        self.assertIn("500", m["auth0MonLastError"])
        self.assertIn("GET /api/v2/clients", self.s.log_text())
        self.assertEqual({dn: a for dn, a in entries(self.s).items() if ",ou=applications," in dn}, apps)
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.converges()

    def test_role_users_502_roles_kept(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/roles/%s/users" % self.changed_role["id"],
                                    "status": 502}])
        self.assertEqual(m["auth0MonFailedResources"], "roles")
        self.assertIn("502", m["auth0MonLastError"])
        self.assertEqual(self.role_members(), len(self.changed_role["members"]) + 1)
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.converges()
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))

    # --- transient faults are retried ------------------------------------
    def test_502_twice_then_recovers(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "status": 502, "count": 2}])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(m["auth0MonLastError"], "none")
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.assertGreaterEqual(int(m["auth0MonApiRetriesTotal"]), 2)

    def test_503_once_then_recovers(self):
        r, m = self.refresh_under([{"path_prefix": "/authz/api/groups", "status": 503, "count": 1}])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))
        self.assertGreaterEqual(int(m["auth0MonApiRetriesTotal"]), 1)

    def test_500_once_then_recovers(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/roles", "status": 500, "count": 1}])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(self.role_members(), len(self.changed_role["members"]))
        self.assertGreaterEqual(int(m["auth0MonApiRetriesTotal"]), 1)

    def test_429_storm_waited_out(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/users", "rate_limit": True,
                                    "reset_after": 1, "count": 3}])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.assertGreaterEqual(int(m["auth0MonApi429Total"]), 3)


class ExportFaults(FaultBase):
    """A connection with more users than search reaches is read through a
    users-export job: the job failing, never completing, and 403 for each
    request of that path keep every stored entry, say so in the log and
    cn=Monitor, and the next good refresh converges."""
    CONNECTION = "Username-Password-Authentication"
    gen = None

    @classmethod
    def setUpClass(cls):
        # about 62 % of the generated users are in the first connection
        cls.gen = tempfile.mkdtemp(prefix="gen-", dir=os.path.join(TOP, "tests/tmp"))
        subprocess.run([os.path.join(TOP, "scripts/gen-tenant"), "--users", "1700",
                        "--connections", "3", "--out", os.path.join(cls.gen, "t")],
                       check=True, stdout=subprocess.DEVNULL)
        cls.tenant = os.path.join(cls.gen, "t")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.gen, ignore_errors=True)

    sim_args = {"export_polls": 0}
    extra = {"auth0-connection": CONNECTION, "auth0-export-timeout": "5"}

    def change_tenant(self):
        path = os.path.join(self.tdir, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            users = [json.loads(line) for line in f if line.strip()]
        mine = [u for u in users if u["identities"][0]["connection"] == self.CONNECTION]
        assert len(mine) > 1000, len(mine)
        self.changed_user = next(u for u in mine if u.get("name"))
        self.changed_user["name"] += " (renamed)"
        with open(path, "w", encoding="utf-8") as f:
            for u in users:
                f.write(json.dumps(u, ensure_ascii=False) + "\n")
        self.sim.faults.clear()
        self.sim.tenant = type(self.sim.tenant)(self.tdir)

    def converges(self):
        self.sim.config["export_polls"] = 0
        r = super().converges()
        self.assertTrue(any("users-exports" in k for k in self.sim.stats.snapshot()["requests"]))
        return r

    def under(self, rules, text, failed="users"):
        """A refresh under the faults writes nothing; text is in cn=Monitor."""
        r, m = self.refresh_under(rules)
        self.assertNothingWritten(m)
        self.assertEqual(m["auth0MonFailedResources"], failed)
        self.assertIn(text, m["auth0MonLastError"])
        self.assertIn(text, self.s.log_text())
        self.converges()
        return m

    def test_export_job_failed(self):
        self.under([{"path_prefix": "/api/v2/jobs", "fail_job": True}], "failed")
        self.assertIn("export job", self.s.log_text())

    def test_export_job_never_completes(self):
        self.sim.config["export_polls"] = 10 ** 9      # "processing" for ever
        t0 = time.time()
        m = self.under([], "still processing after")
        # given up at auth0-export-timeout (5 s), polled in between
        polls = self.sim.stats.snapshot()["requests"].get("GET /api/v2/jobs/{id}", 0)
        self.assertGreaterEqual(polls, 2)
        self.assertLess(time.time() - t0, 60)

    def test_export_create_403(self):
        self.under([{"path_prefix": "/api/v2/jobs/users-exports", "status": 403}], "403")

    def test_export_poll_403(self):
        self.under([{"path_prefix": "/api/v2/jobs/job_", "status": 403}], "403")

    def test_export_download_403(self):
        self.under([{"path_prefix": "/__exports/", "status": 403}], "403")

    def test_connections_403(self):
        # the applications' connections are read from there too (nativeapi.c)
        self.under([{"path_prefix": "/api/v2/connections", "status": 403}], "403",
                   "users connections")

    def test_export_503_then_recovers(self):
        r, m = self.refresh_under([{"path_prefix": "/api/v2/jobs/job_", "status": 503, "count": 1}])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(self.user_cn(), self.changed_user["name"])


class Tls(unittest.TestCase):
    """Every TLS failure is refused: nothing is imported, the log says why."""

    def run_with(self, cert, ca=True):
        from harness import SAMPLE, CERTS
        sim = simulator(SAMPLE, cert=cert)
        s = Slapd("tls-" + cert, tenant=None, directives={}, monitor=True)
        s.directives = api_directives(s, sim)
        if not ca:
            s.directives.pop("auth0-ca-file")
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1, timeout=60)
            self.assertEqual(s.people(), {})
            self.assertEqual(sim.stats.snapshot()["requests"], {})
            return s.log_text()
        finally:
            s.cleanup()
            sim.stop()

    def test_untrusted_ca(self):
        self.assertRegex(self.run_with("server", ca=False), r"certificate|issuer|verif")

    def test_expired_certificate(self):
        self.assertRegex(self.run_with("expired"), r"certificate|expired|verif")

    def test_wrong_host_name(self):
        self.assertRegex(self.run_with("wronghost"), r"certificate|host|verif|match")


if __name__ == "__main__":
    unittest.main()
