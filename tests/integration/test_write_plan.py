"""The write plan (DESIGN.md 8.1): names that move between users in one
refresh.  Each test changes the snapshot, runs ONE refresh, and compares
every entry with a fresh import of the changed snapshot into an empty
database (the model as slapd serves it); identity (entryUUID, uidNumber)
must follow the Auth0 user_id."""
import json
import os
import unittest

import ldap

import oracle
from harness import SUFFIX, Slapd, read_ndjson, write_ndjson

# differ by design between an updated and a fresh database: the numbers a
# fresh import hands out in file order, and the counters
NOT_COMPARED = {"uidnumber", "auth0uidnumbernext", "auth0gidnumbernext"}


def dump(s):
    """{dn (lower case): {attribute (lower case): sorted values}}"""
    out = {}
    for dn, attrs in s.search(SUFFIX, "(objectClass=*)", ["*", "entryUUID"]):
        out[dn.lower()] = {k.lower(): sorted(v) for k, v in attrs.items()
                           if k.lower() not in NOT_COMPARED}
    return out


def numbers(s):
    """{user_id: (dn, entryUUID, uidNumber)}"""
    return {k: (dn, a["entryUUID"][0].decode(), a["uidNumber"][0].decode())
            for k, (dn, a) in s.people(["entryUUID", "uidNumber"]).items()}


def by_name(users, username):
    return next(u for u in users if u.get("username") == username)


def by_mail(users, mail):
    return next(u for u in users if u.get("email") == mail and not u.get("username"))


class WritePlan(unittest.TestCase):
    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1]).start()
        self.s.wait_refresh(1)
        self.path = os.path.join(self.s.snap, "users.ndjson")
        self.users = read_ndjson(self.path)
        self.before = numbers(self.s)
        self.ref = None

    def tearDown(self):
        failed = any(e for _, e in (getattr(getattr(self, "_outcome", None), "errors", None) or []))
        self.s.cleanup(ok=not failed)
        if self.ref:
            self.ref.cleanup(ok=not failed)

    def refresh(self):
        """Saves self.users, runs one refresh, checks it against the model."""
        write_ndjson(self.path, self.users)
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0, self.s.log_text()[-3000:])
        self.ref = Slapd(self.id().split(".")[-1] + "-ref", tenant=self.s.snap).start()
        self.ref.wait_refresh(1)
        got, want = dump(self.s), dump(self.ref)
        self.assertEqual(sorted(got), sorted(want))
        for dn in want:
            self.assertEqual(got[dn], want[dn], dn)
        after = numbers(self.s)
        for uid, u in oracle.uids(oracle.selected(self.users)).items():
            self.assertEqual(after[uid][1], oracle.entry_uuid(uid))
            if uid in self.before:
                self.assertEqual(after[uid][1:], self.before[uid][1:], uid)
        # a second refresh has nothing left to do
        r2 = self.s.refresh_now()
        self.assertEqual((r2["added"], r2["modified"], r2["renamed"], r2["deleted"], r2["errors"]),
                         (0, 0, 0, 0, 0))
        return r

    def entry_of(self, user_id, attrs):
        return self.s.people(attrs)[user_id]

    def test_swap_usernames_blocked_user_keeps_its_state(self):
        eve, jane = by_name(self.users, "eve"), by_name(self.users, "jane")
        self.assertTrue(eve.get("blocked"))
        eve_groups = self.entry_of(eve["user_id"], ["memberOf"])[1].get("memberOf")
        eve["username"], jane["username"] = "jane", "eve"
        r = self.refresh()
        self.assertEqual(r["renamed"], 2)
        dn, a = self.entry_of(eve["user_id"], ["uid", "auth0Blocked", "memberOf"])
        self.assertTrue(dn.startswith("uid=jane,"), dn)
        self.assertEqual(a["auth0Blocked"], [b"TRUE"])
        self.assertEqual(a.get("memberOf"), eve_groups)
        dn, a = self.entry_of(jane["user_id"], ["uid", "auth0Blocked"])
        self.assertTrue(dn.startswith("uid=eve,"), dn)
        self.assertEqual(a["auth0Blocked"], [b"FALSE"])

    def test_rotation_of_three(self):
        a, b, c = (by_name(self.users, n) for n in ("jsmith", "mrossi", "jgarcia"))
        a["username"], b["username"], c["username"] = "mrossi", "jgarcia", "jsmith"
        r = self.refresh()
        self.assertEqual(r["renamed"], 3)

    def test_swap_of_emails(self):
        a = by_mail(self.users, "aisha.bello@gmail.com")
        b = by_mail(self.users, "chenwei.dev@gmail.com")
        a["email"], b["email"] = b["email"], a["email"]
        r = self.refresh()
        self.assertEqual(r["renamed"], 2)
        dn, attrs = self.entry_of(a["user_id"], ["mail"])
        self.assertEqual(attrs["mail"], [b"chenwei.dev@gmail.com"])

    def test_rename_onto_uid_freed_by_a_delete(self):
        gone = by_name(self.users, "jmueller")
        self.users.remove(gone)
        by_name(self.users, "yamada.taro")["username"] = "jmueller"
        r = self.refresh()
        self.assertEqual((r["renamed"], r["deleted"]), (1, 1))

    def test_rename_onto_uid_freed_by_a_rename(self):
        by_name(self.users, "fnovak")["username"] = "fnovak2"
        by_name(self.users, "anunez")["username"] = "fnovak"
        r = self.refresh()
        self.assertEqual(r["renamed"], 2)

    def test_delete_and_recreate_with_same_email(self):
        old = by_mail(self.users, "bjork@example.is")
        self.users.remove(old)
        new = dict(old, user_id="auth0|7a0000003f9a1c7e52004d00",
                   identities=[dict(old["identities"][0], user_id="7a0000003f9a1c7e52004d00")])
        self.users.append(new)
        r = self.refresh()
        self.assertEqual((r["added"], r["deleted"]), (1, 1))
        dn, a = self.entry_of(new["user_id"], ["entryUUID"])
        self.assertTrue(dn.startswith("uid=bjork@example.is,"), dn)
        top = max(int(v[2]) for v in self.before.values())
        self.assertEqual(int(numbers(self.s)[new["user_id"]][2]), top + 1)

    def orgs(self, change):
        path = os.path.join(self.s.snap, "organizations.json")
        with open(path, encoding="utf-8") as f:
            orgs = {o["name"]: o for o in json.load(f)}
        change(orgs)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(list(orgs.values()), f)

    def test_organization_renamed_and_one_of_its_roles_gone(self):
        # the role entry goes where its organization moved to: deleted after the rename
        def change(orgs):
            orgs["globex"]["name"] = "globex-new"
            orgs["globex"]["members"][0]["roles"] = []
        self.orgs(change)
        r = self.refresh()
        self.assertEqual(self.s.search("cn=globex-new,ou=organizations," + SUFFIX,
                                       "(cn=Admin)", ["1.1"], ldap.SCOPE_ONELEVEL), [])

    def test_swap_of_organization_names(self):
        def change(orgs):
            orgs["globex"]["name"], orgs["initech"]["name"] = "initech", "globex"
        self.orgs(change)
        self.refresh()
        dn, _ = self.s.search("ou=organizations," + SUFFIX, "(auth0OrganizationId=org_Gx7Lk2Mn8Pq4Rs6T)",
                              ["1.1"], ldap.SCOPE_ONELEVEL)[0]
        self.assertTrue(dn.lower().startswith("cn=initech,"), dn)


if __name__ == "__main__":
    unittest.main()
