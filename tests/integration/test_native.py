"""Native groups and organizations (DESIGN.md 8.3) on a tenant built here:
nesting three levels deep with a diamond and a cycle, a role inherited
through a nested group, names that clash between connections, member lists
longer than one page, organizations with roles; the snapshot and the API
(tests/sim) give identical entries with the fewest requests."""
import json
import os
import shutil
import tempfile
import unittest

import ldap
import ldap.filter

from harness import SAMPLE, SUFFIX, TOP, Slapd, read_ndjson, write_ndjson
from test_api import ApiBase, entries, monitor, native_requests

SAML = "con_xwbyhEDUjaclkvJA"
GOOG = "con_Ga6N3wZFa56h6clj"
DEVELOPER = "rol_tYBznk4Y8tKVpfVo"
SUPPORT = "rol_s0YmLRgUjcLaFVGf"
EXTRA = 150                                 # users added: lists past one page


def U(i):
    return {"id": i, "member_type": "user"}


def G(i):
    return {"id": i, "member_type": "group"}


def gid(name):
    """A grp_ id (base58, 16 characters) made of the name."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n = int.from_bytes(name.encode(), "big")
    out = ""
    while len(out) < 16:
        out += alphabet[n % 58]
        n = n // 58 + 7
    return "grp_" + out


def extra_user(i):
    return {"user_id": "auth0|7a%022x" % i, "email": "bulk%03d@example.net" % i,
            "username": "bulk%03d" % i, "name": "Bulk User %d" % i,
            "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z",
            "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0",
                            "user_id": "7a%022x" % i, "isSocial": False}]}


def build(dest):
    """The sample tenant plus EXTRA users, and native groups and
    organizations of every shape the tests need."""
    shutil.copytree(SAMPLE, dest)
    users = read_ndjson(os.path.join(dest, "users.ndjson"))
    bulk = [extra_user(i) for i in range(EXTRA)]
    write_ndjson(os.path.join(dest, "users.ndjson"), users + bulk)
    u = [x["user_id"] for x in users]
    b = [x["user_id"] for x in bulk]
    # Root > A > B > C (depth 3), Root > D > C (a diamond at C),
    # C > X > Y > X (a cycle below the diamond)
    groups = [
        {"id": gid("Root"), "name": "Root", "members": [G(gid("A")), G(gid("D")), U(u[0])]},
        {"id": gid("A"), "name": "A", "members": [G(gid("B")), U(u[1])], "roles": [DEVELOPER]},
        {"id": gid("B"), "name": "B", "members": [G(gid("C")), U(u[2])]},
        {"id": gid("C"), "name": "C", "members": [G(gid("X")), U(u[3])]},
        {"id": gid("D"), "name": "D", "members": [G(gid("C"))]},
        {"id": gid("X"), "name": "X", "members": [G(gid("Y")), U(u[4])]},
        {"id": gid("Y"), "name": "Y", "members": [G(gid("X")), U(u[5])]},
        # one name in two connections, and a big group
        {"id": gid("Ops saml"), "name": "Ops", "connection_id": SAML, "members": [U(u[6])]},
        {"id": gid("Ops google"), "name": "Ops", "connection_id": GOOG, "members": [U(u[7])]},
        {"id": gid("Big"), "name": "Big", "external_id": "big-1",
         "members": [U(x) for x in b] + [U("auth0|notimported")]},
    ]
    orgs = [{"id": "org_Bg7Lk2Mn8Pq4Rs6T", "name": "bigcorp", "display_name": "Big Corp",
             "members": [{"user_id": x, "roles": [{"id": SUPPORT, "name": "Support Agent"}]
                          if i % 2 else []} for i, x in enumerate(b)]}]
    for name, data in (("groups.json", groups), ("organizations.json", orgs)):
        with open(os.path.join(dest, name), "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
    return u, b


def vals(a, name):
    return [v.decode() for v in a.get(name, [])]


class NativeTenant(ApiBase):
    tenant = None

    def setUp(self):
        self.gen = tempfile.mkdtemp(prefix="native-", dir=os.path.join(TOP, "tests/tmp"))
        self.tenant = os.path.join(self.gen, "t")
        self.u, self.b = build(self.tenant)
        super().setUp()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.gen, ignore_errors=True)

    def group(self, s, name):
        res = s.search("ou=groups," + SUFFIX, "(auth0GroupId=%s)" % gid(name), ["*"])
        self.assertEqual(len(res), 1, name)
        return res[0]

    def member_ids(self, s, a):
        people = {dn.lower(): k for k, (dn, _) in s.people().items()}
        return {people[d.lower()] for d in vals(a, "member") if d}

    def test_snapshot_and_api_identical_with_fewest_requests(self):
        r = self.start()
        self.assertEqual(r["errors"], 0)
        st = self.stats()
        # the native resources' share: every member list of more than 100
        # is read in two checkpoint pages, the rest in one
        n = sum(v for k, v in st["requests"].items()
                if k.startswith(("GET /api/v2/groups", "GET /api/v2/organizations",
                                 "GET /api/v2/connections", "GET /api/v2/roles/{id}/groups")))
        self.assertEqual(n, native_requests(self.tdir))
        self.assertEqual(st["requests"]["GET /api/v2/groups/{id}/members"], 10 + 1)
        self.assertEqual(st["requests"]["GET /api/v2/organizations/{id}/members"], 2)
        snap = Slapd("native-snapshot", tenant=self.tdir).start()
        try:
            snap.wait_refresh(1)
            self.assertEqual(entries(self.s), entries(snap))
        finally:
            snap.cleanup()

    def test_depth_diamond_and_cycle(self):
        self.start()
        dn, a = self.group(self.s, "Root")
        self.assertEqual(self.member_ids(self.s, a), set(self.u[:6]))
        self.assertEqual(len(vals(a, "member")), 6, "C reached twice counts once")
        self.assertEqual(len(vals(a, "memberUid")), 6)
        for name in ("X", "Y"):
            self.assertEqual(self.member_ids(self.s, self.group(self.s, name)[1]), set(self.u[4:6]))
        # X and Y, and the extension's Auditors and Compliance
        self.assertTrue("4 group(s) nest themselves (a cycle)" in self.s.log_text())
        nested = {d.lower() for d in vals(a, "auth0NestedGroup")}
        self.assertEqual(nested, {self.group(self.s, n)[0].lower() for n in ("A", "D")})
        # a user three levels down is in the root, in chain or not
        deep = self.s.people()[self.u[3]][0]
        c = self.s.conn()
        try:
            for rule in ("member", "member:1.2.840.113556.1.4.1941:"):
                res = c.search_s("ou=groups," + SUFFIX, ldap.SCOPE_ONELEVEL, "(&(auth0GroupSource=auth0)(%s=%s))" % (
                    rule, ldap.filter.escape_filter_chars(deep)), ["cn"])
                self.assertEqual({vals(x, "cn")[0] for _, x in res}, {"Root", "A", "B", "C", "D"})
        finally:
            c.unbind_s()

    def test_role_through_nested_group_and_clash(self):
        self.start()
        res = self.s.search("ou=roles," + SUFFIX, "(auth0RoleId=%s)" % DEVELOPER, ["member"])
        holders = self.member_ids(self.s, res[0][1])
        # A holds Developer: A's members at every depth below it inherit it
        self.assertTrue({self.u[1], self.u[2], self.u[3], self.u[4], self.u[5]} <= holders)
        self.assertIn(res[0][0], vals(self.s.people(["memberOf"])[self.u[3]][1], "memberOf"))
        low, high = sorted([gid("Ops saml"), gid("Ops google")])
        self.assertEqual(vals(self.group(self.s, "Ops saml" if low == gid("Ops saml") else "Ops google")[1],
                              "cn"), ["Ops"])
        other = "Ops google" if low == gid("Ops saml") else "Ops saml"
        self.assertEqual(vals(self.group(self.s, other)[1], "cn"), ["Ops (%s)" % high])
        self.assertEqual(self.s.log_text().count('its name "Ops" is taken'), 1)

    def test_big_lists_and_organization_roles(self):
        self.start()
        dn, a = self.group(self.s, "Big")
        self.assertEqual(self.member_ids(self.s, a), set(self.b))   # the unknown user left out
        self.assertEqual(vals(a, "auth0ExternalId"), ["big-1"])
        self.assertEqual(vals(a, "auth0GroupType"), ["tenant"])
        org = self.s.search("ou=organizations," + SUFFIX, "(auth0OrganizationId=org_Bg7Lk2Mn8Pq4Rs6T)",
                            ["*"], ldap.SCOPE_ONELEVEL)
        self.assertEqual(len(self.member_ids(self.s, org[0][1])), EXTRA)
        role = self.s.search(org[0][0], "(objectClass=auth0OrganizationRole)", ["*"], ldap.SCOPE_ONELEVEL)
        self.assertEqual(role[0][0].lower(), ("cn=Support Agent," + org[0][0]).lower())
        self.assertEqual(self.member_ids(self.s, role[0][1]), set(self.b[1::2]))
        m = monitor(self.s)
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(m["auth0MonOrganizations"], "1")

    def test_organization_renamed_with_its_roles(self):
        self.start()
        path = os.path.join(self.tdir, "organizations.json")
        with open(path, encoding="utf-8") as f:
            orgs = json.load(f)
        orgs[0]["name"] = "megacorp"
        with open(path, "w", encoding="utf-8") as f:
            json.dump(orgs, f)
        self.sim.tenant = type(self.sim.tenant)(self.tdir)
        r = self.s.refresh_now(timeout=120)
        self.assertEqual((r["errors"], r["renamed"]), (0, 0))       # users do not move
        base = "cn=megacorp,ou=organizations," + SUFFIX
        role = self.s.search(base, "(objectClass=auth0OrganizationRole)", ["member"], ldap.SCOPE_ONELEVEL)
        self.assertEqual(len(role), 1)
        self.assertEqual(len(self.member_ids(self.s, role[0][1])), EXTRA // 2)
        people = self.s.people(["memberOf"])
        self.assertIn(("cn=Support Agent," + base).lower(),
                      {v.lower() for v in vals(people[self.b[1]][1], "memberOf")})
        r = self.s.refresh_now(timeout=120)
        self.assertEqual(r["added"] + r["modified"] + r["deleted"] + r["errors"], 0)

    def test_native_403_keeps_native_groups_and_applies_the_extension(self):
        self.start()
        before = {dn: a for dn, a in entries(self.s).items()
                  if ",ou=groups," in dn and a.get("auth0groupsource") == [b"auth0"]}
        roles = {dn: a for dn, a in entries(self.s).items() if ",ou=roles," in dn}
        # upstream: a native group and an extension group both change
        path = os.path.join(self.tdir, "groups.json")
        with open(path, encoding="utf-8") as f:
            groups = json.load(f)
        groups = [g for g in groups if g["name"] != "Big"]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(groups, f)
        path = os.path.join(self.tdir, "authz.json")
        with open(path, encoding="utf-8") as f:
            authz = json.load(f)
        alumni = next(g for g in authz["groups"] if g["name"] == "Alumni")
        alumni["members"] = [self.u[9]]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(authz, f)
        self.sim.tenant = type(self.sim.tenant)(self.tdir)
        self.sim.faults.add([{"path_prefix": "/api/v2/groups/", "status": 403,
                              "body": {"statusCode": 403, "error": "Forbidden",
                                       "message": "Insufficient scope, expected any of: read:group_members",
                                       "errorCode": "insufficient_scope"}}])
        r = self.s.refresh_now(timeout=120)
        self.sim.faults.clear()
        after = entries(self.s)
        self.assertEqual({dn: a for dn, a in after.items()
                          if ",ou=groups," in dn and a.get("auth0groupsource") == [b"auth0"]}, before)
        self.assertEqual({dn: a for dn, a in after.items() if ",ou=roles," in dn}, roles)
        dn, a = next((dn, a) for dn, a in after.items() if dn.startswith("cn=alumni,ou=groups"))
        self.assertEqual(len([m for m in a["member"] if m]), 1)
        m = monitor(self.s)
        self.assertEqual(m["auth0MonFailedResources"], "group_members")
        self.assertIn("read:group_members", m["auth0MonLastError"])
        # the scope is back: Big goes
        r = self.s.refresh_now(timeout=120)
        self.assertEqual(monitor(self.s)["auth0MonFailedResources"], "none")
        self.assertEqual(self.s.search("ou=groups," + SUFFIX, "(auth0GroupId=%s)" % gid("Big"), ["1.1"]), [])

    def test_changes_follow_and_organization_goes_with_its_roles(self):
        self.start()
        path = os.path.join(self.tdir, "groups.json")
        with open(path, encoding="utf-8") as f:
            groups = json.load(f)
        # D leaves Root: C is still reached through A > B
        root = next(g for g in groups if g["name"] == "Root")
        root["members"] = [m for m in root["members"] if m["id"] != gid("D")]
        with open(path, "w", encoding="utf-8") as f:
            json.dump(groups, f)
        os.remove(os.path.join(self.tdir, "organizations.json"))
        self.sim.tenant = type(self.sim.tenant)(self.tdir)
        # every organization at once: the mass-delete guard keeps them
        # and writes nothing (DESIGN.md 8.1) until a deletion is forced
        r = self.s.refresh_now(timeout=120)
        self.assertEqual(r["added"] + r["modified"] + r["renamed"] + r["deleted"], 0)
        self.assertIn("entries under ou=organizations", self.s.log_text())
        self.assertNotEqual(self.s.search("ou=organizations," + SUFFIX, "(objectClass=groupOfNames)",
                                          ["1.1"]), [])
        self.s.config_set("olcAuth0ForceDelete", "TRUE")
        r = self.s.refresh_now(timeout=120)
        self.assertEqual(r["errors"], 0)
        dn, a = self.group(self.s, "Root")
        self.assertEqual(self.member_ids(self.s, a), set(self.u[:6]))
        self.assertEqual(len(vals(a, "auth0NestedGroup")), 1)
        self.assertEqual(self.s.search("ou=organizations," + SUFFIX, "(objectClass=groupOfNames)",
                                       ["1.1"]), [])
        people = self.s.people(["memberOf"])
        self.assertFalse(any("ou=organizations" in v for _, a in people.values()
                             for v in vals(a, "memberOf")))


class UnselectedConnection(unittest.TestCase):
    """auth0-connection selects the database: the acme-saml connection's
    groups are imported with only the members that are imported."""

    def test_groups_of_unselected_connections(self):
        s = Slapd("native-select", directives=None)
        s.directives["auth0-connection"] = "Username-Password-Authentication"
        s.write_conf()
        s.start()
        try:
            r = s.wait_refresh(1)
            self.assertEqual(r["errors"], 0)
            res = {vals(a, "cn")[0]: a for _, a in s.search("ou=groups," + SUFFIX, "(auth0GroupSource=auth0)",
                                                           ["cn", "member", "memberUid", "auth0Connection"])}
            self.assertEqual(set(res), {"Workforce", "Engineering Staff", "Backend",
                                        "Finance (grp_9Fs4Jh7Dk2Lq6Pz8Xc)"})
            self.assertEqual(vals(res["Engineering Staff"], "auth0Connection"), ["acme-saml"])
            self.assertEqual(set(vals(res["Backend"], "memberUid")), {"lzolc"})        # mei.tanaka is SAML
            self.assertEqual(set(vals(res["Workforce"], "memberUid")), {"lzolc", "rkumar", "anunez"})
            self.assertEqual(vals(res["Finance (grp_9Fs4Jh7Dk2Lq6Pz8Xc)"], "member"), [""])   # Google only
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
