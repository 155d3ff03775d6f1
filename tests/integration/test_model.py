"""Groups (nested, flattened, mappings), roles, applications, memberOf and
the default queries of common LDAP clients, against a real slapd."""
import json
import os
import unittest

import ldap
import ldap.filter

from harness import SUFFIX, Slapd
from model_oracle import Tenant


def vals(attrs, name):
    return [v.decode("utf-8") for v in attrs.get(name, [])]


class Model(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Slapd("model").start()
        cls.s.wait_refresh(1)
        cls.t = Tenant(cls.s.snap)
        cls.people = cls.s.people(["uid", "memberOf"])
        cls.dn2id = {dn.lower(): k for k, (dn, a) in cls.people.items()}
        cls.groups = cls.by_key("groups", "auth0GroupId")
        cls.roles = cls.by_key("roles", "auth0RoleId")
        cls.apps = cls.by_key("applications", "auth0ClientId")
        cls.orgs = cls.by_key("organizations", "auth0OrganizationId")
        res = cls.s.search("ou=organizations," + SUFFIX, "(objectClass=auth0OrganizationRole)", ["*"])
        cls.orgroles = {a["auth0OrganizationRoleId"][0].decode(): (dn, a) for dn, a in res}

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    @classmethod
    def by_key(cls, ou, key):
        res = cls.s.search("ou=%s,%s" % (ou, SUFFIX), "(%s=*)" % key, ["*", "+"], ldap.SCOPE_ONELEVEL)
        return {a[key][0].decode(): (dn, a) for dn, a in res}

    def group_members(self, gid):
        """Expected members of a group of either source."""
        if gid in self.t.native:
            return self.t.native_members(gid)
        return self.t.group_members(gid)

    def members(self, attrs):
        dns = [d for d in vals(attrs, "member") if d]
        return {self.dn2id[d.lower()] for d in dns}

    def test_sample_has_the_interesting_shapes(self):
        self.assertTrue(any(self.t.in_cycle(g) for g in self.t.groups), "a nesting cycle")
        self.assertTrue(any(g.get("mappings") for g in self.t.groups.values()), "a mapping")
        self.assertTrue(any(self.t.mapped(g) for g in self.t.groups.values()), "a mapped user")
        depth = max(len(self.t.reachable(g)) for g in self.t.groups)
        self.assertGreaterEqual(depth, 2, "nesting deeper than one level")

    def test_sample_has_native_shapes(self):
        self.assertGreaterEqual(max(self.t.native_depth(g) for g in self.t.native), 2, "nested two levels")
        self.assertTrue(any(g.get("roles") for g in self.t.native.values()), "a group with a role")
        types = {"connection" if g.get("connection_id") else "tenant" for g in self.t.native.values()}
        self.assertEqual(types, {"connection", "tenant"})
        names = [g["name"] for g in self.t.groups.values()] + [g["name"] for g in self.t.native.values()]
        self.assertLess(len(set(names)), len(names), "a name clash")
        self.assertEqual(len(self.t.orgs), 2)
        self.assertTrue(all(self.t.org_roles(o) for o in self.t.orgs))

    def test_groups_flattened(self):
        self.assertEqual(set(self.groups), set(self.t.groups) | set(self.t.native))
        for gid, (dn, a) in self.groups.items():
            want = self.group_members(gid)
            self.assertEqual(self.members(a), want, dn)
            self.assertEqual(sorted(vals(a, "uniqueMember")), sorted(d for d in vals(a, "member") if d)
                             if want else [])
            uids = {vals(self.people[u][1], "uid")[0] for u in want}
            self.assertEqual(set(vals(a, "memberUid")), uids, dn)
            name = (self.t.native.get(gid) or self.t.groups.get(gid))["name"]
            self.assertIn(vals(a, "cn")[0], (name, "%s (%s)" % (name, gid)))
            self.assertEqual(vals(a, "auth0GroupSource"), ["auth0" if gid in self.t.native else "authz"])

    def test_nested_and_role_references(self):
        for gid, (dn, a) in self.groups.items():
            nested = {self.groups_dn_to_id(d) for d in vals(a, "auth0NestedGroup")}
            if gid in self.t.native:
                self.assertEqual(nested, set(self.t.native_children(gid)), dn)
                roles = {self.role_dn_to_id(d) for d in vals(a, "auth0RoleRef")}
                self.assertEqual(roles, set(self.t.native[gid].get("roles") or []), dn)
                continue
            self.assertEqual(nested, {c for c in self.t.groups[gid].get("nested") or [] if c in self.t.groups})
            roles = {self.role_dn_to_id(d) for d in vals(a, "auth0RoleRef")}
            self.assertEqual(roles, {r for r in self.t.groups[gid].get("roles") or [] if r in self.t.authz_roles})

    def groups_dn_to_id(self, dn):
        return next(k for k, (d, a) in self.groups.items() if d.lower() == dn.lower())

    def role_dn_to_id(self, dn):
        return next(k for k, (d, a) in self.roles.items() if d.lower() == dn.lower())

    def test_cycle_reported(self):
        n = sum(1 for g in self.t.groups if self.t.in_cycle(g)) + \
            sum(1 for g in self.t.native if self.t.native_in_cycle(g))
        self.assertIn("%d group(s) nest themselves (a cycle)" % n, self.s.log_text())

    def test_roles(self):
        self.assertEqual(set(self.roles), {r["id"] for r in self.t.roles} | set(self.t.authz_roles))
        for role in self.t.roles:
            dn, a = self.roles[role["id"]]
            self.assertEqual(self.members(a), self.t.rbac_members(role), dn)
            self.assertEqual(vals(a, "auth0RoleSource"), ["rbac"])
            self.assertEqual(set(vals(a, "auth0Permission")),
                             {p["permission_name"] for p in role.get("permissions") or []})
        for rid, role in self.t.authz_roles.items():
            dn, a = self.roles[rid]
            self.assertEqual(self.members(a), self.t.authz_role_members(rid), dn)
            self.assertEqual(vals(a, "auth0RoleSource"), ["authz"])
            self.assertEqual(set(vals(a, "auth0Permission")),
                             {self.t.permissions[p]["name"] for p in role.get("permissions") or []
                              if p in self.t.permissions})
            if role.get("applicationId") in self.apps:
                self.assertEqual(vals(a, "auth0ApplicationRef"), [self.apps[role["applicationId"]][0]])

    def test_role_dns_unique_when_names_clash(self):
        cns = [vals(a, "cn")[0].lower() for dn, a in self.roles.values()]
        self.assertEqual(len(cns), len(set(cns)))
        names = [r["name"].lower() for r in self.t.roles] + [r["name"].lower() for r in self.t.authz_roles.values()]
        self.assertLess(len(set(names)), len(names), "the sample should have two roles with one name")
        for dn, a in self.roles.values():
            rid = vals(a, "auth0RoleId")[0]
            if rid in self.t.authz_roles and any(r["name"].lower() == self.t.authz_roles[rid]["name"].lower()
                                                 for r in self.t.roles):
                self.assertEqual(vals(a, "cn")[0], "%s (%s)" % (self.t.authz_roles[rid]["name"], rid))

    def test_applications(self):
        self.assertEqual(set(self.apps), {c["client_id"] for c in self.t.clients})
        for c in self.t.clients:
            dn, a = self.apps[c["client_id"]]
            self.assertEqual(self.members(a), self.t.client_members(c["client_id"]), dn)
            if c.get("app_type"):
                self.assertEqual(vals(a, "auth0AppType"), [c["app_type"]])
            self.assertEqual(set(vals(a, "auth0Connection")), self.t.client_connections(c["client_id"]), dn)
        self.assertTrue(any(self.t.client_members(c["client_id"]) for c in self.t.clients),
                        "some application should be reached through group -> role -> app")

    def test_member_of_consistent(self):
        expect = {k: set() for k in self.people}
        for ents in (self.groups, self.roles, self.apps, self.orgs, self.orgroles):
            for dn, a in ents.values():
                for u in self.members(a):
                    expect[u].add(dn.lower())
        for k, (dn, a) in self.people.items():
            self.assertEqual({d.lower() for d in vals(a, "memberOf")}, expect[k], dn)

    def test_member_of_filter_and_compare(self):
        c = self.s.conn()
        for gid, (gdn, a) in list(self.groups.items()):
            res = c.search_s("ou=people," + SUFFIX, ldap.SCOPE_ONELEVEL,
                             "(memberOf=%s)" % ldap.filter.escape_filter_chars(gdn), ["1.1"])
            self.assertEqual({self.dn2id[d.lower()] for d, _ in res}, self.members(a), gdn)
            for u in self.members(a):
                self.assertTrue(c.compare_s(self.people[u][0], "memberOf", gdn.encode()))
        c.unbind_s()

    def test_client_default_filters(self):
        c = self.s.conn()
        # sssd / nslcd / Grafana: posixGroup with memberUid and gidNumber
        res = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=posixGroup)", ["cn", "gidNumber", "memberUid"])
        self.assertEqual(len(res), len(self.groups) + len(self.roles))
        self.assertTrue(all("gidNumber" in a for dn, a in res))
        some = next(u for u in self.people if vals(self.people[u][1], "memberOf"))
        dn, a = self.people[some]
        uid = vals(a, "uid")[0]
        res = c.search_s("ou=groups," + SUFFIX, ldap.SCOPE_SUBTREE,
                         "(&(objectClass=posixGroup)(memberUid=%s))" % ldap.filter.escape_filter_chars(uid), ["cn"])
        want = {g for g, (gdn, ga) in self.groups.items() if some in self.members(ga)}
        self.assertEqual(len(res), len(want))
        # GitLab / Nextcloud / Keycloak: groupOfNames with member
        res = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE,
                         "(&(objectClass=groupOfNames)(member=%s))" % ldap.filter.escape_filter_chars(dn), ["cn"])
        self.assertEqual({d.lower() for d, _ in res}, {d.lower() for d in vals(a, "memberOf")})
        # Jenkins / Apache: uniqueMember
        res = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE,
                         "(uniqueMember=%s)" % ldap.filter.escape_filter_chars(dn), ["cn"])
        self.assertEqual({d.lower() for d, _ in res}, {d.lower() for d in vals(a, "memberOf")})
        c.unbind_s()

    def test_in_chain_matching_rule(self):
        c = self.s.conn()
        for gid, (gdn, a) in self.groups.items():
            f = ldap.filter.escape_filter_chars(gdn)
            chain = c.search_s("ou=people," + SUFFIX, ldap.SCOPE_ONELEVEL,
                               "(memberOf:1.2.840.113556.1.4.1941:=%s)" % f, ["1.1"])
            plain = c.search_s("ou=people," + SUFFIX, ldap.SCOPE_ONELEVEL, "(memberOf=%s)" % f, ["1.1"])
            self.assertEqual(sorted(d for d, _ in chain), sorted(d for d, _ in plain), gdn)
            self.assertEqual({self.dn2id[d.lower()] for d, _ in chain}, self.group_members(gid))
        some = next(u for u in self.people if vals(self.people[u][1], "memberOf"))
        udn = self.people[some][0]
        res = c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(member:1.2.840.113556.1.4.1941:=%s)"
                         % ldap.filter.escape_filter_chars(udn), ["1.1"])
        self.assertEqual({d.lower() for d, _ in res}, {d.lower() for d in vals(self.people[some][1], "memberOf")})
        c.unbind_s()

    def test_imported_tree_is_read_only(self):
        c = self.s.conn()     # even the rootdn
        udn = next(iter(self.people.values()))[0]
        gdn = next(iter(self.groups.values()))[0]
        attempts = [
            lambda: c.modify_s(udn, [(ldap.MOD_REPLACE, "cn", [b"x"])]),
            lambda: c.delete_s(gdn),
            lambda: c.add_s("uid=intruder,ou=people," + SUFFIX,
                            [("objectClass", [b"inetOrgPerson"]), ("uid", [b"intruder"]),
                             ("cn", [b"i"]), ("sn", [b"i"])]),
            lambda: c.rename_s(udn, "uid=renamed"),
            lambda: c.delete_s("ou=roles," + SUFFIX),
        ]
        for attempt in attempts:
            with self.assertRaises(ldap.UNWILLING_TO_PERFORM) as cm:
                attempt()
            self.assertIn("read-only", cm.exception.args[0].get("info", ""))
        # the rest of the database stays writable, but not into the tree
        c.add_s("ou=services," + SUFFIX, [("objectClass", [b"organizationalUnit"]), ("ou", [b"services"])])
        c.add_s("cn=svc,ou=services," + SUFFIX, [("objectClass", [b"organizationalRole"]), ("cn", [b"svc"])])
        c.modify_s("cn=svc,ou=services," + SUFFIX, [(ldap.MOD_ADD, "description", [b"ok"])])
        with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
            c.rename_s("cn=svc,ou=services," + SUFFIX, "cn=svc", "ou=people," + SUFFIX)
        c.delete_s("cn=svc,ou=services," + SUFFIX)
        c.delete_s("ou=services," + SUFFIX)
        c.unbind_s()

    def test_native_group_attributes(self):
        for gid, g in self.t.native.items():
            dn, a = self.groups[gid]
            kind = "connection" if g.get("connection_id") else "tenant"
            self.assertEqual(vals(a, "auth0GroupType"), [kind], dn)
            conn = [c["name"] for c in self.t.connections if c["id"] == g.get("connection_id")]
            self.assertEqual(vals(a, "auth0Connection"), conn, dn)
            self.assertEqual(vals(a, "auth0ExternalId"), [g["external_id"]] if g.get("external_id") else [])
            self.assertEqual(vals(a, "description"), [g["description"]] if g.get("description") else [])
            self.assertIn(b"posixGroup", a["objectClass"])
        # the clash: the extension's group keeps its name, the native one gets its id
        ext = next(gid for gid, g in self.t.groups.items() if g["name"] == "Finance")
        self.assertEqual(vals(self.groups[ext][1], "cn"), ["Finance"])
        nat = next(gid for gid, g in self.t.native.items() if g["name"] == "Finance")
        self.assertEqual(vals(self.groups[nat][1], "cn"), ["Finance (%s)" % nat])
        self.assertEqual(self.s.log_text().count("its name \"Finance\" is taken"), 1)

    def test_role_inherited_through_nested_native_group(self):
        role = next(r for r in self.t.roles if any(r["id"] in (g.get("roles") or [])
                                                   for g in self.t.native.values()))
        dn, a = self.roles[role["id"]]
        parent = next(gid for gid, g in self.t.native.items()
                      if role["id"] in (g.get("roles") or []) and self.t.native_children(gid))
        child = self.t.native_children(parent)[0]
        holder = sorted(self.t.native_members(child) - set(role.get("members") or []))[0]
        self.assertIn(holder, self.members(a))
        self.assertIn(dn.lower(), {d.lower() for d in vals(self.people[holder][1], "memberOf")})

    def test_organizations_and_their_roles(self):
        self.assertEqual(set(self.orgs), set(self.t.orgs))
        for oid, org in self.t.orgs.items():
            dn, a = self.orgs[oid]
            self.assertEqual(dn.lower(), ("cn=%s,ou=organizations,%s" % (org["name"], SUFFIX)).lower())
            self.assertEqual(vals(a, "displayName"), [org["display_name"]])
            self.assertEqual(self.members(a), self.t.org_members(oid))
            self.assertNotIn(b"posixGroup", a["objectClass"])
            for rid, name in self.t.org_roles(oid).items():
                rdn, ra = self.orgroles["%s/%s" % (oid, rid)]
                self.assertEqual(rdn.lower(), ("cn=%s,%s" % (name, dn)).lower())
                self.assertEqual(self.members(ra), self.t.org_role_members(oid, rid))
                self.assertEqual(vals(ra, "auth0RoleRef"), [self.roles[rid][0]])
        self.assertEqual(len(self.orgroles), sum(len(self.t.org_roles(o)) for o in self.t.orgs))

    def test_member_of_filters_for_each_new_kind(self):
        c = self.s.conn()
        kinds = [self.orgs, self.orgroles, {g: self.groups[g] for g in self.t.native}]
        for ents in kinds:
            for key, (edn, a) in ents.items():
                f = ldap.filter.escape_filter_chars(edn)
                for filt in ("(memberOf=%s)", "(memberOf:1.2.840.113556.1.4.1941:=%s)"):
                    res = c.search_s("ou=people," + SUFFIX, ldap.SCOPE_ONELEVEL, filt % f, ["1.1"])
                    self.assertEqual({self.dn2id[d.lower()] for d, _ in res}, self.members(a), edn)
                for u in self.members(a):
                    self.assertTrue(c.compare_s(self.people[u][0], "memberOf", edn.encode()))
                outsider = next(u for u in self.people
                                if u not in self.members(a) and vals(self.people[u][1], "memberOf"))
                self.assertFalse(c.compare_s(self.people[outsider][0], "memberOf", edn.encode()))
        c.unbind_s()

    def test_gid_numbers_unique_and_outside_primary(self):
        gids = [int(vals(a, "gidNumber")[0]) for ents in (self.groups, self.roles) for dn, a in ents.values()]
        self.assertEqual(len(gids), len(set(gids)))
        self.assertTrue(all(100000 < g <= 199999 for g in gids))


class ModelChanges(unittest.TestCase):
    def setUp(self):
        self.s = Slapd("modelchg").start()
        self.s.wait_refresh(1)

    def tearDown(self):
        self.s.cleanup()

    def gids(self):
        res = self.s.search(SUFFIX, "(&(objectClass=posixGroup)(|(auth0GroupId=*)(auth0RoleId=*)))",
                            ["gidNumber", "auth0GroupId", "auth0RoleId"])
        return {(a.get("auth0GroupId") or a.get("auth0RoleId"))[0]: a["gidNumber"][0] for dn, a in res}

    def test_gids_stable_across_restart(self):
        before = self.gids()
        self.s.stop()
        self.s.start()
        self.s.wait_refresh(2)
        self.assertEqual(self.gids(), before)

    def test_removed_user_leaves_every_group(self):
        t = Tenant(self.s.snap)
        gone = next(u for u in t.users if any(u["user_id"] in t.group_members(g) for g in t.groups))
        dn = self.s.people()[gone["user_id"]][0]
        path = os.path.join(self.s.snap, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            lines = [l for l in f if json.loads(l)["user_id"] != gone["user_id"]]
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        r = self.s.refresh_now()
        self.assertEqual(r["deleted"], 1)
        for filt in ("(member=%s)", "(uniqueMember=%s)"):
            res = self.s.search(SUFFIX, filt % ldap.filter.escape_filter_chars(dn), ["1.1"])
            self.assertEqual(res, [], filt)
        uid = gone.get("username") or gone.get("email") or gone["user_id"]
        res = self.s.search(SUFFIX, "(memberUid=%s)" % ldap.filter.escape_filter_chars(uid), ["1.1"])
        self.assertEqual(res, [])

    def test_membership_change_touches_only_affected_entries(self):
        path = os.path.join(self.s.snap, "authz.json")
        with open(path, encoding="utf-8") as f:
            authz = json.load(f)
        t = Tenant(self.s.snap)
        leaf = next(g for g in authz["groups"] if not g.get("nested") and not t.in_cycle(g["_id"]))
        newcomer = next(u["user_id"] for u in t.users if u["user_id"] not in t.group_members(leaf["_id"]))
        leaf.setdefault("members", []).append(newcomer)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(authz, f)
        csn = lambda: {dn: a["entryCSN"][0] for dn, a in self.s.search(SUFFIX, "(objectClass=*)", ["entryCSN"])}
        before = csn()
        r = self.s.refresh_now()
        after = csn()
        changed = {dn for dn in after if before.get(dn) != after[dn]}
        t2 = Tenant(self.s.snap)
        # the groups (and their roles/apps) that gained the user, and the user
        self.assertIn(self.s.people()[newcomer][0], changed)
        self.assertEqual(r["modified"], 1)
        self.assertTrue(all(",ou=people," not in dn or dn == self.s.people()[newcomer][0] for dn in changed))
        gained = {g for g in t2.groups if newcomer in t2.group_members(g) and newcomer not in t.group_members(g)}
        self.assertTrue(gained)


if __name__ == "__main__":
    unittest.main()
