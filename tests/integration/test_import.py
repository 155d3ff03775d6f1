"""Import of users from a tenant snapshot into a real slapd (issue: foundation)."""
import os
import unittest

import ldap
import ldap.dn
import ldap.filter

import oracle
from harness import PEOPLE, SAMPLE, SUFFIX, Slapd, read_ndjson


def first(attrs, name):
    v = attrs.get(name)
    return v[0].decode("utf-8") if v else None


class SampleImport(unittest.TestCase):
    """The bundled sample tenant, all connections."""

    @classmethod
    def setUpClass(cls):
        cls.s = Slapd("import").start()
        cls.first = cls.s.wait_refresh(1)
        cls.users = oracle.selected(read_ndjson(os.path.join(cls.s.snap, "users.ndjson")))
        cls.uids = oracle.uids(cls.users)

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def test_first_refresh_adds_every_user(self):
        self.assertGreaterEqual(len(self.users), 40)
        self.assertEqual(self.first["users"], len(self.users))
        self.assertEqual(self.first["added"], len(self.users))
        self.assertEqual(self.first["errors"], 0)
        self.assertEqual(set(self.s.people()), {u["user_id"] for u in self.users})

    def test_containers_exist(self):
        for ou in ("people", "groups", "roles", "applications"):
            res = self.s.search("ou=%s,%s" % (ou, SUFFIX), scope=ldap.SCOPE_BASE)
            self.assertEqual(len(res), 1, ou)

    def test_uid_rules_and_collisions(self):
        people = self.s.people(["uid"])
        for u in self.users:
            dn, attrs = people[u["user_id"]]
            self.assertEqual(first(attrs, "uid"), self.uids[u["user_id"]], u["user_id"])
        # the sample has collisions: some user must have fallen back
        fallbacks = [u for u in self.users
                     if self.uids[u["user_id"]] == u["user_id"]
                     and (u.get("username") or u.get("email"))]
        self.assertTrue(fallbacks, "sample tenant should exercise a uid collision")
        self.assertIn("collides with a user whose user_id sorts lower", self.s.log_text())

    def test_every_attribute(self):
        people = self.s.people(["*", "+"])
        for u in self.users:
            dn, a = people[u["user_id"]]
            uid = self.uids[u["user_id"]]
            ocs = {v.decode().lower() for v in a["objectClass"]}
            self.assertTrue({"inetorgperson", "posixaccount", "auth0user"} <= ocs)
            self.assertEqual(first(a, "cn"), u.get("name") or uid)
            self.assertEqual(first(a, "sn"), u.get("family_name") or u.get("name") or uid)
            self.assertEqual(first(a, "givenName"), u.get("given_name"))
            self.assertEqual(first(a, "displayName"), u.get("name") or u.get("nickname"))
            email = u.get("email")
            if email and email.isascii():
                self.assertEqual(first(a, "mail"), email)
            self.assertEqual(first(a, "telephoneNumber"), u.get("phone_number"))
            self.assertEqual(first(a, "auth0Connection"), oracle.connection(u))
            if "email_verified" in u:
                self.assertEqual(first(a, "auth0EmailVerified"), "TRUE" if u["email_verified"] else "FALSE")
            self.assertEqual(first(a, "auth0Blocked"), "TRUE" if u.get("blocked") else "FALSE")
            for key, attr in (("created_at", "auth0CreatedAt"), ("updated_at", "auth0UpdatedAt"),
                              ("last_login", "auth0LastLogin")):
                if u.get(key):
                    self.assertEqual(first(a, attr), oracle.gentime(u[key]), (u["user_id"], key))
            if "logins_count" in u:
                self.assertEqual(first(a, "auth0LoginsCount"), str(u["logins_count"]))
            if u.get("app_metadata"):
                self.assertIsNotNone(first(a, "auth0AppMetadata"))
            self.assertEqual(first(a, "entryUUID"), oracle.entry_uuid(u["user_id"]))
            self.assertTrue(100000 <= int(first(a, "uidNumber")) <= 199999)
            self.assertEqual(first(a, "gidNumber"), "100000")
            self.assertTrue(first(a, "homeDirectory").startswith("/home/"))
            self.assertEqual(first(a, "loginShell"), "/bin/bash")

    def test_uid_numbers_unique(self):
        nums = [first(a, "uidNumber") for dn, a in self.s.people(["uidNumber"]).values()]
        self.assertEqual(len(nums), len(set(nums)))

    def test_search_by_uid_and_mail(self):
        c = self.s.conn()
        for u in self.users:
            uid = self.uids[u["user_id"]]
            res = c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL,
                             "(uid=%s)" % ldap.filter.escape_filter_chars(uid), ["auth0UserId"])
            self.assertEqual([first(a, "auth0UserId") for dn, a in res], [u["user_id"]], uid)
            email = u.get("email")
            if email and email.isascii():
                res = c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL,
                                 "(mail=%s)" % ldap.filter.escape_filter_chars(email), ["auth0UserId"])
                self.assertIn(u["user_id"], [first(a, "auth0UserId") for dn, a in res])
        c.unbind_s()

    def test_exact_dn_round_trip(self):
        """Each entry is found again by its DN exactly as slapd returned it."""
        c = self.s.conn()
        for uid_, (dn, a) in self.s.people().items():
            res = c.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["auth0UserId"])
            self.assertEqual(first(res[0][1], "auth0UserId"), uid_)
            # and by a DN built from the parsed RDN (re-escaped by libldap)
            rdn = ldap.dn.str2dn(dn)
            rebuilt = ldap.dn.dn2str(rdn)
            res = c.search_s(rebuilt, ldap.SCOPE_BASE, "(objectClass=*)", ["auth0UserId"])
            self.assertEqual(first(res[0][1], "auth0UserId"), uid_)
            self.assertEqual(rdn[0][0][1], self.uids[uid_])
        c.unbind_s()

    def test_second_refresh_writes_nothing(self):
        before = {k: first(a, "entryCSN") for k, (dn, a) in self.s.people(["entryCSN"]).items()}
        r = self.s.refresh_now()
        self.assertEqual(r["unchanged"], len(self.users))
        self.assertEqual((r["added"], r["modified"], r["renamed"], r["deleted"]), (0, 0, 0, 0))
        after = {k: first(a, "entryCSN") for k, (dn, a) in self.s.people(["entryCSN"]).items()}
        self.assertEqual(before, after)


class ConnectionSelection(unittest.TestCase):
    def test_only_selected_connections(self):
        users = read_ndjson(os.path.join(SAMPLE, "users.ndjson"))
        conns = sorted({oracle.connection(u) for u in users if oracle.connection(u)})
        pick = conns[:2]
        s = Slapd("conns")
        s.directives["auth0-connection"] = pick
        s.write_conf()
        try:
            s.start()
            r = s.wait_refresh(1)
            want = {u["user_id"] for u in oracle.selected(users, pick)}
            self.assertEqual(set(s.people()), want)
            self.assertEqual(r["users"], len(want))
            self.assertLess(len(want), len(oracle.selected(users)))
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
