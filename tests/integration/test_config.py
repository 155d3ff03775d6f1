"""Configuration: bad directives fail start naming the directive; cn=config
form; slapd.conf -> cn=config conversion with slaptest."""
import os
import subprocess
import unittest

import ldap

import harness
from harness import SLAPTEST, Slapd


class BadConfig(unittest.TestCase):
    CASES = [
        ({"auth0-snapshot-dirr": "/tmp"}, 'unknown directive "auth0-snapshot-dirr"'),
        ({"auth0-refresh-interval": "-5"}, "auth0-refresh-interval: \"-5\" is not a number of seconds"),
        ({"auth0-refresh-interval": "15m"}, "auth0-refresh-interval: \"15m\" is not a number of seconds"),
        ({"auth0-uid-range": "2000-1000"}, "auth0-uid-range: \"2000-1000\" is not a range"),
        ({"auth0-uid-range": "abc"}, "auth0-uid-range: \"abc\" is not a range"),
        ({"auth0-gid-range": "0-10"}, "auth0-gid-range: \"0-10\" is not a range"),
        ({"auth0-max-delete": "150%"}, "auth0-max-delete: \"150%\" is not a count or a percentage"),
        ({"auth0-connection": ["db", "db"]}, 'auth0-connection: connection "db" listed twice'),
        # value parsers of cfgparse.c (fuzzed by tests/fuzz/fuzz_config.c)
        ({"auth0-authz-url": "https://user:pw@authz.example.com/api"},
         'auth0-authz-url: "https://user:pw@authz.example.com/api" is not an https:// URL'),
        ({"auth0-authz-url": "https://authz.example.com/api?x=1"}, "is not an https:// URL"),
        ({"auth0-domain": "[zz::1]:443"}, 'auth0-domain: "[zz::1]:443" is not a host name'),
        ({"auth0-domain": "a..example.com"}, 'auth0-domain: "a..example.com" is not a host name'),
        ({"auth0-request-rate": "1e-07"}, 'auth0-request-rate: "1e-07" is not a rate'),
        ({"auth0-request-rate": "nan"}, 'auth0-request-rate: "nan" is not a rate'),
        ({"auth0-map-attribute": "cn;lang-en name"}, "is set by the module itself"),
        ({"auth0-map-attribute": "employeeNumber " + "a" * 300}, "is not a JSON path"),
        ({"auth0-bind-otp-separator": '" "'}, "auth0-bind-otp-separator: \" \" is not one printable"),
    ]

    def test_each_bad_directive_fails_start(self):
        for extra, message in self.CASES:
            with self.subTest(extra=extra):
                s = Slapd("badconf", tenant=None)
                s.directives = {"auth0-snapshot-dir": s.dir}
                s.directives.update(extra)
                s.write_conf()
                try:
                    rc, out = s.run_expect_failure()
                    self.assertNotEqual(rc, 0, out)
                    self.assertIn(message, out)
                    self.assertRegex(out, r"slapd\.conf: line \d+")
                finally:
                    s.cleanup()

    def test_no_source_fails_start(self):
        s = Slapd("nosource", tenant=None, directives={})
        try:
            rc, out = s.run_expect_failure()
            self.assertNotEqual(rc, 0)
            self.assertIn("no source configured (set auth0-snapshot-dir or auth0-domain)", out)
        finally:
            s.cleanup()


class DomainWarning(unittest.TestCase):
    def log_with(self, domain, mode):
        """slapd's log after a start with this domain and secret-file mode."""
        s = Slapd("domain")
        secret = os.path.join(s.dir, "secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, mode), "w") as f:
            f.write("x\n")
        s.directives.update({"auth0-domain": domain, "auth0-client-id": "c",
                             "auth0-client-secret-file": secret})
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            return s.log_text()
        finally:
            s.cleanup()

    def test_custom_domain_warned(self):
        log = self.log_with("login.example.com", 0o644)
        self.assertIn('auth0-domain "login.example.com" is not a canonical *.auth0.com domain', log)
        self.assertIn("is readable by every user of this machine", log)

    def test_canonical_domain_not_warned(self):
        log = self.log_with("acme.eu.auth0.com", 0o600)
        self.assertNotIn("not a canonical", log)
        self.assertNotIn("readable by every user", log)


class VersionGuard(unittest.TestCase):
    """version.c's policy, with modules built for other slapds (make check)."""

    def module(self, name):
        path = os.path.join(os.path.dirname(harness.MODULE), "back_auth0_%s.so" % name)
        self.assertTrue(os.path.exists(path), "make check builds " + path)
        return path

    def test_module_for_another_slapd_refuses_to_load(self):
        s = Slapd("vtest")
        s.module = self.module("vtest")
        s.write_conf()
        try:
            rc, out = s.run_expect_failure()
            self.assertNotEqual(rc, 0)
            self.assertRegex(out, r"auth0: module built for slapd 0\.0\.0-vtest but this is slapd "
                                  r"\S+; rebuild back-auth0 against this slapd's source \(scripts/setup, then "
                                  r"scripts/build or the Debian package\), or install the slapd-auth0 package "
                                  r"built for it\. Refusing to load")
        finally:
            s.cleanup()

    def test_another_revision_of_the_same_release_loads_with_a_notice(self):
        """A security update of slapd (same OpenLDAP release, same layout)."""
        s = Slapd("vrev")
        s.module = self.module("vrev")
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            self.assertTrue(s.people())
            self.assertRegex(s.log_text(), r"auth0: notice: module built for slapd \S+\+vtest1, running in "
                                           r"slapd \S+: the same OpenLDAP release [0-9.]+ with the same "
                                           r"structure layout, so it loads")
        finally:
            s.cleanup()

    def test_same_release_with_another_layout_refuses_to_load(self):
        s = Slapd("vlayout")
        s.module = self.module("vlayout")
        s.write_conf()
        try:
            rc, out = s.run_expect_failure()
            self.assertNotEqual(rc, 0)
            self.assertRegex(out, r"auth0: module built for slapd \S+\+vtest1, this is slapd \S+, and their "
                                  r"structures differ \(slap_schema is \d+ bytes in this slapd, the module's "
                                  r"headers say \d+\); rebuild back-auth0 against this slapd's source")
        finally:
            s.cleanup()

    def test_the_module_built_for_this_slapd_says_nothing(self):
        s = Slapd("vsame")
        try:
            s.start()
            s.wait_refresh(1)
            self.assertNotIn("auth0: notice: module built", s.log_text())
        finally:
            s.cleanup()


class ConfigBackend(unittest.TestCase):
    def test_values_visible_in_cn_config(self):
        s = Slapd("cnconfig")
        s.directives.update({"auth0-connection": ["Username-Password-Authentication", "google-oauth2"],
                             "auth0-uid-range": "5000-5999", "auth0-max-delete": "25"})
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            c = s.config_conn()
            dn = s.overlay_dn()
            a = c.search_s(dn, ldap.SCOPE_BASE)[0][1]
            self.assertIn(b"olcAuth0Config", a["objectClass"])
            self.assertEqual(a["olcAuth0Connection"], [b"Username-Password-Authentication", b"google-oauth2"])
            self.assertEqual(a["olcAuth0UidRange"], [b"5000-5999"])
            self.assertEqual(a["olcAuth0MaxDelete"], [b"25"])
            self.assertEqual(a["olcAuth0SnapshotDir"], [s.snap.encode()])
            self.assertEqual(a["olcAuth0RefreshInterval"], [b"3600"])
            # a bad value is refused over LDAP too, and the old one stays
            with self.assertRaises(ldap.LDAPError) as cm:
                c.modify_s(dn, [(ldap.MOD_REPLACE, "olcAuth0UidRange", [b"9-1"])])
            self.assertIn("is not a range", str(cm.exception))
            a = c.search_s(dn, ldap.SCOPE_BASE, attrlist=["olcAuth0UidRange"])[0][1]
            self.assertEqual(a["olcAuth0UidRange"], [b"5000-5999"])
            # uidNumbers came from the configured range
            nums = [int(v[1]["uidNumber"][0]) for v in s.people(["uidNumber"]).values()]
            self.assertTrue(all(5000 <= n <= 5999 for n in nums))
            c.unbind_s()
        finally:
            s.cleanup()

    def test_slaptest_conversion_runs_with_same_data(self):
        s = Slapd("slaptest")
        s.directives["auth0-connection"] = ["Username-Password-Authentication"]
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            before = {k: v[0] for k, v in s.people().items()}
            s.stop()
            s.confdir = os.path.join(s.dir, "slapd.d")
            os.makedirs(s.confdir)
            p = subprocess.run([SLAPTEST, "-f", s.tool_conf(), "-F", s.confdir],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.assertEqual(p.returncode, 0, p.stdout.decode())
            out = subprocess.run(["grep", "-rl", "olcAuth0Connection", s.confdir],
                                 stdout=subprocess.PIPE).stdout.decode()
            self.assertIn("olcOverlay={0}auth0.ldif", out)
            s.start()
            s.wait_refresh(2)
            self.assertEqual({k: v[0] for k, v in s.people().items()}, before)
            a = s.config_conn().search_s(s.overlay_dn(), ldap.SCOPE_BASE)[0][1]
            self.assertEqual(a["olcAuth0Connection"], [b"Username-Password-Authentication"])
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()


class Install(unittest.TestCase):
    def test_make_install_and_load_from_the_installed_path(self):
        import shutil
        import tempfile
        dest = tempfile.mkdtemp(prefix="install-", dir=os.path.join(harness.TOP, "tests/tmp"))
        try:
            p = subprocess.run(["make", "-s", "-C", os.path.join(harness.TOP, "_build/obj"), "install",
                                "DESTDIR=" + dest], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.assertEqual(p.returncode, 0, p.stdout.decode())
            mod = os.path.join(dest, "usr/lib/ldap/back_auth0.so")
            for f in (mod, "etc/ldap/schema/auth0.schema", "etc/ldap/schema/auth0.ldif",
                      "etc/ldap/schema/rfc2307bis.schema"):
                self.assertTrue(os.path.exists(os.path.join(dest, f)), f)
            nm = subprocess.run(["nm", "-D", "--defined-only", mod], stdout=subprocess.PIPE).stdout.decode()
            own = [l.split()[-1] for l in nm.splitlines() if l.split()[-1] not in ("_init", "_fini")]
            self.assertEqual(own, ["init_module"])
            ldd = subprocess.run(["ldd", mod], stdout=subprocess.PIPE).stdout.decode()
            self.assertNotIn("liblmdb", ldd)
            needed = subprocess.run(["readelf", "-d", mod], stdout=subprocess.PIPE).stdout.decode()
            self.assertNotIn("libldap", needed)
            s = Slapd("installed")
            s.module = mod
            s.write_conf()
            try:
                s.start()
                self.assertGreater(s.wait_refresh(1)["users"], 0)
            finally:
                s.cleanup()
        finally:
            shutil.rmtree(dest, ignore_errors=True)


class LiveChanges(unittest.TestCase):
    def test_interval_and_connections_change_without_restart(self):
        s = Slapd("live")
        s.directives["auth0-connection"] = ["Username-Password-Authentication"]
        s.write_conf()
        try:
            s.start()
            s.wait_refresh(1)
            before = len(s.people())
            # a new refresh interval reschedules the task at once
            s.config_set("olcAuth0RefreshInterval", "1")
            s.wait_refresh(3, timeout=20)
            # a connection added over LDAP is imported at the next refresh
            c = s.config_conn()
            c.modify_s(s.overlay_dn(), [(ldap.MOD_ADD, "olcAuth0Connection", [b"google-oauth2"])])
            c.unbind_s()
            n = len(s.refreshes())
            s.wait_refresh(n + 2, timeout=20)
            after = s.people(["auth0Connection"])
            self.assertGreater(len(after), before)
            self.assertIn(b"google-oauth2", {a["auth0Connection"][0] for dn, a in after.values()})
            s.config_set("olcAuth0RefreshInterval", "3600")
        finally:
            s.cleanup()
