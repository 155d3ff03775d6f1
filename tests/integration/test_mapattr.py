"""auth0-map-attribute: metadata to LDAP attributes, arrays to several
values, rejected values skipped, uidNumber/gidNumber from metadata win
when they pass the checks (range, uniqueness, a primary group of ours)."""
import os
import unittest

import ldap

from harness import Slapd, read_ndjson, write_ndjson


def vals(a, name):
    return [v.decode() for v in a.get(name, [])]


class MapAttribute(unittest.TestCase):
    def setUp(self):
        self.s = Slapd("mapattr")
        self.s.directives["auth0-map-attribute"] = [
            "employeeNumber app_metadata.employee_id",
            "uidNumber app_metadata.uid_number",
            "mobile user_metadata.phones",
            "departmentNumber app_metadata.dept",
        ]
        self.s.write_conf()
        path = os.path.join(self.s.snap, "users.ndjson")
        users = read_ndjson(path)
        self.a, self.b, self.c = users[0], users[1], users[2]
        self.a["app_metadata"] = {"employee_id": 4711, "uid_number": 154321}
        self.b["user_metadata"] = {"phones": ["+1 555 0100", "+1 555 0101", ""]}
        self.b["app_metadata"] = {"dept": {"nested": True}}
        self.c["app_metadata"] = {"uid_number": "not-a-number", "employee_id": "E-9"}
        write_ndjson(path, users)
        self.s.start()
        self.r = self.s.wait_refresh(1)

    def tearDown(self):
        self.s.cleanup()

    def test_values_mapped(self):
        p = self.s.people(["employeeNumber", "uidNumber", "mobile", "departmentNumber"])
        a, b, c = (p[u["user_id"]][1] for u in (self.a, self.b, self.c))
        self.assertEqual(vals(a, "employeeNumber"), ["4711"])
        self.assertEqual(vals(a, "uidNumber"), ["154321"])         # metadata wins
        self.assertEqual(vals(b, "mobile"), ["+1 555 0100", "+1 555 0101"])   # array, empty dropped
        self.assertEqual(vals(b, "departmentNumber"), ['{"nested":true}'])     # object as JSON text
        self.assertEqual(vals(c, "employeeNumber"), ["E-9"])
        self.assertTrue(100000 <= int(vals(c, "uidNumber")[0]) <= 199999)  # bad number: allocated
        self.assertEqual(self.r["errors"], 0)

    def test_change_and_removal_follow(self):
        path = os.path.join(self.s.snap, "users.ndjson")
        users = read_ndjson(path)
        for u in users:
            if u["user_id"] == self.a["user_id"]:
                u["app_metadata"] = {"uid_number": 154321}
            if u["user_id"] == self.b["user_id"]:
                u["user_metadata"] = {"phones": ["+1 555 0199"]}
        write_ndjson(path, users)
        r = self.s.refresh_now()
        self.assertEqual(r["modified"], 2)
        p = self.s.people(["employeeNumber", "mobile"])
        self.assertEqual(vals(p[self.a["user_id"]][1], "employeeNumber"), [])
        self.assertEqual(vals(p[self.b["user_id"]][1], "mobile"), ["+1 555 0199"])

    def test_cn_config_form(self):
        a = self.s.config_conn().search_s(self.s.overlay_dn(), ldap.SCOPE_BASE)[0][1]
        self.assertEqual(vals(a, "olcAuth0MapAttribute"), [
            "employeeNumber app_metadata.employee_id", "uidNumber app_metadata.uid_number",
            "mobile user_metadata.phones", "departmentNumber app_metadata.dept"])

    def test_cn_config_refuses_single_valued_mapped_attribute(self):
        c = self.s.config_conn()
        try:
            for attr in ("displayName", "auth0Blocked"):
                with self.assertRaises(ldap.LDAPError) as cm:
                    c.modify_s(self.s.overlay_dn(), [(ldap.MOD_ADD, "olcAuth0MapAttribute",
                                                      [("%s app_metadata.x" % attr).encode()])])
                self.assertIn('"%s" is single-valued and the module already sets it' % attr,
                              cm.exception.args[0].get("info", ""))
        finally:
            c.unbind_s()
        self.assertEqual(len(self.s.config_conn().search_s(self.s.overlay_dn(), ldap.SCOPE_BASE)[0][1]
                             ["olcAuth0MapAttribute"]), 4)


class MetadataIds(unittest.TestCase):
    """uidNumber / gidNumber from metadata: range, uniqueness, primary group."""

    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1])
        self.s.directives["auth0-map-attribute"] = [
            "uidNumber app_metadata.uid_number", "gidNumber app_metadata.gid_number"]
        self.s.write_conf()
        self.path = os.path.join(self.s.snap, "users.ndjson")
        self.users = read_ndjson(self.path)
        self.s.start()
        self.s.wait_refresh(1)
        self.people = self.s.people(["uidNumber", "gidNumber"])

    def tearDown(self):
        self.s.cleanup()

    def num(self, u, attr):
        return int(vals(self.s.people([attr])[u["user_id"]][1], attr)[0])

    def test_uid_checks(self):
        u = self.users
        stored = {k: int(vals(a, "uidNumber")[0]) for k, (dn, a) in self.people.items()}
        u[0]["app_metadata"] = {"uid_number": 27}                      # outside the range
        u[1]["app_metadata"] = {"uid_number": stored[u[2]["user_id"]]}  # held by another user
        u[3]["app_metadata"] = {"uid_number": 150000}                  # given twice: lower id keeps
        u[4]["app_metadata"] = {"uid_number": 150000}
        u[5]["app_metadata"] = {"uid_number": 150001}                  # fine
        write_ndjson(self.path, u)
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0)
        log = self.s.log_text()
        self.assertEqual(self.num(u[0], "uidNumber"), stored[u[0]["user_id"]])
        self.assertIn("user %s: uidNumber 27 from auth0-map-attribute is outside auth0-uid-range "
                      "100000-199999; not used" % u[0]["user_id"], log)
        self.assertEqual(self.num(u[1], "uidNumber"), stored[u[1]["user_id"]])
        self.assertIn("user %s: uidNumber %d from auth0-map-attribute is held by user %s"
                      % (u[1]["user_id"], stored[u[2]["user_id"]], u[2]["user_id"]), log)
        lo, hi = sorted((u[3], u[4]), key=lambda x: x["user_id"].encode())
        self.assertEqual(self.num(lo, "uidNumber"), 150000)
        self.assertEqual(self.num(hi, "uidNumber"), stored[hi["user_id"]])
        self.assertIn("user %s: uidNumber 150000 from auth0-map-attribute is also given to user %s"
                      % (hi["user_id"], lo["user_id"]), log)
        self.assertEqual(self.num(u[5], "uidNumber"), 150001)
        nums = [int(vals(a, "uidNumber")[0]) for dn, a in self.s.people(["uidNumber"]).values()]
        self.assertEqual(len(nums), len(set(nums)))

    def test_new_users_never_get_a_claimed_number(self):
        top = max(int(vals(a, "uidNumber")[0]) for dn, a in self.people.values())
        self.users[0]["app_metadata"] = {"uid_number": top + 1}
        self.users.append({"user_id": "auth0|ffff00000000000000000001", "email": "n@example.com",
                           "identities": [{"connection": "Username-Password-Authentication"}]})
        write_ndjson(self.path, self.users)
        self.s.refresh_now()
        self.assertEqual(self.num(self.users[0], "uidNumber"), top + 1)
        self.assertEqual(self.num(self.users[-1], "uidNumber"), top + 2)

    def test_primary_group_checks(self):
        groups = self.s.search("ou=groups,dc=example,dc=com", "(objectClass=auth0Group)", ["gidNumber"])
        ours = int(groups[0][1]["gidNumber"][0])
        self.users[0]["app_metadata"] = {"gid_number": 27}          # sudo on Debian
        self.users[1]["app_metadata"] = {"gid_number": ours}        # a group of the module
        self.users[2]["app_metadata"] = {"gid_number": 100000}      # the range's base
        write_ndjson(self.path, self.users)
        self.s.refresh_now()
        self.assertEqual(self.num(self.users[0], "gidNumber"), 100000)
        self.assertIn("user %s: gidNumber 27 from auth0-map-attribute is neither the base of "
                      "auth0-gid-range (100000) nor the gidNumber of a group or role of the module"
                      % self.users[0]["user_id"], self.s.log_text())
        self.assertEqual(self.num(self.users[1], "gidNumber"), ours)
        self.assertEqual(self.num(self.users[2], "gidNumber"), 100000)


class RangeExhausted(unittest.TestCase):
    """A uid range too small for the tenant: the users that fit are
    imported, the rest are counted, and the log says so once, not once a
    user (a tenant past the default range of 100,000)."""

    def test_one_line_for_all_left_out(self):
        s = Slapd("range")
        s.directives["auth0-uid-range"] = "100000-100002"
        s.write_conf()
        try:
            s.start()
            r = s.wait_refresh(1)
            total = len(read_ndjson(os.path.join(s.snap, "users.ndjson")))
            people = s.people(["uidNumber"])
            self.assertGreater(total, 3)
            self.assertEqual(len(people), 3)
            self.assertEqual(sorted(int(vals(a, "uidNumber")[0]) for _, a in people.values()),
                             [100000, 100001, 100002])
            self.assertEqual(r["errors"], total - 3)
            s.refresh_now()
            log = s.log_text()
            self.assertEqual(log.count("auth0-uid-range is exhausted: objects beyond it are not "
                                       "imported until it is widened"), 1)
            self.assertEqual(log.count("auth0-uid-range exhausted: %d objects not imported" % (total - 3)), 2)
            self.assertNotIn("range is exhausted;", log)
            # widened: the rest come in, and the problem clears
            s.config_set("olcAuth0UidRange", "100000-199999")
            r = s.refresh_now()
            self.assertEqual(r["errors"], 0)
            self.assertEqual(len(s.people()), total)
        finally:
            s.cleanup()


class MapAttributeRefused(unittest.TestCase):
    def test_bad_rules_fail_start(self):
        cases = [("noSuchAttr app_metadata.x", 'attribute "noSuchAttr" is not in the schema'),
                 ("uid app_metadata.x", '"uid" is set by the module itself'),
                 ("displayName app_metadata.x", '"displayName" is single-valued and the module already sets it'),
                 ("auth0Blocked app_metadata.x", '"auth0Blocked" is single-valued and the module already sets it'),
                 ("entryUUID app_metadata.x", '"entryUUID" is an operational attribute'),
                 ("employeeNumber app_metadata..x", 'is not a JSON path')]
        for rule, message in cases:
            with self.subTest(rule=rule):
                s = Slapd("mapbad", tenant=None)
                s.directives = {"auth0-snapshot-dir": s.dir, "auth0-map-attribute": rule}
                s.write_conf()
                try:
                    rc, out = s.run_expect_failure()
                    self.assertNotEqual(rc, 0)
                    self.assertIn(message, out)
                finally:
                    s.cleanup()


if __name__ == "__main__":
    unittest.main()
