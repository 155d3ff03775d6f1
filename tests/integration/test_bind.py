"""LDAP simple binds to imported users, verified by Auth0's password-realm
grant (the simulator): result codes that tell an outage from a wrong
password, MFA, the bind cache, throttling, the forwarded client address,
and no secret in the log."""
import json
import os
import re
import subprocess
import threading
import time
import unittest

import ldap

from harness import (LOG_ALL_BUT_DUMPS, PEOPLE, ROOTDN, ROOTPW, SAMPLE, SUFFIX, Slapd, api_directives,
                     monitor_attrs, simulator)

REALM_PATH = "/oauth/token"


def load_sample():
    users = {}
    with open(os.path.join(SAMPLE, "users.ndjson"), encoding="utf-8") as f:
        for line in f:
            u = json.loads(line)
            users[u["user_id"]] = u
    with open(os.path.join(SAMPLE, "sim-users.json"), encoding="utf-8") as f:
        return users, json.load(f)


USERS, SECRETS = load_sample()


def plain_user():
    """A database user with a password and no special outcome."""
    for uid, sec in sorted(SECRETS.items()):
        u = USERS.get(uid)
        if (u and uid.startswith("auth0|") and set(sec) == {"password"} and not u.get("blocked")
                and u.get("email", "").isascii() and u.get("username", "x").isalnum()):
            return uid, sec["password"]
    raise AssertionError("no plain user in the sample")


def special(flag):
    return next(uid for uid, sec in SECRETS.items() if sec.get(flag))


class BindBase(unittest.TestCase):
    directives = {}
    loglevel = None
    monitor = False

    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        cls.s = Slapd(cls.__name__, monitor=cls.monitor)
        cls.s.directives.update(api_directives(cls.s, cls.sim, authz=False))
        cls.s.directives["auth0-snapshot-dir"] = cls.s.snap   # data offline, passwords live
        cls.s.directives.update(cls.directives)
        if cls.loglevel:
            cls.s.loglevel = cls.loglevel
        cls.s.write_conf()
        cls.s.start()
        cls.s.wait_refresh(1)
        cls.dns = {k: dn for k, (dn, a) in cls.s.people().items()}

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()
        cls.sim.stop()

    def setUp(self):
        self.sim.faults.clear()

    def logins(self):
        return self.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)

    def bind(self, user_id_or_dn, password):
        dn = self.dns.get(user_id_or_dn, user_id_or_dn)
        c = ldap.initialize(self.s.url)
        c.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
        try:
            c.simple_bind_s(dn, password)
            return c
        except ldap.LDAPError:
            c.unbind_s()
            raise

    def assertBindFails(self, exc, user, password, text=None):
        with self.assertRaises(exc) as cm:
            self.bind(user, password)
        if text:
            self.assertIn(text, cm.exception.args[0].get("info", ""))
        return cm.exception


class Outcomes(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"}

    def test_right_password_whoami_and_search(self):
        uid, pw = plain_user()
        c = self.bind(uid, pw)
        self.assertEqual(c.whoami_s(), "dn:" + self.dns[uid])
        res = c.search_s(self.dns[uid], ldap.SCOPE_BASE, "(objectClass=*)", ["auth0UserId"])
        self.assertEqual(res[0][1]["auth0UserId"], [uid.encode()])
        c.unbind_s()
        p = subprocess.run(["ldapwhoami", "-x", "-H", self.s.url, "-D", self.dns[uid], "-w", pw],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.stdout.decode().strip(), "dn:" + self.dns[uid])

    def test_wrong_password(self):
        uid, pw = plain_user()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw + "x")

    def test_blocked_user_with_a_wrong_password_looks_like_a_wrong_password(self):
        # unconfirmed password: answered exactly like a wrong one (DESIGN 8.4)
        uid = next(k for k, u in USERS.items() if u.get("blocked"))
        e = self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "whatever")
        self.assertEqual(e.args[0].get("info", ""), "")

    def test_mfa_without_and_with_otp(self):
        uid = special("mfa")
        pw, otp = SECRETS[uid]["password"], SECRETS[uid]["otp"]
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw, "MFA required")
        self.bind(uid, "%s,%s" % (pw, otp)).unbind_s()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "%s,%s" % (pw, "000000"), "MFA code refused")

    def test_leaked_and_too_many_attempts(self):
        uid = special("password_leaked")
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, SECRETS[uid]["password"], "data breach")
        uid = special("too_many_attempts")
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "anything", "too many attempts")

    def test_social_user_answered_like_a_wrong_password(self):
        uid = next(k for k in USERS if k.startswith("google-oauth2|") and k in self.dns)
        n = self.logins()
        e = self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "whatever")
        self.assertEqual(e.args[0].get("info", ""), "")
        self.assertEqual(self.logins(), n)
        self.assertIn("takes no passwords (not asked)", self.s.log_text())

    def test_auth0_429_is_busy(self):
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "status": 429,
                              "body": {"error": "too_many_requests", "error_description": "Global limit"}}])
        self.assertBindFails(ldap.BUSY, uid, pw)

    def test_auth0_5xx_is_unavailable(self):
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "status": 503}])
        self.assertBindFails(ldap.UNAVAILABLE, uid, pw)

    def test_auth0_reset_is_unavailable(self):
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "reset": True}])
        self.assertBindFails(ldap.UNAVAILABLE, uid, pw)

    def test_forwarded_client_address(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()
        self.assertIn("127.0.0.1", list(self.sim.stats.snapshot()["forwarded_for"]))

    def test_service_account_and_rootdn_are_back_mdb(self):
        n = self.logins()
        c = self.bind(ROOTDN, ROOTPW)
        c.add_s("cn=svc," + SUFFIX, [("objectClass", [b"simpleSecurityObject", b"organizationalRole"]),
                                     ("cn", [b"svc"]), ("userPassword", [b"svc-secret"])])
        c.unbind_s()
        self.bind("cn=svc," + SUFFIX, "svc-secret").unbind_s()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, "cn=svc," + SUFFIX, "nope")
        self.assertEqual(self.logins(), n)

    def test_empty_password_and_unknown_entry(self):
        uid, pw = plain_user()
        n = self.logins()
        with self.assertRaises(ldap.LDAPError):
            c = self.bind(uid, "")
            # an unauthenticated bind, if slapd allows it, is anonymous
            self.assertEqual(c.whoami_s(), "")
            raise ldap.INVALID_CREDENTIALS({"desc": "anonymous"})
        self.assertBindFails(ldap.INVALID_CREDENTIALS, "uid=nobody-here," + PEOPLE, "x")
        self.assertEqual(self.logins(), n)


class Cache(BindBase):
    directives = {"auth0-bind-cache-ttl": "2", "auth0-bind-cache-stale": "0",
                  "auth0-bind-throttle": "0 0 60"}
    monitor = True

    def test_hits_counted_in_monitor(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()
        before = int(monitor_attrs(self.s)["auth0MonBindCacheHits"])
        self.bind(uid, pw).unbind_s()
        self.assertEqual(int(monitor_attrs(self.s)["auth0MonBindCacheHits"]), before + 1)

    def test_user_blocked_at_refresh_refused_within_ttl(self):
        uid = next(k for k, sec in sorted(SECRETS.items()) if set(sec) == {"password"}
                   and k.startswith("auth0|") and not USERS[k].get("blocked") and k != plain_user()[0])
        pw = SECRETS[uid]["password"]
        self.bind(uid, pw).unbind_s()
        path = os.path.join(self.s.snap, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            users = [json.loads(line) for line in f]
        for u in users:
            if u["user_id"] == uid:
                u["blocked"] = True
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(u, ensure_ascii=False) + "\n" for u in users)
        try:
            self.s.refresh_now()
            self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw, "blocked")
        finally:
            for u in users:
                u.pop("blocked", None) if u["user_id"] == uid else None
            with open(path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(u, ensure_ascii=False) + "\n" for u in users)
            self.s.refresh_now()

    def test_cache_hit_within_ttl_then_upstream(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()
        n = self.logins()
        self.bind(uid, pw).unbind_s()
        self.assertEqual(self.logins(), n)                    # answered locally
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw + "x")
        self.assertEqual(self.logins(), n + 1)                # a mismatch goes upstream
        time.sleep(3.2)     # whole seconds count: past the TTL for sure
        self.sim.faults.add([{"path_prefix": REALM_PATH, "reset": True}])
        self.assertBindFails(ldap.UNAVAILABLE, uid, pw)       # past the TTL, no staleness


class Stale(BindBase):
    directives = {"auth0-bind-cache-ttl": "1", "auth0-bind-cache-stale": "60",
                  "auth0-bind-throttle": "0 0 60"}

    def test_stale_cache_while_auth0_is_down(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()
        time.sleep(2.2)
        self.sim.faults.add([{"path_prefix": REALM_PATH, "status": 503}])
        self.bind(uid, pw).unbind_s()                          # accepted: bounded staleness
        self.assertBindFails(ldap.UNAVAILABLE, uid, pw + "x")  # a wrong one is still refused


class Throttle(BindBase):
    directives = {"auth0-bind-throttle": "3 100 60", "auth0-bind-cache-ttl": "0"}
    monitor = True

    def test_failures_per_dn_throttled_before_asking_auth0(self):
        uid, pw = plain_user()
        for _ in range(3):
            self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "wrong")
        n = self.logins()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw, "too many failed binds")
        self.assertEqual(self.logins(), n)
        self.assertGreaterEqual(int(monitor_attrs(self.s)["auth0MonBindThrottled"]), 1)


class Concurrency(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-connections": "4"}

    def test_slow_auth0_blocks_neither_searches_nor_service_binds(self):
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "delay": 2}])
        results = []

        def one():
            try:
                self.bind(uid, pw).unbind_s()
                results.append("ok")
            except ldap.LDAPError as e:
                results.append(type(e).__name__)
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t0 = time.time()
        c = self.bind(ROOTDN, ROOTPW)
        c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(uid=%s)" % "jane", ["1.1"])
        c.unbind_s()
        quick = time.time() - t0
        for t in threads:
            t.join(30)
        self.assertLess(quick, 1.0)
        self.assertGreaterEqual(results.count("ok"), 4)          # served in parallel
        self.assertEqual(set(results) - {"ok", "BUSY"}, set())   # never 49 or 52
        self.assertLessEqual(self.sim.stats.snapshot().get("max_in_flight", 0), 4 + 1)


class NoSecretsInLog(BindBase):
    loglevel = LOG_ALL_BUT_DUMPS     # packets and BER dump raw requests
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"}

    def test_log_has_no_password_secret_or_token(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "Wr0ng-pass-XYZ")
        mfa = special("mfa")
        self.bind(mfa, "%s,%s" % (SECRETS[mfa]["password"], SECRETS[mfa]["otp"])).unbind_s()
        log = self.s.log_text()
        self.assertIn("auth0: bind", log)
        self.assertRegex(log, r"HTTP POST https://127\.0\.0\.1:\d+/oauth/token: 200 in \d+ ms")
        for secret in (pw, "Wr0ng-pass-XYZ", SECRETS[mfa]["password"], "sim-m2m-secret"):
            self.assertNotIn(secret, log)
        self.assertIsNone(re.search(r"eyJ[A-Za-z0-9_-]{10,}", log), "a token in the log")


if __name__ == "__main__":
    unittest.main()
