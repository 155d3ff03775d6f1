"""Every directive changed at runtime with an LDAP modify of the overlay's
cn=config entry takes effect without restarting slapd; deleting a value
returns to the default; an invalid value is refused with a message and
changes nothing.  Effects are observed through the simulator's counters,
bind results, the imported tree and cn=Monitor (issue #9)."""
import json
import os
import shutil
import threading
import time
import unittest

import ldap

import harness
from harness import (LOG_ALL_BUT_DUMPS, SAMPLE, Slapd, api_directives, monitor_attrs, read_ndjson, simulator,
                     write_ndjson)
from test_bind import SECRETS, plain_user   # the sample's users and passwords

TOKEN = "POST /oauth/token"
OTHER_CLIENT, OTHER_SECRET = "other-client", "other-secret"


def mfa_user():
    return next(uid for uid, sec in sorted(SECRETS.items()) if sec.get("mfa"))


MGMT_SCOPES = ["read:users", "read:roles", "read:clients", "read:connections", "read:groups",
               "read:group_members", "read:organizations", "read:organization_members",
               "read:organization_member_roles"]
AUTHZ_SCOPES = ["read:groups", "read:roles", "read:permissions", "read:configuration"]


def tenant_with_two_clients(where, authz_audience="urn:auth0-authz-api"):
    """A copy of the sample tenant whose simulator knows two M2M clients."""
    d = os.path.join(where, "tenant2")
    shutil.copytree(SAMPLE, d)
    clients = []
    for cid, secret in (("sim-m2m-client", "sim-m2m-secret"), (OTHER_CLIENT, OTHER_SECRET)):
        clients.append({"client_id": cid, "client_secret": secret,
                        "grants": {"https://DOMAIN/api/v2/": MGMT_SCOPES, authz_audience: AUTHZ_SCOPES}})
    with open(os.path.join(d, "sim-clients.json"), "w", encoding="utf-8") as f:
        json.dump(clients, f)
    return d


def write_secret(s, name, value):
    path = os.path.join(s.dir, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(value + "\n")
    return path


class Live(unittest.TestCase):
    """One slapd per test; helpers for cn=config changes."""

    sim_kw = None
    loglevel = None      # else the harness's stats,sync
    api = False          # data from the simulator's APIs (else the snapshot)
    directives = {}
    tenant = SAMPLE

    def setUp(self):
        self.sim = None
        self.s = Slapd(type(self).__name__ + "-" + self._testMethodName[5:25], monitor=True)
        if self.api or self.sim_kw is not None:
            self.sim = simulator(self.tenant_dir(), **(self.sim_kw or {}))
            self.s.directives.update(api_directives(self.s, self.sim))
            if self.api:
                self.s.directives.pop("auth0-snapshot-dir")
            else:
                self.s.directives["auth0-snapshot-dir"] = self.s.snap   # data offline, binds live
                self.s.directives.pop("auth0-authz-url")
        self.s.directives.update(self.directives)
        if self.loglevel:
            self.s.loglevel = self.loglevel
        self.s.write_conf()
        self.s.start()
        self.s.wait_refresh(1)
        self.dns = {}

    def tenant_dir(self):
        return self.tenant

    def tearDown(self):
        self.s.cleanup()
        if self.sim:
            self.sim.stop()

    # cn=config ----------------------------------------------------------
    def modify(self, mods):
        c = self.s.config_conn()
        try:
            c.modify_s(self.s.overlay_dn(), [(op, attr, None if v is None else
                                              [x.encode() for x in (v if isinstance(v, list) else [v])])
                                             for op, attr, v in mods])
        finally:
            c.unbind_s()

    def set(self, attr, value):
        self.modify([(ldap.MOD_REPLACE, attr, value)])

    def delete(self, attr):
        self.modify([(ldap.MOD_DELETE, attr, None)])

    def get(self, attr):
        c = self.s.config_conn()
        try:
            a = c.search_s(self.s.overlay_dn(), ldap.SCOPE_BASE, attrlist=[attr])[0][1]
        finally:
            c.unbind_s()
        return [v.decode() for v in a.get(attr, [])]

    def assertRefused(self, attr, value, message):
        """The value is refused with message and the stored values stay."""
        before = self.get(attr)
        with self.assertRaises(ldap.LDAPError) as cm:
            self.set(attr, value)
        self.assertIn(message, cm.exception.args[0].get("info", ""))
        self.assertEqual(self.get(attr), before)

    # observations -------------------------------------------------------
    def mon(self):
        return monitor_attrs(self.s)

    def refresh(self):
        return self.s.refresh_now()

    def calls(self, name):
        return self.sim.stats.snapshot()["requests"].get(name, 0)

    def bind(self, user_id, password):
        """Binds as the imported user; returns the LDAP exception or None."""
        if user_id not in self.dns:
            self.dns = {k: dn for k, (dn, a) in self.s.people().items()}
        dn = self.dns[user_id]
        c = ldap.initialize(self.s.url)
        c.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
        try:
            c.simple_bind_s(dn, password)
            return None
        except ldap.LDAPError as e:
            return e
        finally:
            c.unbind_s()

    def assertBind(self, user_id, password, exc=None, text=None):
        e = self.bind(user_id, password)
        if exc is None:
            self.assertIsNone(e)
        else:
            self.assertIsInstance(e, exc)
            if text:
                self.assertIn(text, e.args[0].get("info", ""))

    def snapshot_users(self):
        return read_ndjson(os.path.join(self.s.snap, "users.ndjson"))

    def write_users(self, users, snap=None):
        write_ndjson(os.path.join(snap or self.s.snap, "users.ndjson"), users)

    def new_user(self, n):
        return {"user_id": "auth0|live%04d" % n, "email": "live%d@example.com" % n,
                "username": "live%d" % n, "name": "Live %d" % n,
                "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0",
                                "user_id": "live%04d" % n, "isSocial": False}]}


# --- the refresh: source, schedule, numbers, deletions, mapping -------------

class Source(Live):
    directives = {"auth0-max-delete": "100%"}

    def test_snapshot_dir_switch_and_delete(self):
        other = os.path.join(self.s.dir, "other-snapshot")
        shutil.copytree(self.s.snap, other)
        users = read_ndjson(os.path.join(other, "users.ndjson"))
        self.write_users(users + [self.new_user(1)], other)
        self.assertNotIn("auth0|live0001", self.s.people())
        self.set("olcAuth0SnapshotDir", other)
        self.refresh()
        self.assertIn("auth0|live0001", self.s.people())
        # without a source the refresh fails and keeps what is stored
        n = len(self.s.people())
        self.delete("olcAuth0SnapshotDir")
        self.assertEqual(self.get("olcAuth0SnapshotDir"), [])
        self.refresh()
        self.assertIn("no source configured", self.mon()["auth0MonLastError"])
        self.assertEqual(len(self.s.people()), n)

    def test_connections_delete_returns_to_all(self):
        self.set("olcAuth0Connection", "Username-Password-Authentication")
        self.assertRefused("olcAuth0Connection", ["db", "db"], "")     # a duplicate
        self.assertEqual(self.get("olcAuth0Connection"), ["Username-Password-Authentication"])
        self.refresh()
        conns = {a["auth0Connection"][0] for dn, a in self.s.people(["auth0Connection"]).values()}
        self.assertEqual(conns, {b"Username-Password-Authentication"})
        self.delete("olcAuth0Connection")
        self.refresh()
        conns = {a["auth0Connection"][0] for dn, a in self.s.people(["auth0Connection"]).values()}
        self.assertGreater(len(conns), 1)


class Schedule(Live):
    directives = {"auth0-refresh-interval": "3600"}

    def test_refresh_interval_set_refused_and_deleted(self):
        self.assertRefused("olcAuth0RefreshInterval", "-5", "is not a number of seconds")
        self.assertRefused("olcAuth0RefreshInterval", "15m", "invalid per syntax")
        self.set("olcAuth0RefreshInterval", "1")
        n = len(self.s.refreshes())
        self.s.wait_refresh(n + 2, timeout=15)
        self.delete("olcAuth0RefreshInterval")
        self.assertEqual(self.get("olcAuth0RefreshInterval"), [])   # the default, 900
        time.sleep(1.5)     # a refresh under way when the change came may end
        n = len(self.s.refreshes())
        time.sleep(3)
        self.assertEqual(len(self.s.refreshes()), n)


class Sync(Live):
    directives = {"auth0-refresh-interval": "1"}

    def test_sync_off_stops_refreshes_and_on_starts_them(self):
        self.s.wait_refresh(2, timeout=15)
        self.set("olcAuth0Sync", "FALSE")
        time.sleep(1.5)
        n = len(self.s.refreshes())
        time.sleep(3)
        self.assertEqual(len(self.s.refreshes()), n)
        # an explicit refresh is refused too while sync is off
        self.set("olcAuth0RefreshNow", "TRUE")
        time.sleep(1.5)
        self.assertEqual(len(self.s.refreshes()), n)
        self.assertIn("auth0-sync is off; no refresh", self.s.log_text())
        # on again: a refresh at once, then every interval
        self.set("olcAuth0RefreshInterval", "3600")
        self.set("olcAuth0Sync", "TRUE")
        self.s.wait_refresh(n + 1, timeout=10)
        self.assertRefused("olcAuth0Sync", "maybe", "invalid per syntax")
        # delete: back to the default, on
        self.set("olcAuth0Sync", "FALSE")
        n = len(self.s.refreshes())
        self.delete("olcAuth0Sync")
        self.s.wait_refresh(n + 1, timeout=10)


class SyncOffAtStart(Live):
    directives = {"auth0-sync": "off"}

    def setUp(self):
        # started as a replica: no refresh ever ran, so none to wait for
        self.sim = None
        self.s = Slapd("syncoff", monitor=True)
        self.s.directives.update(self.directives)
        self.s.write_conf()
        self.s.start()

    def test_turning_sync_on_creates_the_refresh(self):
        time.sleep(1)
        self.assertEqual(self.s.refreshes(), [])
        self.set("olcAuth0Sync", "TRUE")
        self.assertGreater(self.s.wait_refresh(1, timeout=15)["users"], 0)
        self.assertGreater(len(self.s.people()), 0)


class Numbers(Live):
    def test_ranges_apply_to_new_users_and_keep_stored_numbers(self):
        before = {k: int(a["uidNumber"][0]) for k, (dn, a) in self.s.people(["uidNumber"]).items()}
        groups = {dn: a["gidNumber"][0] for dn, a in
                  self.s.search("ou=groups," + harness.SUFFIX, "(objectClass=posixGroup)", ["gidNumber"])}
        self.assertRefused("olcAuth0UidRange", "9-1", "is not a range")
        self.assertRefused("olcAuth0GidRange", "0-10", "is not a range")
        self.modify([(ldap.MOD_REPLACE, "olcAuth0UidRange", "500000-500999"),
                     (ldap.MOD_REPLACE, "olcAuth0GidRange", "600000-600999")])
        users = self.snapshot_users()
        self.write_users(users + [self.new_user(1)])
        self.refresh()
        after = {k: int(a["uidNumber"][0]) for k, (dn, a) in self.s.people(["uidNumber", "gidNumber"]).items()}
        self.assertEqual(after.pop("auth0|live0001"), 500000)
        self.assertEqual(after, before)                       # stored numbers stay
        new = self.s.people(["gidNumber"])["auth0|live0001"][1]
        self.assertEqual(new["gidNumber"], [b"600000"])       # primary gid: the range's first
        self.assertEqual({dn: a["gidNumber"][0] for dn, a in
                          self.s.search("ou=groups," + harness.SUFFIX, "(objectClass=posixGroup)",
                                        ["gidNumber"])}, groups)
        # a range below the numbers handed out so far starts at its low end
        self.set("olcAuth0UidRange", "7000-7999")
        self.write_users(users + [self.new_user(1), self.new_user(2)])
        self.refresh()
        got = {k: int(a["uidNumber"][0]) for k, (dn, a) in self.s.people(["uidNumber"]).items()}
        self.assertEqual(got["auth0|live0002"], 7000)
        self.assertEqual(got["auth0|live0001"], 500000)
        # back up to the first range: above everything handed out there
        self.delete("olcAuth0UidRange")
        self.assertEqual(self.get("olcAuth0UidRange"), [])   # the default, 100000-199999
        self.write_users(users + [self.new_user(n) for n in (1, 2, 3)])
        self.refresh()
        got = {k: int(a["uidNumber"][0]) for k, (dn, a) in self.s.people(["uidNumber"]).items()}
        self.assertEqual(got["auth0|live0003"], max(before.values()) + 1)
        self.assertEqual(len(set(got.values())), len(got))   # never one number twice


class Deletes(Live):
    def drop_half(self):
        users = self.snapshot_users()
        self.write_users(users[: len(users) // 2])
        return users

    def test_max_delete_and_force_delete(self):
        n = len(self.s.people())
        users = self.drop_half()
        self.refresh()
        self.assertIn("more than auth0-max-delete 10%", self.mon()["auth0MonLastError"])
        self.assertEqual(len(self.s.people()), n)
        self.assertRefused("olcAuth0MaxDelete", "150%", "is not a count or a percentage")
        # a higher limit lets the same deletion through
        self.set("olcAuth0MaxDelete", "100%")
        self.refresh()
        self.assertEqual(len(self.s.people()), len(users) // 2)
        # deleted: back to 10 %
        self.write_users(users)
        self.refresh()
        self.delete("olcAuth0MaxDelete")
        self.assertEqual(self.get("olcAuth0MaxDelete"), [])   # the default, 10%
        self.drop_half()
        self.refresh()
        self.assertEqual(len(self.s.people()), n)
        # force-delete: once, then it resets itself
        self.set("olcAuth0ForceDelete", "TRUE")
        self.refresh()
        self.assertEqual(len(self.s.people()), len(users) // 2)
        self.write_users(users)
        self.refresh()
        self.drop_half()
        self.refresh()
        self.assertEqual(len(self.s.people()), n)             # it was for one refresh
        self.write_users(users)
        self.set("olcAuth0ForceDelete", "TRUE")
        self.delete("olcAuth0ForceDelete")                    # withdrawn before a refresh
        self.drop_half()
        self.refresh()
        self.assertEqual(len(self.s.people()), n)


class Mapping(Live):
    def test_map_attribute_added_refused_and_deleted(self):
        users = self.snapshot_users()
        users[0]["app_metadata"] = {"employee_id": "E-4711"}
        self.write_users(users)
        self.refresh()
        first = users[0]["user_id"]
        self.assertNotIn("employeeNumber", self.s.people(["employeeNumber"])[first][1])
        self.assertRefused("olcAuth0MapAttribute", "uid app_metadata.x", "is set by the module itself")
        self.assertRefused("olcAuth0MapAttribute", "noSuchAttr app_metadata.x", "is not in the schema")
        self.set("olcAuth0MapAttribute", "employeeNumber app_metadata.employee_id")
        self.refresh()
        self.assertEqual(self.s.people(["employeeNumber"])[first][1]["employeeNumber"], [b"E-4711"])
        self.delete("olcAuth0MapAttribute")
        self.refresh()
        self.assertNotIn("employeeNumber", self.s.people(["employeeNumber"])[first][1])


# --- the API session ---------------------------------------------------------

class ApiClient(Live):
    api = True
    loglevel = LOG_ALL_BUT_DUMPS     # the secrets stay out at every level

    def tenant_dir(self):
        return tenant_with_two_clients(self.s.dir)

    def test_client_id_and_secret_file(self):
        tokens = self.sim.stats.snapshot()["tokens_issued"]
        # a new client id drops the session: its token request fails with
        # the old secret, and the stored data stays
        self.set("olcAuth0ClientId", OTHER_CLIENT)
        self.refresh()
        self.assertNotEqual(self.mon()["auth0MonLastError"], "none")
        self.assertGreater(len(self.s.people()), 0)
        # an unreadable secret file is refused; the old one stays
        self.assertRefused("olcAuth0ClientSecretFile", os.path.join(self.s.dir, "missing"), "cannot open")
        self.assertRefused("olcAuth0ClientSecretFile", "relative/secret", "is not an absolute path")
        path = write_secret(self.s, "other.secret", OTHER_SECRET)
        self.set("olcAuth0ClientSecretFile", path)
        self.refresh()
        self.assertEqual(self.mon()["auth0MonLastError"], "none")
        self.assertGreater(self.sim.stats.snapshot()["tokens_issued"], tokens)
        # the same path again re-reads the file: a rotated secret
        write_secret(self.s, "other.secret", "rotated-wrong")
        self.set("olcAuth0ClientSecretFile", path)
        self.refresh()
        self.assertNotEqual(self.mon()["auth0MonLastError"], "none")
        write_secret(self.s, "other.secret", OTHER_SECRET)
        self.set("olcAuth0ClientSecretFile", path)
        self.refresh()
        self.assertEqual(self.mon()["auth0MonLastError"], "none")
        # deleted: nothing to authenticate with, the stored data stays
        self.delete("olcAuth0ClientSecretFile")
        self.refresh()
        self.assertIn("auth0-domain needs auth0-client-secret-file", self.mon()["auth0MonLastError"])
        self.assertGreater(len(self.s.people()), 0)
        self.assertNotIn(OTHER_SECRET, self.s.log_text())
        self.assertNotIn("rotated-wrong", self.s.log_text())


class ApiDomain(Live):
    api = True

    def test_domain_moves_refreshes_and_binds(self):
        other = simulator(SAMPLE)
        try:
            uid, pw = plain_user()
            self.assertBind(uid, pw)
            self.assertRefused("olcAuth0Domain", "https://x.auth0.com/", "is not a host name")
            self.modify([(ldap.MOD_REPLACE, "olcAuth0Domain", "127.0.0.1:%d" % other.port),
                         (ldap.MOD_REPLACE, "olcAuth0AuthzUrl", "https://127.0.0.1:%d/authz/api" % other.port)])
            old = self.sim.stats.snapshot()["total"]
            self.refresh()
            self.assertEqual(self.mon()["auth0MonLastError"], "none")
            st = other.stats.snapshot()
            self.assertGreater(st["tokens_issued"], 0)
            self.assertGreater(st["requests"].get("GET /api/v2/users", 0), 0)
            self.assertTrue([k for k in st["requests"] if "/authz/api/" in k], st["requests"])
            # binds go there too, and the old tenant's cached password is gone
            self.assertBind(uid, pw)
            self.assertEqual(len(other.stats.snapshot()["logins"]), 1)
            self.assertBind(uid, pw + "-wrong", ldap.INVALID_CREDENTIALS)
            self.assertEqual(len(other.stats.snapshot()["logins"]), 2)
            self.assertEqual(self.sim.stats.snapshot()["total"], old)
            self.assertIn("auth0-domain changed; cached passwords forgotten", self.s.log_text())
        finally:
            other.stop()


class ApiAudiences(Live):
    api = True
    sim_kw = {"audience": "https://tenant.example.auth0.com/api/v2/", "authz_audience": "urn:custom-authz"}

    def tenant_dir(self):
        return tenant_with_two_clients(self.s.dir, "urn:custom-authz")

    def test_audiences(self):
        # the extension wants another audience: groups fail and are kept
        self.assertIn("authz", self.mon()["auth0MonFailedResources"])
        self.set("olcAuth0AuthzAudience", "urn:custom-authz")
        self.refresh()
        self.assertEqual(self.mon()["auth0MonFailedResources"], "none")
        self.assertGreater(int(self.mon()["auth0MonGroups"]), 0)
        by_aud = self.sim.stats.snapshot()["tokens_by_audience"]
        self.assertGreater(by_aud.get("urn:custom-authz", 0), 0)
        self.set("olcAuth0Audience", "https://tenant.example.auth0.com/api/v2/")
        self.refresh()
        by_aud = self.sim.stats.snapshot()["tokens_by_audience"]
        self.assertEqual(by_aud.get("https://tenant.example.auth0.com/api/v2/"), 1)
        self.assertRefused("olcAuth0Audience", "has blanks", "extra cruft after <url>")
        # deleted: the default audiences again
        default = "https://127.0.0.1:%d/api/v2/" % self.sim.port
        n = by_aud.get(default, 0)
        self.delete("olcAuth0Audience")
        self.delete("olcAuth0AuthzAudience")
        self.refresh()
        by_aud = self.sim.stats.snapshot()["tokens_by_audience"]
        self.assertEqual(by_aud.get(default), n + 1)
        self.assertIn("authz", self.mon()["auth0MonFailedResources"])


class ApiAuthzUrl(Live):
    api = True
    directives = {"auth0-authz-url": None}

    def test_authz_url_added_and_deleted(self):
        with open(os.path.join(SAMPLE, "groups.json"), encoding="utf-8") as f:
            native = str(len(json.load(f)))     # the native groups do not need the extension
        self.assertEqual(self.mon()["auth0MonGroups"], native)
        self.assertRefused("olcAuth0AuthzUrl", "http://127.0.0.1/authz/api", "is not an https:// URL")
        self.set("olcAuth0AuthzUrl", "https://127.0.0.1:%d/authz/api" % self.sim.port)
        self.refresh()
        self.assertGreater(int(self.mon()["auth0MonGroups"]), int(native))
        self.delete("olcAuth0AuthzUrl")
        n = self.sim.stats.snapshot()["tokens_by_audience"].get("urn:auth0-authz-api", 0)
        self.refresh()
        self.assertEqual(self.mon()["auth0MonGroups"], native)
        self.assertEqual(self.sim.stats.snapshot()["tokens_by_audience"].get("urn:auth0-authz-api", 0), n)


class ApiTransport(Live):
    api = True

    def test_ca_file_timeout_and_rate(self):
        uid, pw = plain_user()
        # without the test CA, TLS verification fails: refresh and binds
        self.delete("olcAuth0CaFile")
        self.refresh()
        self.assertNotEqual(self.mon()["auth0MonLastError"], "none")
        self.assertBind(uid, pw, ldap.UNAVAILABLE)
        self.assertRefused("olcAuth0CaFile", "relative.pem", "is not an absolute path")
        self.set("olcAuth0CaFile", os.path.join(harness.CERTS, "ca.pem"))
        self.refresh()
        self.assertEqual(self.mon()["auth0MonLastError"], "none")
        self.assertBind(uid, pw)
        # a slow Auth0: a 1 s timeout gives up, a longer one waits
        self.assertRefused("olcAuth0Timeout", "0", "is not a number from 1 to 3600")
        self.set("olcAuth0Timeout", "1")
        self.sim.faults.add([{"path_prefix": "/api/v2/users", "delay": 2.5, "count": 4}])
        self.refresh()
        self.assertNotEqual(self.mon()["auth0MonLastError"], "none")
        self.sim.faults.clear()
        # binds have their own auth0-bind-timeout (DESIGN.md 8.4)
        self.sim.faults.add([{"path_prefix": "/oauth/token", "delay": 2.5, "count": 1}])
        self.assertBind(uid, pw + "x", ldap.INVALID_CREDENTIALS)   # 1 s refresh timeout only
        self.set("olcAuth0BindTimeout", "1")
        self.sim.faults.add([{"path_prefix": "/oauth/token", "delay": 2.5, "count": 1}])
        self.assertBind(uid, pw + "x", ldap.UNAVAILABLE)
        self.sim.faults.clear()
        self.delete("olcAuth0BindTimeout")
        self.assertEqual(self.get("olcAuth0BindTimeout"), [])   # the default, 10
        self.delete("olcAuth0Timeout")
        self.assertEqual(self.get("olcAuth0Timeout"), [])   # the default, 30
        self.sim.faults.add([{"path_prefix": "/api/v2/users", "delay": 2.5, "count": 1}])
        self.refresh()
        self.assertEqual(self.mon()["auth0MonLastError"], "none")
        self.sim.faults.add([{"path_prefix": "/oauth/token", "delay": 2.5, "count": 1,
                              "method": "POST"}])
        self.assertBind(uid, pw + "x", ldap.INVALID_CREDENTIALS)
        self.sim.faults.clear()
        # request rate: requests spaced 1/rate apart
        self.refresh()
        fast = self.mon()
        self.assertRefused("olcAuth0RequestRate", "-1", "is not a rate")
        self.set("olcAuth0RequestRate", "4")
        self.refresh()
        slow = self.mon()
        reqs = int(slow["auth0MonApiRequests"])
        self.assertGreater(reqs, 4)
        self.assertGreaterEqual(int(slow["auth0MonDurationMs"]), (reqs - 2) * 250 * 0.9)
        self.assertLess(int(fast["auth0MonDurationMs"]), (reqs - 2) * 250 * 0.9)
        self.delete("olcAuth0RequestRate")
        self.assertEqual(self.get("olcAuth0RequestRate"), [])   # the default, 2


# --- binds ------------------------------------------------------------------

class BindLive(Live):
    sim_kw = {}
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"}

    def logins(self):
        return self.calls(TOKEN)


class BindOnOff(BindLive):
    def test_bind_off_on_and_default(self):
        uid, pw = plain_user()
        self.assertBind(uid, pw)
        self.set("olcAuth0Bind", "off")
        n = self.logins()
        self.assertBind(uid, pw, ldap.INVALID_CREDENTIALS)     # back-mdb: no userPassword
        self.assertEqual(self.logins(), n)
        self.assertRefused("olcAuth0Bind", "maybe", "is not password-realm or off")
        self.set("olcAuth0Bind", "password-realm")
        self.assertBind(uid, pw)
        self.set("olcAuth0Bind", "off")
        self.delete("olcAuth0Bind")                          # default: on, with a domain
        self.assertBind(uid, pw)
        # without a domain the default is off; password-realm then says why
        self.delete("olcAuth0Domain")
        self.assertBind(uid, pw, ldap.INVALID_CREDENTIALS)
        self.set("olcAuth0Bind", "password-realm")
        self.assertBind(uid, pw, ldap.UNAVAILABLE)
        self.assertIn("auth0-bind password-realm needs auth0-domain", self.s.log_text())
        self.set("olcAuth0Domain", "127.0.0.1:%d" % self.sim.port)
        self.assertBind(uid, pw)


class BindClient(BindLive):
    loglevel = LOG_ALL_BUT_DUMPS
    def tenant_dir(self):
        d = tenant_with_two_clients(self.s.dir)
        with open(os.path.join(d, "sim-clients.json"), encoding="utf-8") as f:
            clients = json.load(f)
        for c in clients:
            c.pop("grants")      # password grants only need the client
        with open(os.path.join(d, "sim-clients.json"), "w", encoding="utf-8") as f:
            json.dump(clients, f)
        return d

    def last_client(self):
        return self.sim.stats.snapshot()["logins"][-1]["client_id"]

    def test_bind_client_id_and_secret_file(self):
        uid, pw = plain_user()
        self.assertBind(uid, pw)
        self.assertEqual(self.last_client(), "sim-m2m-client")
        self.set("olcAuth0BindClientId", OTHER_CLIENT)
        self.assertBind(uid, pw, ldap.UNAVAILABLE)           # the old secret is not its
        self.assertEqual(self.last_client(), OTHER_CLIENT)
        self.assertRefused("olcAuth0BindClientSecretFile", os.path.join(self.s.dir, "nope"), "cannot open")
        self.set("olcAuth0BindClientSecretFile", write_secret(self.s, "bind.secret", OTHER_SECRET))
        self.assertBind(uid, pw)
        self.assertEqual(self.last_client(), OTHER_CLIENT)
        # deleted: back to auth0-client-id and auth0-client-secret-file
        self.delete("olcAuth0BindClientId")
        self.delete("olcAuth0BindClientSecretFile")
        self.assertBind(uid, pw)
        self.assertEqual(self.last_client(), "sim-m2m-client")
        self.assertNotIn(OTHER_SECRET, self.s.log_text())


class BindCache(BindLive):
    def test_cache_ttl_and_stale(self):
        uid, pw = plain_user()
        self.assertBind(uid, pw)
        n = self.logins()
        self.assertBind(uid, pw)
        self.assertEqual(self.logins(), n + 1)               # ttl 0: upstream each time
        self.assertRefused("olcAuth0BindCacheTtl", "90000", "is not a number from 0 to 86400")
        self.set("olcAuth0BindCacheTtl", "300")
        self.assertBind(uid, pw)
        n = self.logins()
        self.assertBind(uid, pw)
        self.assertEqual(self.logins(), n)                   # answered from the cache
        self.set("olcAuth0BindCacheTtl", "1")
        time.sleep(2.2)
        self.sim.faults.add([{"path_prefix": TOKEN.split()[1], "status": 503}])
        self.assertBind(uid, pw, ldap.UNAVAILABLE)           # past the TTL, no staleness
        self.assertRefused("olcAuth0BindCacheStale", "-5", "is not a number from 0 to 604800")
        self.set("olcAuth0BindCacheStale", "600")
        self.assertBind(uid, pw)                             # stale hit while Auth0 is down
        self.assertBind(uid, pw + "x", ldap.UNAVAILABLE)
        self.delete("olcAuth0BindCacheStale")
        self.assertEqual(self.get("olcAuth0BindCacheStale"), [])   # the default, 0
        self.assertBind(uid, pw, ldap.UNAVAILABLE)
        self.sim.faults.clear()
        self.delete("olcAuth0BindCacheTtl")
        self.assertEqual(self.get("olcAuth0BindCacheTtl"), [])   # the default, 300
        self.assertBind(uid, pw)
        n = self.logins()
        self.assertBind(uid, pw)
        self.assertEqual(self.logins(), n)


class BindOtpAndThrottle(BindLive):
    def test_otp_separator(self):
        self.sim.config["otp_reuse_window"] = 0      # the same code is sent under two separators
        self.addCleanup(self.sim.config.update, {"otp_reuse_window": 30})
        uid = mfa_user()
        pw, otp = SECRETS[uid]["password"], SECRETS[uid]["otp"]
        self.assertBind(uid, "%s;%s" % (pw, otp), ldap.INVALID_CREDENTIALS)
        self.assertRefused("olcAuth0BindOtpSeparator", "ab", "is not one printable character")
        self.set("olcAuth0BindOtpSeparator", ";")
        self.assertBind(uid, "%s;%s" % (pw, otp))
        self.assertBind(uid, "%s,%s" % (pw, otp), ldap.INVALID_CREDENTIALS)
        self.delete("olcAuth0BindOtpSeparator")
        self.assertEqual(self.get("olcAuth0BindOtpSeparator"), [])   # the default, ,
        self.assertBind(uid, "%s,%s" % (pw, otp))

    def test_throttle(self):
        uid, pw = plain_user()
        for _ in range(3):
            self.assertBind(uid, "wrong", ldap.INVALID_CREDENTIALS)
        self.assertBind(uid, pw)                             # "0 0 60": no limit
        self.assertRefused("olcAuth0BindThrottle", "1 2 0", "is not <per-dn 0-10000>")
        self.set("olcAuth0BindThrottle", "2 100 60")
        for _ in range(2):
            self.assertBind(uid, "wrong", ldap.INVALID_CREDENTIALS)
        n = self.logins()
        self.assertBind(uid, pw, ldap.INVALID_CREDENTIALS, "too many failed binds")
        self.assertEqual(self.logins(), n)
        self.set("olcAuth0BindThrottle", "0 0 60")
        self.assertBind(uid, pw)
        self.delete("olcAuth0BindThrottle")
        self.assertEqual(self.get("olcAuth0BindThrottle"), [])   # the default, 5 20 300


class BindPool(BindLive):
    def burst(self, n, uid, pw):
        results = []

        def one():
            e = self.bind(uid, pw)
            results.append("ok" if e is None else type(e).__name__)
        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        return threads, results

    def test_bind_connections_rebuilt_while_binds_are_in_flight(self):
        uid, pw = plain_user()
        self.assertIsNone(self.bind(uid, pw))
        self.assertRefused("olcAuth0BindConnections", "65", "is not a number from 1 to 64")
        self.set("olcAuth0BindConnections", "1")
        self.sim.faults.add([{"path_prefix": "/oauth/token", "delay": 1.5}])
        self.sim.stats.reset()
        threads, results = self.burst(4, uid, pw)
        for t in threads:
            t.join(30)
        self.assertLessEqual(self.sim.stats.snapshot()["max_in_flight"], 1)
        self.assertIn("ok", results)
        self.assertIn("BUSY", results)                        # 1 connection, 1 waiting, the rest busy
        # changed while binds are in flight: they end on the old pool
        threads, results = self.burst(6, uid, pw)
        time.sleep(0.5)
        self.set("olcAuth0BindConnections", "4")
        for t in threads:
            t.join(30)
        self.assertEqual(set(results) - {"ok", "BUSY"}, set())
        self.sim.stats.reset()
        threads, results = self.burst(4, uid, pw)
        for t in threads:
            t.join(30)
        self.assertEqual(results, ["ok"] * 4)
        self.assertGreaterEqual(self.sim.stats.snapshot()["max_in_flight"], 2)
        self.delete("olcAuth0BindConnections")
        self.assertEqual(self.get("olcAuth0BindConnections"), [])   # the default, 8
        self.sim.faults.clear()
        self.assertIsNone(self.bind(uid, pw))
        self.assertIn("bind connections rebuilt", self.s.log_text())


class Churn(BindLive):
    directives = {"auth0-bind-cache-ttl": "1", "auth0-bind-throttle": "0 0 60",
                  "auth0-refresh-interval": "1"}

    def test_binds_and_refreshes_while_settings_change(self):
        uid, pw = plain_user()
        self.assertIsNone(self.bind(uid, pw))
        self.sim.faults.add([{"path_prefix": "/oauth/token", "delay": 0.2}])
        stop, results = threading.Event(), []

        def binder():
            while not stop.is_set():
                e = self.bind(uid, pw)
                results.append("ok" if e is None else type(e).__name__)
        threads = [threading.Thread(target=binder) for _ in range(6)]
        for t in threads:
            t.start()
        try:
            changes = [("olcAuth0BindConnections", "1"), ("olcAuth0Timeout", "5"),
                       ("olcAuth0BindConnections", "3"), ("olcAuth0BindCacheTtl", "0"),
                       ("olcAuth0Sync", "FALSE"), ("olcAuth0BindConnections", "2"),
                       ("olcAuth0Sync", "TRUE"), ("olcAuth0Bind", "password-realm"),
                       ("olcAuth0CaFile", os.path.join(harness.CERTS, "ca.pem")),
                       ("olcAuth0RefreshNow", "TRUE"), ("olcAuth0BindCacheTtl", "1")]
            for attr, value in changes * 2:
                self.set(attr, value)
                time.sleep(0.2)
            self.delete("olcAuth0BindConnections")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreater(results.count("ok"), 10)
        self.assertEqual(set(results) - {"ok", "BUSY"}, set())
        self.sim.faults.clear()
        self.assertIsNone(self.bind(uid, pw))
        self.assertGreater(self.s.wait_refresh(3, timeout=20)["users"], 0)


class RefreshNow(Live):
    directives = {"auth0-refresh-interval": "3600"}

    def test_refresh_now_is_an_action(self):
        n = len(self.s.refreshes())
        self.set("olcAuth0RefreshNow", "TRUE")
        self.s.wait_refresh(n + 1, timeout=15)
        self.set("olcAuth0RefreshNow", "TRUE")                # again: another one
        self.s.wait_refresh(n + 2, timeout=15)
        self.assertRefused("olcAuth0RefreshNow", "soon", "invalid per syntax")


if __name__ == "__main__":
    unittest.main()
