"""auth0-base: the imported tree below an entry of an existing directory.

A directory with its own dc=example,dc=com and ou=people (a service account,
local staff) gets Auth0's users in ou=people,ou=auth0,dc=example,dc=com:
the module waits for the administrator's suffix entry instead of creating
it, then creates the base and its containers; local binds and writes work,
searches from the suffix return both, the imported subtree is read-only,
binds to imported users go to Auth0, and moving the base over cn=config
moves the imported tree (same uidNumbers, member values follow)."""
import os
import re
import time
import unittest

import ldap
import ldap.modlist

from harness import ROOTDN, ROOTPW, SAMPLE, SUFFIX, Slapd, api_directives, simulator
from test_bind import plain_user

BASE = "ou=auth0," + SUFFIX
LOCAL_PEOPLE = "ou=people," + SUFFIX
SVC = "uid=svc," + LOCAL_PEOPLE


def add(c, dn, attrs):
    c.add_s(dn, ldap.modlist.addModlist({k: [v.encode() for v in vs] for k, vs in attrs.items()}))


def local_tree(s):
    c = s.conn()
    try:
        add(c, SUFFIX, {"objectClass": ["top", "dcObject", "organization"], "dc": ["example"],
                        "o": ["Example local"]})
        add(c, LOCAL_PEOPLE, {"objectClass": ["organizationalUnit"], "ou": ["people"]})
        add(c, SVC, {"objectClass": ["inetOrgPerson"], "uid": ["svc"], "cn": ["svc"], "sn": ["svc"],
                     "userPassword": ["svc-pw"]})
    finally:
        c.unbind_s()


def wait_log(s, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if re.search(pattern, s.log_text()):
            return
        time.sleep(0.05)
    raise AssertionError("no %r in the log:\n%s" % (pattern, s.log_text()[-3000:]))


class BelowSuffix(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        cls.s = Slapd(cls.__name__)
        cls.s.directives.update(api_directives(cls.s, cls.sim, authz=False))
        cls.s.directives["auth0-snapshot-dir"] = cls.s.snap   # data offline, passwords live
        cls.s.directives["auth0-base"] = '"%s"' % BASE
        cls.s.write_conf()
        cls.s.start()
        # no suffix entry yet: the module waits, creating nothing
        wait_log(cls.s, r"auth0-base \"%s\": waiting until its parent entry exists" % BASE)
        cls.empty_before = cls.count(SUFFIX)
        local_tree(cls.s)
        cls.s.refresh_now()
        cls.people = "ou=people," + BASE

    @classmethod
    def count(cls, base):
        try:
            return len(cls.s.search(base, attrs=["1.1"]))
        except ldap.NO_SUCH_OBJECT:
            return 0

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()
        cls.sim.stop()

    def imported(self):
        return self.s.search(self.people, "(objectClass=auth0User)", ["uid", "auth0UserId"],
                             ldap.SCOPE_ONELEVEL)

    def test_waited_then_created_base_and_containers_only(self):
        self.assertEqual(self.empty_before, 0)
        self.assertEqual(len(re.findall("waiting until its parent entry exists", self.s.log_text())), 1)
        top = self.s.search(SUFFIX, attrs=["o"], scope=ldap.SCOPE_BASE)
        self.assertEqual(top[0][1]["o"], [b"Example local"])    # the administrator's own
        below = {dn.lower() for dn, a in self.s.search(BASE, "(objectClass=*)", ["1.1"], ldap.SCOPE_ONELEVEL)}
        self.assertEqual(below, {"ou=%s,%s" % (o, BASE) for o in ("people", "groups", "roles", "applications",
                                                     "organizations")})
        self.assertGreater(len(self.imported()), 5)
        # nothing of Auth0's beside the local entries
        local = self.s.search(LOCAL_PEOPLE, "(objectClass=*)", ["1.1"], ldap.SCOPE_ONELEVEL)
        self.assertEqual([dn for dn, a in local], [SVC])

    def test_group_members_and_member_of_below_the_base(self):
        res = self.s.search("ou=groups," + BASE, "(member=*)", ["member"], ldap.SCOPE_ONELEVEL)
        members = [m for dn, a in res for m in a["member"] if m]   # an empty group holds ""
        self.assertGreater(len(members), 3)
        for m in members:
            self.assertTrue(m.decode().lower().endswith("," + self.people), m)
        users = self.s.search(self.people, "(memberOf=*)", ["memberOf"], ldap.SCOPE_ONELEVEL)
        self.assertTrue(users)
        for dn, a in users:
            for m in a["memberOf"]:
                self.assertTrue(m.decode().lower().endswith("," + BASE), m)

    def test_local_bind_and_local_writes(self):
        c = self.s.conn(SVC, "svc-pw")
        self.assertEqual(c.whoami_s(), "dn:" + SVC)
        c.unbind_s()
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            self.s.conn(SVC, "wrong")
        c = self.s.conn()
        try:
            c.modify_s(SVC, [(ldap.MOD_REPLACE, "description", [b"changed locally"])])
            dn = "uid=staff1," + LOCAL_PEOPLE
            add(c, dn, {"objectClass": ["inetOrgPerson"], "uid": ["staff1"], "cn": ["s"], "sn": ["s"]})
            c.modify_s(dn, [(ldap.MOD_REPLACE, "sn", [b"t"])])
            c.delete_s(dn)
        finally:
            c.unbind_s()
        self.assertEqual(self.s.search(SVC, attrs=["description"], scope=ldap.SCOPE_BASE)[0][1]["description"],
                         [b"changed locally"])

    def test_search_from_the_suffix_returns_both(self):
        res = self.s.search(SUFFIX, "(|(uid=svc)(objectClass=auth0User))", ["1.1"])
        dns = [dn.lower() for dn, a in res]
        self.assertIn(SVC, dns)
        self.assertGreater(sum(1 for d in dns if d.endswith("," + self.people)), 5)

    def test_imported_subtree_read_only(self):
        dn = self.imported()[0][0]
        c = self.s.conn()
        try:
            with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                c.modify_s(dn, [(ldap.MOD_REPLACE, "description", [b"x"])])
            with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                add(c, "uid=intruder," + self.people,
                    {"objectClass": ["inetOrgPerson"], "uid": ["intruder"], "cn": ["i"], "sn": ["i"]})
            with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                c.rename_s(SVC, "uid=svc", self.people)
            # the base entry itself and what sits beside the containers are local
            c.modify_s(BASE, [(ldap.MOD_REPLACE, "description", [b"Auth0 import"])])
        finally:
            c.unbind_s()

    def test_bind_to_an_imported_user_goes_to_auth0(self):
        uid, pw = plain_user()
        dn = next(dn for dn, a in self.imported() if a["auth0UserId"][0].decode() == uid)
        n = self.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)
        c = self.s.conn(dn, pw)
        self.assertEqual(c.whoami_s().lower(), "dn:" + dn.lower())
        c.unbind_s()
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            self.s.conn(dn, pw + "x")
        self.assertGreaterEqual(self.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0), n + 1)

    def test_config_emits_the_base(self):
        c = self.s.config_conn()
        try:
            res = c.search_s(self.s.overlay_dn(), ldap.SCOPE_BASE, attrlist=["olcAuth0Base"])
        finally:
            c.unbind_s()
        self.assertEqual(res[0][1]["olcAuth0Base"], [BASE.encode()])


class Move(unittest.TestCase):
    """olcAuth0Base changed while entries exist: the tree moves with them."""

    def test_move_keeps_numbers_and_follows_members(self):
        s = Slapd("BaseMove")
        self.addCleanup(s.cleanup)
        s.directives["auth0-base"] = '"%s"' % BASE
        s.write_conf()
        s.start()
        wait_log(s, "waiting until its parent entry exists")
        local_tree(s)
        s.refresh_now()
        old = "ou=people," + BASE
        before = {a["auth0UserId"][0]: a["uidNumber"][0] for dn, a in
                  s.search(old, "(objectClass=auth0User)", ["auth0UserId", "uidNumber"], ldap.SCOPE_ONELEVEL)}
        self.assertGreater(len(before), 5)
        new = "ou=idp," + SUFFIX
        n = len(s.refreshes())
        s.config_set("olcAuth0Base", new)       # starts a refresh by itself
        s.wait_refresh(n + 1)
        after = {a["auth0UserId"][0]: a["uidNumber"][0] for dn, a in
                 s.search("ou=people," + new, "(objectClass=auth0User)", ["auth0UserId", "uidNumber"],
                          ldap.SCOPE_ONELEVEL)}
        self.assertEqual(after, before)
        self.assertEqual(s.search(BASE, attrs=["1.1"]), [(BASE, {})])   # only the emptied old base
        for dn, a in s.search("ou=groups," + new, "(member=*)", ["member"], ldap.SCOPE_ONELEVEL):
            for m in a["member"]:
                if m:
                    self.assertTrue(m.decode().lower().endswith(",ou=people," + new), m)
        # the old place is local again: the administrator may remove it
        c = s.conn()
        try:
            c.delete_s(BASE)
        finally:
            c.unbind_s()
        self.assertIn(SVC, [dn for dn, a in s.search(SUFFIX, "(uid=svc)", ["1.1"])])


    def test_move_at_restart_with_another_base_in_slapd_conf(self):
        s = Slapd("BaseRestart")
        self.addCleanup(s.cleanup)
        s.directives["auth0-base"] = '"%s"' % BASE
        s.write_conf()
        s.start()
        wait_log(s, "waiting until its parent entry exists")
        local_tree(s)
        s.refresh_now()
        before = {a["auth0UserId"][0]: (a["uidNumber"][0], a["entryUUID"][0]) for dn, a in
                  s.search("ou=people," + BASE, "(objectClass=auth0User)", ["auth0UserId", "uidNumber", "entryUUID"],
                           ldap.SCOPE_ONELEVEL)}
        s.stop()
        new = "ou=idp," + SUFFIX
        s.directives["auth0-base"] = '"%s"' % new
        s.write_conf()
        n = len(s.refreshes())
        s.start()
        s.wait_refresh(n + 1)
        after = {a["auth0UserId"][0]: (a["uidNumber"][0], a["entryUUID"][0]) for dn, a in
                 s.search("ou=people," + new, "(objectClass=auth0User)", ["auth0UserId", "uidNumber", "entryUUID"],
                          ldap.SCOPE_ONELEVEL)}
        self.assertEqual(after, before)
        self.assertEqual(s.search(BASE, attrs=["1.1"]), [(BASE, {})])
        self.assertRegex(s.log_text(), r"auth0-base moved: \"ou=people,ou=auth0,dc=example,dc=com\" to below "
                                       r"\"ou=idp,dc=example,dc=com\"")


class Refused(unittest.TestCase):
    def test_base_outside_the_suffix(self):
        s = Slapd("BaseOutside")
        self.addCleanup(s.cleanup)
        s.directives["auth0-base"] = '"ou=auth0,dc=other,dc=org"'
        s.write_conf()
        rc, out = s.run_expect_failure()
        self.assertNotEqual(rc, 0)
        self.assertIn("auth0-base", out)
        self.assertIn("not the database suffix or below it", out)

    def test_not_a_dn_and_live_outside(self):
        s = Slapd("BaseBad")
        self.addCleanup(s.cleanup)
        s.directives["auth0-base"] = '"not a dn"'
        s.write_conf()
        rc, out = s.run_expect_failure()
        self.assertNotEqual(rc, 0)
        self.assertIn("is not a DN", out)
        s.directives["auth0-base"] = None
        s.write_conf()
        s.start()
        s.wait_refresh(1)
        with self.assertRaises(ldap.LDAPError):
            s.config_set("olcAuth0Base", "ou=x,dc=elsewhere")
        self.assertTrue(s.people())   # still below the suffix, as before



class NoRootdn(unittest.TestCase):
    def test_starts_says_so_once_and_serves(self):
        s = Slapd("NoRootdn")
        self.addCleanup(s.cleanup)
        text = s.conf_text().replace('rootdn "%s"\nrootpw %s\n' % (ROOTDN, ROOTPW), "", 1)
        self.assertNotIn(ROOTDN, text)
        with open(s.conf, "w", encoding="utf-8") as f:
            f.write(text)
        s.start()
        wait_log(s, "the database has no rootdn, so nothing is imported")
        c = ldap.initialize(s.url)
        res = c.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])
        self.assertEqual(res[0][1]["namingContexts"], [SUFFIX.encode()])
        with self.assertRaises(ldap.NO_SUCH_OBJECT):
            c.search_s(SUFFIX, ldap.SCOPE_BASE)
        c.unbind_s()
        self.assertEqual(s.log_text().count("has no rootdn"), 1)
        self.assertNotIn("auth0: refresh of", s.log_text())

if __name__ == "__main__":
    unittest.main()
