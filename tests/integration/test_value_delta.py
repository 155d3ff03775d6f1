"""Value deltas (DESIGN.md 8.1): one member more or less in a big group is
written as that one value (LDAP_MOD_ADD / LDAP_MOD_DELETE), not as a
replace of the whole list, as accesslog's reqMod shows; values in another
order are no change."""
import json
import os
import unittest

import ldap

from harness import SUFFIX, read_ndjson
from test_replication_delta import LOGBASE, AccesslogProvider

ALUMNI = "80022620"


class ValueDelta(unittest.TestCase):
    def setUp(self):
        self.s = AccesslogProvider(self.id().split(".")[-1], extra_db="\n".join([
            "overlay accesslog", 'logdb "%s"' % LOGBASE, "logops writes", "logsuccess TRUE"]))
        self.s.modules = ["syncprov", "accesslog"]
        self.s.write_conf()
        self.authz_path = os.path.join(self.s.snap, "authz.json")
        with open(self.authz_path, encoding="utf-8") as f:
            self.authz = json.load(f)
        self.group = next(g for g in self.authz["groups"] if g["_id"].startswith(ALUMNI))
        self.users = [u["user_id"] for u in read_ndjson(os.path.join(self.s.snap, "users.ndjson"))]
        self.group["members"] = self.users[1:]          # a big group: all but one
        self.save()
        self.s.start()
        self.s.wait_refresh(1)
        self.dn = self.s.search("ou=groups," + SUFFIX, "(cn=Alumni)", ["1.1"], ldap.SCOPE_ONELEVEL)[0][0]

    def tearDown(self):
        failed = any(e for _, e in (getattr(getattr(self, "_outcome", None), "errors", None) or []))
        self.s.cleanup(ok=not failed)

    def save(self):
        with open(self.authz_path, "w", encoding="utf-8") as f:
            json.dump(self.authz, f)

    def reqmods(self, dn):
        """reqMod values of the log entries of dn written since the last call."""
        res = self.s.search(LOGBASE, "(&(reqType=modify)(reqDN=%s))" % dn, ["reqMod", "reqStart"],
                            ldap.SCOPE_ONELEVEL)
        res.sort(key=lambda r: r[1]["reqStart"][0])
        new = res[getattr(self, "_seen", {}).get(dn, 0):]
        self.__dict__.setdefault("_seen", {})[dn] = len(res)
        return [v.decode() for _, a in new for v in a.get("reqMod", [])]

    def members(self):
        a = self.s.search(self.dn, "(objectClass=*)", ["member"], ldap.SCOPE_BASE)[0][1]
        return len(a.get("member", []))

    def test_one_member_more_then_two_less(self):
        self.reqmods(self.dn)
        self.assertEqual(self.members(), len(self.users) - 1)
        people = self.s.people(["uid"])
        newcomer = people[self.users[0]][0]
        self.group["members"] = self.users
        self.save()
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0)
        mods = [m for m in self.reqmods(self.dn) if not m.split(":")[0] in (
            "modifiersName", "modifyTimestamp", "entryCSN")]
        uid = people[self.users[0]][1]["uid"][0].decode()
        self.assertEqual(sorted(mods), sorted(["member:+ " + newcomer, "uniqueMember:+ " + newcomer,
                                               "memberUid:+ " + uid]))
        self.assertEqual(self.members(), len(self.users))
        # the user's memberOf gains one value too
        self.assertIn("memberOf:+ " + self.dn, self.reqmods(newcomer))
        # two less
        gone = [people[u][0] for u in self.users[5:7]]
        self.group["members"] = self.users[:5] + self.users[7:]
        self.save()
        self.s.refresh_now()
        mods = [m for m in self.reqmods(self.dn) if m.startswith("member:")]
        self.assertEqual(sorted(mods), sorted("member:- " + d for d in gone))
        self.assertEqual(self.members(), len(self.users) - 2)

    def test_other_order_is_no_change(self):
        self.reqmods(self.dn)
        self.group["members"] = list(reversed(self.users[1:]))
        self.save()
        r = self.s.refresh_now()
        self.assertEqual(r["errors"], 0)
        self.assertEqual(self.reqmods(self.dn), [])


if __name__ == "__main__":
    unittest.main()
