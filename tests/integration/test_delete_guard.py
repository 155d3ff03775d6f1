"""The mass-delete guard on every container (DESIGN.md 8.1): an answer
that would remove every group or role of one source, every application or
every organization at once (a missing roles.json, an empty extension,
clients or organizations answer) keeps what is stored
and writes nothing, until olcAuth0ForceDelete allows it once."""
import json
import os
import unittest

import ldap

from harness import SUFFIX, Slapd


class ContainerGuard(unittest.TestCase):
    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1]).start()
        self.s.wait_refresh(1)

    def tearDown(self):
        failed = any(e for _, e in (getattr(getattr(self, "_outcome", None), "errors", None) or []))
        self.s.cleanup(ok=not failed)

    def count(self, ou):
        return len(self.s.search("ou=%s,%s" % (ou, SUFFIX), "(objectClass=*)", ["1.1"],
                                 ldap.SCOPE_ONELEVEL))

    def everything(self):
        return sorted((dn, sorted((k, sorted(v)) for k, v in a.items()))
                      for dn, a in self.s.search(SUFFIX, "(objectClass=*)", ["*", "+"]))

    def refused_then_forced(self, ou, message, left):
        before = self.everything()
        r = self.s.refresh_now()
        self.assertEqual(r["added"] + r["modified"] + r["renamed"] + r["deleted"], 0)
        self.assertIn(message, self.s.log_text())
        self.assertEqual(self.everything(), before)       # not one write
        self.s.config_set("olcAuth0ForceDelete", "TRUE")
        self.s.refresh_now()
        self.assertEqual(self.count(ou), left)

    def write(self, name, data):
        with open(os.path.join(self.s.snap, name), "w", encoding="utf-8") as f:
            json.dump(data, f)

    def test_missing_roles_json_keeps_roles(self):
        self.assertEqual(self.count("roles"), 13)
        os.remove(os.path.join(self.s.snap, "roles.json"))
        self.refused_then_forced(
            "roles", "would delete all 6 entries under ou=roles (auth0RoleSource rbac)", 7)

    def test_empty_extension_keeps_groups_and_roles(self):
        self.assertEqual(self.count("groups"), 15)
        self.write("authz.json", {})
        # the native groups beside the extension's stay
        self.refused_then_forced(
            "groups", "would delete all 11 entries under ou=groups (auth0GroupSource authz)", 4)
        self.assertEqual(self.count("roles"), 6)

    def test_empty_clients_keeps_applications(self):
        self.assertEqual(self.count("applications"), 5)
        self.write("clients.json", [])
        self.refused_then_forced("applications", "would delete all 5 entries under ou=applications", 0)

    def test_empty_organizations_keeps_organizations(self):
        self.assertEqual(self.count("organizations"), 2)
        self.write("organizations.json", [])
        self.refused_then_forced("organizations", "would delete all 2 entries under ou=organizations", 0)

    def test_one_of_each_may_go(self):
        with open(os.path.join(self.s.snap, "clients.json"), encoding="utf-8") as f:
            clients = json.load(f)
        self.write("clients.json", clients[1:])
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0)
        self.assertEqual(self.count("applications"), 4)


if __name__ == "__main__":
    unittest.main()
