"""sortvals on the membership attributes (a common tuning for big groups):
back-mdb looks values up by halves in such attributes, so every value the
module writes must enter sorted, on adds and on modifies alike."""
import os
import unittest

import ldap
import ldap.filter

from harness import SUFFIX, Slapd, read_ndjson, write_ndjson

SORTED = "sortvals member uniqueMember memberUid memberOf"


class SortVals(unittest.TestCase):
    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1])
        self.s.extra_global = SORTED
        self.s.write_conf()
        self.s.start()
        self.s.wait_refresh(1)

    def tearDown(self):
        failed = any(e for _, e in (getattr(getattr(self, "_outcome", None), "errors", None) or []))
        self.s.cleanup(ok=not failed)

    def check_every_filter_matches(self):
        """Every (attr=value) of every entry finds that entry; returns how many."""
        n = 0
        for base, attrs in (("ou=groups", ("member", "uniqueMember", "memberUid")),
                            ("ou=roles", ("member", "uniqueMember", "memberUid")),
                            ("ou=applications", ("member", "uniqueMember")),
                            ("ou=people", ("memberOf",))):
            base = "%s,%s" % (base, SUFFIX)
            for dn, a in self.s.search(base, "(objectClass=*)", list(attrs), ldap.SCOPE_ONELEVEL):
                for name in attrs:
                    for v in a.get(name, []):
                        f = "(%s=%s)" % (name, ldap.filter.escape_filter_chars(v.decode()))
                        got = [d.lower() for d, _ in self.s.search(base, f, ["1.1"], ldap.SCOPE_ONELEVEL)]
                        self.assertIn(dn.lower(), got, f)
                        n += 1
        return n

    def test_import_then_changes_every_filter_matches(self):
        n = self.check_every_filter_matches()
        self.assertGreater(n, 100)
        # modifies: renamed users change every member list they are on
        path = os.path.join(self.s.snap, "users.ndjson")
        users = read_ndjson(path)
        for u in users[:10]:
            if u.get("username"):
                u["username"] = "z" + u["username"]
        write_ndjson(path, users)
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0)
        self.check_every_filter_matches()
        # order-insensitive: nothing is left to write
        r = self.s.refresh_now()
        self.assertEqual((r["modified"], r["renamed"], r["errors"]), (0, 0, 0))
        last = [l for l in self.s.log_text().splitlines() if "auth0: refresh of " in l and " users, " in l][-1]
        self.assertRegex(last, r"groups: \d+, \+0 ~0 -0; roles: \d+, \+0 ~0 -0")


if __name__ == "__main__":
    unittest.main()
