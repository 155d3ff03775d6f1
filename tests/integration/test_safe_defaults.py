"""Safe defaults, each shown by a test (docs/SECURITY.md): a warning for
secret files that their group or other users may read, no secret,
password or token in the log at any level or in cn=config / cn=Monitor,
TLS verified on the import and on the bind path with no directive to turn
it off, and bind throttling on without any directive."""
import glob
import os
import re
import unittest

import ldap

from harness import SAMPLE, TOP, Slapd, api_directives, monitor_attrs, simulator
from test_bind import SECRETS, plain_user, special

# every level but packets (0x2) and BER (0x10), which are slapd's raw dumps
ALL_BUT_DUMPS = str(0xFFFF & ~0x12)
TOKEN_RE = re.compile(r"eyJ[A-Za-z0-9_-]{10,}")


def bind(s, dn, pw):
    c = ldap.initialize(s.url)
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
    try:
        c.simple_bind_s(dn, pw)
    finally:
        c.unbind_s()


class SecretFileModes(unittest.TestCase):
    """A secret file its group or other users may read gets a warning that
    names the directive; a mode 600 file gets none."""

    def start_with(self, client_mode, bind_mode):
        """The warnings of a start importing from the simulator with the
        two secret files in these modes."""
        sim = simulator(SAMPLE)
        s = Slapd("secretmode", tenant=None, directives={})
        s.directives = api_directives(s, sim, authz=False)
        for directive, name, mode in (("auth0-client-secret-file", "client", client_mode),
                                      ("auth0-bind-client-secret-file", "bind", bind_mode)):
            path = os.path.join(s.dir, name + ".secret")
            with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
                f.write("sim-m2m-secret\n")
            os.chmod(path, mode)
            s.directives[directive] = path
        s.directives["auth0-bind-client-id"] = "sim-m2m-client"
        s.write_conf()
        try:
            s.start()
            r = s.wait_refresh(1, timeout=60)
            log = s.log_text()
        finally:
            s.cleanup()
            sim.stop()
        self.assertGreater(r["added"], 40)      # the secret was read and used
        self.assertNotIn("sim-m2m-secret", log)
        return [line for line in log.splitlines() if "auth0: warning:" in line and "readable" in line]

    def test_group_readable_client_secret_warned(self):
        lines = self.start_with(0o640, 0o600)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('auth0-client-secret-file "', lines[0])
        self.assertIn("readable by the members of group", lines[0])

    def test_world_readable_bind_secret_warned(self):
        lines = self.start_with(0o600, 0o604)
        self.assertEqual(len(lines), 1, lines)
        self.assertIn('auth0-bind-client-secret-file "', lines[0])
        self.assertIn("readable by every user of this machine", lines[0])

    def test_mode_600_not_warned(self):
        self.assertEqual(self.start_with(0o600, 0o600), [])


class NoSecretsAnywhere(unittest.TestCase):
    """An import from the APIs (both tokens), binds right, wrong and with an
    MFA code, at every log level but slapd's raw dumps: no secret,
    password or access token in the log, cn=config or cn=Monitor."""

    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        cls.s = Slapd("nosecrets", tenant=None, directives={}, monitor=True)
        cls.s.directives = api_directives(cls.s, cls.sim)
        cls.s.directives.update({"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"})
        cls.s.loglevel = ALL_BUT_DUMPS
        cls.s.write_conf()
        cls.s.start()
        cls.s.wait_refresh(1, timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()
        cls.sim.stop()

    def test_nothing_secret_in_log_config_or_monitor(self):
        uid, pw = plain_user()
        dns = {k: dn for k, (dn, a) in self.s.people().items()}
        bind(self.s, dns[uid], pw)
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            bind(self.s, dns[uid], "Wr0ng-pass-XYZ")
        mfa = special("mfa")
        bind(self.s, dns[mfa], "%s,%s" % (SECRETS[mfa]["password"], SECRETS[mfa]["otp"]))
        self.s.refresh_now(timeout=120)
        st = self.sim.stats.snapshot()
        self.assertGreaterEqual(len(st["tokens_by_audience"]), 2, st)   # both APIs' tokens
        c = self.s.config_conn()
        try:
            config = repr(c.search_s("cn=config", ldap.SCOPE_SUBTREE, "(objectClass=olcAuth0Config)"))
        finally:
            c.unbind_s()
        monitor = repr(monitor_attrs(self.s))
        log = self.s.log_text()
        self.assertIn("auth0: bind", log)
        self.assertIn("olcAuth0ClientSecretFile", config)
        for where, text in (("log", log), ("cn=config", config), ("cn=Monitor", monitor)):
            for secret in (pw, "Wr0ng-pass-XYZ", SECRETS[mfa]["password"], "sim-m2m-secret"):
                self.assertNotIn(secret, text, where)
            self.assertIsNone(TOKEN_RE.search(text), "an access token in " + where)


class TlsAlwaysVerified(unittest.TestCase):
    """No directive turns verification off, the code never does, and the
    bind path refuses a server whose certificate does not match (the import
    path: test_api_faults.Tls)."""

    def test_no_directive_or_code_disables_verification(self):
        with open(os.path.join(TOP, "back-auth0/slapd/config.c"), encoding="utf-8") as f:
            directives = re.findall(r'\{ "(auth0-[a-z0-9-]+)"', f.read())
        self.assertGreater(len(directives), 20)
        for d in directives:
            self.assertIsNone(re.search(r"verify|insecure|no-?tls|ssl|skip", d), d)
        for path in glob.glob(os.path.join(TOP, "back-auth0/*.c")):
            with open(path, encoding="utf-8") as f:
                code = f.read()
            for opt, value in re.findall(r"CURLOPT_SSL_VERIFY(PEER|HOST)\s*,\s*([^)]*)\)", code):
                self.assertIn(value.strip(), ("1L", "2L"), "%s: VERIFY%s %s" % (path, opt, value))
            self.assertNotRegex(code, r"CURLSSLOPT_NO_REVOKE|CURLOPT_PROXY_SSL_VERIFY\w+\s*,\s*0")

    def test_unknown_tls_directives_fail_start(self):
        for line in ({"auth0-tls-verify": "off"}, {"auth0-insecure": "on"}):
            s = Slapd("tlsdirective", tenant=None)
            s.directives = {"auth0-snapshot-dir": s.dir}
            s.directives.update(line)
            s.write_conf()
            try:
                rc, out = s.run_expect_failure()
                self.assertNotEqual(rc, 0, out)
                self.assertIn("unknown directive", out)
            finally:
                s.cleanup()

    def test_bind_refuses_wrong_host_certificate(self):
        sim = simulator(SAMPLE, cert="wronghost")
        s = Slapd("tlsbind")
        s.directives.update(api_directives(s, sim, authz=False))
        s.directives["auth0-snapshot-dir"] = s.snap     # data offline, binds live
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            uid, pw = plain_user()
            dn = s.people()[uid][0]
            with self.assertRaises(ldap.UNAVAILABLE):
                bind(s, dn, pw)
            self.assertEqual(sim.stats.snapshot()["requests"].get("POST /oauth/token", 0), 0)
            self.assertRegex(s.log_text(), r"certificate|SSL|verif")
        finally:
            s.cleanup()
            sim.stop()


class ThrottleByDefault(unittest.TestCase):
    """Without auth0-bind-throttle: after 5 failed binds to a DN within
    300 s the next one is refused without asking Auth0, even with the
    right password."""

    def test_default_throttle(self):
        sim = simulator(SAMPLE)
        s = Slapd("throttledefault", monitor=True)
        s.directives.update(api_directives(s, sim, authz=False))
        s.directives["auth0-snapshot-dir"] = s.snap
        self.assertFalse(any(k.startswith("auth0-bind-throttle") for k in s.directives))
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            uid, pw = plain_user()
            dn = s.people()[uid][0]
            for _ in range(5):
                with self.assertRaises(ldap.INVALID_CREDENTIALS):
                    bind(s, dn, "wrong")
            asked = sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)
            self.assertEqual(asked, 5)
            with self.assertRaises(ldap.INVALID_CREDENTIALS) as cm:
                bind(s, dn, pw)
            self.assertIn("too many failed binds", cm.exception.args[0].get("info", ""))
            self.assertEqual(sim.stats.snapshot()["requests"].get("POST /oauth/token", 0), asked)
            self.assertGreaterEqual(int(monitor_attrs(s)["auth0MonBindThrottled"]), 1)
        finally:
            s.cleanup()
            sim.stop()


if __name__ == "__main__":
    unittest.main()
