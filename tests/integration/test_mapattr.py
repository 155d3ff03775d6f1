"""auth0-map-attribute: metadata to LDAP attributes, arrays to several
values, rejected values skipped, uidNumber/gidNumber from metadata win."""
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
        self.a["app_metadata"] = {"employee_id": 4711, "uid_number": 54321}
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
        self.assertEqual(vals(a, "uidNumber"), ["54321"])          # metadata wins
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
                u["app_metadata"] = {"uid_number": 54321}
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


class MapAttributeRefused(unittest.TestCase):
    def test_bad_rules_fail_start(self):
        cases = [("noSuchAttr app_metadata.x", 'attribute "noSuchAttr" is not in the schema'),
                 ("uid app_metadata.x", '"uid" is set by the module itself'),
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
