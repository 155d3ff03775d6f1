"""The LDAP settings of Jenkins, GitLab, Nextcloud, Grafana and Keycloak in
examples/clients/apps/, checked against the module.

None of these applications is a Debian 12 package, so each test reads the
example file and runs, with python3-ldap, the queries that application
builds from those settings as its own code does: the service-account bind,
the user search by login (filter, base, scope, attributes), the bind as the
user with the typed password (the module asks the Auth0 simulator), and the
group lookups both ways (the user's memberOf, and a search of the groups'
member/uniqueMember/memberUid).  The transport is the one the example
configures (StartTLS, or ldaps:// for Jenkins).  Results are checked
against the sample tenant (tests/data/README.md)."""
import json
import os
import re
import shlex
import tomllib
import unittest

import ldap
import ldap.dn
import yaml
from ldap.controls import SimplePagedResultsControl
from ldap.filter import escape_filter_chars

import clients
from clients import (CARLOS, FNOVAK, JANE, JANE_GROUPS, MROSSI, PASSWORDS, READER, SAMPLE, SIOBHAN, SIOBHAN_GROUPS,
                     SRE_SIZE, USERS, can_bind, connect)

GLINDQVIST = "auth0|612f41103f9a1c7e52004aeb"        # Platform (so Engineering, Acme Corp); RBAC Admin
EVE = "auth0|61dc367c3f9a1c7e52004aec"               # blocked in Auth0
ALL_GROUPS = {"Acme Corp", "Engineering", "Platform", "SRE", "On-Call", "Data", "Web + Mobile", "Finance",
              "Auditors", "Compliance", "Alumni",
              # native groups (groups.json); the second Finance is named by the roles' rule
              "Workforce", "Engineering Staff", "Backend", "Finance (grp_9Fs4Jh7Dk2Lq6Pz8Xc)"}
LZOLC = "auth0|65082db03f9a1c7e52004bff"             # native Backend < Engineering Staff < Workforce
NATIVE_LZOLC = {"Workforce", "Engineering Staff", "Backend"}
WORKFORCE_SIZE = 6

with open(os.path.join(SAMPLE, "authz.json"), encoding="utf-8") as _f:
    _AUTHZ_ADMIN = next(r["_id"] for r in json.load(_f)["roles"] if r["name"] == "Admin")
# jane's roles (README "Roles"): RBAC Admin and Developer; through SRE the
# extension roles Jenkins Admin and Admin (Grafana, named apart from the RBAC
# Admin), through Engineering Jenkins Developer, Platform Grafana Viewer,
# Acme Corp Expense User
JANE_ROLES = {"Admin", "Developer", "Jenkins Admin", "Admin (%s)" % _AUTHZ_ADMIN, "Jenkins Developer",
              "Grafana Viewer", "Expense User"}
ACTIVE_USERS = sum(1 for u in USERS.values() if not u.get("blocked"))

srv = None


def setUpModule():
    global srv
    srv = clients.Server("apps")


def tearDownModule():
    srv.close()


def text(attrs, name):
    """Values of attribute `name` (case-insensitive, as JNDI and PHP see them)."""
    for k, v in attrs.items():
        if k.lower() == name.lower():
            return [x.decode("utf-8") for x in v]
    return []


def rdn_value(dn):
    return ldap.dn.str2dn(dn)[0][0][1]


def paged(conn, base, scope, filt, attrs, size):
    """All entries of a search done with RFC 2696 paging, as the apps page."""
    ctrl = SimplePagedResultsControl(True, size=size, cookie=b"")
    out = []
    while True:
        msgid = conn.search_ext(base, scope, filt, attrs, serverctrls=[ctrl])
        _, res, _, ctrls = conn.result3(msgid)
        out += [(dn, a) for dn, a in res if dn]
        cookie = next(c.cookie for c in ctrls if c.controlType == SimplePagedResultsControl.controlType)
        if not cookie:
            return out
        ctrl.cookie = cookie


class AppBase(unittest.TestCase):
    def dn(self, user_id):
        return srv.dn(user_id)

    def assertJane(self, attrs):
        u = USERS[JANE]
        self.assertEqual(text(attrs, "uid"), [u["username"]])
        self.assertEqual(text(attrs, "mail"), [u["email"]])


# --- Jenkins ----------------------------------------------------------------
class Jenkins(AppBase):
    """LDAP plugin: FilterBasedLdapUserSearch (subtree below userSearchBase +
    rootDN), BindAuthenticator, and the two group membership strategies."""

    @classmethod
    def setUpClass(cls):
        cls.doc = doc = yaml.safe_load(clients.read("apps/jenkins-casc.yaml"))
        cls.realm = doc["jenkins"]["securityRealm"]["ldap"]
        cls.c = cls.realm["configurations"][0]
        assert cls.c["server"] == "ldaps://ldap.example.com:636", cls.c["server"]
        cls.uri = srv.ldaps_url                  # the example's ldaps://, on the test's port
        assert cls.c["managerPasswordSecret"] == "${LDAP_READER_PASSWORD}"
        cls.manager = connect(srv, cls.uri, who=cls.c["managerDN"], password=srv.reader_pw)

    @classmethod
    def tearDownClass(cls):
        cls.manager.unbind_s()

    def base(self, rel):
        return "%s,%s" % (rel, self.c["rootDN"]) if rel else self.c["rootDN"]

    def find_user(self, login):
        filt = self.c["userSearch"].replace("{0}", escape_filter_chars(login))
        return self.manager.search_s(self.base(self.c["userSearchBase"]), ldap.SCOPE_SUBTREE, filt, ["*", "+"])

    def groups_by_search(self, user_dn, login):
        filt = self.c["groupMembershipStrategy"]["fromGroupSearch"]["filter"]
        filt = filt.replace("{0}", escape_filter_chars(user_dn)).replace("{1}", escape_filter_chars(login))
        res = self.manager.search_s(self.base(self.c["groupSearchBase"]), ldap.SCOPE_SUBTREE, filt, ["cn"])
        return {text(a, "cn")[0] for _, a in res}

    def groups_by_user_record(self, attrs):
        # fromUserRecord (commented in the example): the RDN value of each memberOf
        return {rdn_value(v) for v in text(attrs, "memberOf")}

    def login(self, login, password):
        """What Jenkins does at a login: (dn, groups) or None."""
        res = self.find_user(login)
        if len(res) != 1:
            return None
        dn, attrs = res[0]
        if not can_bind(srv, dn, password, self.uri):
            return None
        return dn, self.groups_by_search(dn, login)

    def test_defaults_written_out(self):
        self.assertEqual(self.c["userSearch"], "uid={0}")
        self.assertEqual(self.c["groupSearchFilter"], "(& (cn={0}) (| (objectclass=groupOfNames) "
                                                      "(objectclass=groupOfUniqueNames) (objectclass=posixGroup)))")
        self.assertEqual(self.c["groupMembershipStrategy"]["fromGroupSearch"]["filter"],
                         "(| (member={0}) (uniqueMember={0}) (memberUid={1}))")

    def test_login_with_auth0_password(self):
        dn, groups = self.login("jane", PASSWORDS[JANE])
        self.assertEqual(dn, self.dn(JANE))
        self.assertEqual(groups, JANE_GROUPS)
        self.assertIsNone(self.login("jane", PASSWORDS[JANE] + "x"))
        self.assertIsNone(self.login("nobody-here", "x"))
        self.assertIsNone(self.login(srv.uid(EVE), PASSWORDS[EVE]))          # blocked in Auth0

    def test_user_attributes(self):
        (dn, attrs), = self.find_user("jane")
        self.assertJane(attrs)
        self.assertEqual(text(attrs, self.c["displayNameAttributeName"]), [USERS[JANE]["name"]])
        self.assertEqual(text(attrs, self.c["mailAddressAttributeName"]), [USERS[JANE]["email"]])
        self.assertEqual(len(text(attrs, "entryUUID")), 1)

    def test_groups_from_group_search(self):
        self.assertEqual(self.groups_by_search(self.dn(MROSSI), "mrossi"), JANE_GROUPS | {"On-Call"})
        carlos = srv.uid(CARLOS)
        (dn, _), = self.find_user(carlos)                                   # "doe, carlos": escaped DN
        self.assertEqual(self.groups_by_search(dn, carlos), JANE_GROUPS)
        self.assertEqual(self.groups_by_search(self.dn(SIOBHAN), srv.uid(SIOBHAN)), SIOBHAN_GROUPS)
        self.assertEqual(self.groups_by_search(self.dn(FNOVAK), srv.uid(FNOVAK)), set())
        self.assertEqual(self.login(carlos, PASSWORDS[CARLOS])[1], JANE_GROUPS)

    def test_native_groups_from_group_search(self):
        """lzolc is in Compliance (the extension's cycle) and in the native
        Backend, nested two levels in Workforce: Jenkins sees all of them."""
        dn, groups = self.login("lzolc", PASSWORDS[LZOLC])
        self.assertEqual(groups, SIOBHAN_GROUPS | NATIVE_LZOLC)

    def test_groups_from_user_record(self):
        (dn, attrs), = self.find_user("jane")
        got = self.groups_by_user_record(attrs)
        self.assertEqual(got, JANE_GROUPS | JANE_ROLES | {"Jenkins", "Grafana", "Expense Tracker"})

    def test_group_lookup_by_name(self):
        def lookup(name):
            filt = self.c["groupSearchFilter"].replace("{0}", escape_filter_chars(name))
            return self.manager.search_s(self.base(self.c["groupSearchBase"]), ldap.SCOPE_SUBTREE, filt, ["cn"])
        for name in ALL_GROUPS:
            self.assertEqual(len(lookup(name)), 1, name)
        self.assertEqual(lookup("Jenkins Admin"), [])                       # a role: ou=roles
        self.assertEqual(lookup("nonexistent"), [])

    def test_matrix_groups(self):
        """The example's matrix: SRE administers, Engineering builds."""
        entries = {e["group"]["name"]: e["group"]["permissions"]
                   for e in self.doc["jenkins"]["authorizationStrategy"]["globalMatrix"]["entries"]}
        self.assertIn("Overall/Administer", entries["SRE"])
        _, jane = self.login("jane", PASSWORDS[JANE])
        _, glindqvist = self.login("glindqvist", PASSWORDS[GLINDQVIST])
        self.assertIn("SRE", jane)
        self.assertNotIn("SRE", glindqvist)
        self.assertIn("Engineering", glindqvist)


# --- GitLab -----------------------------------------------------------------
class GitLab(AppBase):
    """Gitlab::Auth::Ldap: (&(uid=LOGIN)user_filter) below base; the hourly
    LDAP check by DN; EE group sync (cn=NAME) below group_base."""

    @classmethod
    def setUpClass(cls):
        rb = clients.read("apps/gitlab.rb")
        m = re.search(r"YAML\.load <<-'EOS'\n(.*?)\nEOS\n", rb, re.S)
        cls.c = yaml.safe_load(m.group(1))["main"]
        assert (cls.c["host"], cls.c["port"], cls.c["encryption"]) == ("ldap.example.com", 389, "start_tls")
        assert "password" not in cls.c and "bind_dn" not in cls.c      # in GitLab's encrypted secret
        cls.conn = connect(srv, srv.url, who=READER, password=srv.reader_pw)

    @classmethod
    def tearDownClass(cls):
        cls.conn.unbind_s()

    def attrs_wanted(self):
        a = self.c["attributes"]
        out = [self.c["uid"], "cn", "mail"]
        for v in a.values():
            out += v if isinstance(v, list) else [v]
        return sorted(set(out))

    def user_filter(self, login):
        f = "(%s=%s)" % (self.c["uid"], escape_filter_chars(login))
        return "(&%s%s)" % (f, self.c["user_filter"]) if self.c.get("user_filter") else f

    def find_user(self, login):
        return self.conn.search_s(self.c["base"], ldap.SCOPE_SUBTREE, self.user_filter(login), self.attrs_wanted())

    def group_members(self, cn):
        res = self.conn.search_s(self.c["group_base"], ldap.SCOPE_SUBTREE, "(cn=%s)" % escape_filter_chars(cn),
                                 ["cn", "member", "uniquemember", "memberuid"])
        self.assertEqual(len(res), 1)
        return res[0][1]

    def test_sign_in(self):
        (dn, attrs), = self.find_user("jane")
        self.assertEqual(dn, self.dn(JANE))
        a = self.c["attributes"]
        self.assertEqual(text(attrs, a["username"][0]), ["jane"])
        self.assertEqual(text(attrs, a["email"][0]), [USERS[JANE]["email"]])
        self.assertEqual(text(attrs, a["name"]), [USERS[JANE]["name"]])
        self.assertEqual(text(attrs, a["first_name"]), [USERS[JANE]["given_name"]])
        self.assertEqual(text(attrs, a["last_name"]), [USERS[JANE]["family_name"]])
        self.assertTrue(can_bind(srv, dn, PASSWORDS[JANE]))
        self.assertFalse(can_bind(srv, dn, PASSWORDS[JANE] + "x"))

    def test_user_filter_engineering_only(self):
        self.assertEqual(len(self.find_user("mrossi")), 1)                  # On-Call < SRE < ... < Engineering
        self.assertEqual(len(self.find_user("glindqvist")), 1)
        self.assertEqual(self.find_user(srv.uid(SIOBHAN)), [])              # Finance only
        self.assertEqual(self.find_user(srv.uid(FNOVAK)), [])               # no group
        self.assertEqual(len(self.find_user(srv.uid(CARLOS))), 1)

    def test_blocked_users_filtered(self):
        self.assertIn("(auth0Blocked=FALSE)", self.c["user_filter"])
        eve = srv.uid(EVE)
        self.assertEqual(len(self.conn.search_s(self.c["base"], ldap.SCOPE_SUBTREE, "(uid=%s)" % eve, ["1.1"])), 1)
        self.assertEqual(self.conn.search_s(self.c["base"], ldap.SCOPE_SUBTREE,
                                            "(&(uid=%s)(auth0Blocked=FALSE))" % eve, ["1.1"]), [])

    def test_hourly_ldap_check_by_dn(self):
        res = self.conn.search_s(self.dn(JANE), ldap.SCOPE_BASE, self.c["user_filter"], self.attrs_wanted())
        self.assertEqual(len(res), 1)
        self.assertEqual(self.conn.search_s(self.dn(SIOBHAN), ldap.SCOPE_BASE, self.c["user_filter"], ["1.1"]), [])

    def test_group_sync_of_a_native_group(self):
        a = self.group_members("Workforce")
        self.assertEqual(len(a["member"]), WORKFORCE_SIZE)
        self.assertEqual(len(a["memberUid"]), WORKFORCE_SIZE)
        self.assertIn(self.dn(LZOLC).lower(), {v.decode().lower() for v in a["uniqueMember"]})
        self.assertEqual(len(self.group_members("Finance (grp_9Fs4Jh7Dk2Lq6Pz8Xc)")["member"]), 2)

    def test_group_sync_and_admin_group(self):
        a = self.group_members(self.c["admin_group"])
        members = [v.decode() for v in a["member"]]
        self.assertEqual(len(members), SRE_SIZE)
        self.assertEqual({v.lower() for v in members}, {v.decode().lower() for v in a["uniqueMember"]})
        self.assertEqual(len(a["memberUid"]), SRE_SIZE)
        self.assertIn(self.dn(JANE).lower(), {m.lower() for m in members})
        for m in members:                                                    # every member DN is a user
            self.assertEqual(len(self.conn.search_s(m, ldap.SCOPE_BASE, "(objectClass=inetOrgPerson)", ["1.1"])), 1)
        self.assertNotIn(self.dn(GLINDQVIST).lower(), {m.lower() for m in members})
        self.assertEqual(len(self.group_members("Engineering")["member"]), 20)


# --- Nextcloud --------------------------------------------------------------
class Nextcloud(AppBase):
    """user_ldap: the user list (ldapUserFilter, paged by ldapPagingSize), the
    login filter with %uid, groups by memberOf or by ldapGroupMemberAssocAttr."""

    @classmethod
    def setUpClass(cls):
        cls.c = {}
        for line in clients.read("apps/nextcloud-ldap.sh").splitlines():
            words = shlex.split(line, comments=True)
            if len(words) == 5 and words[:3] == ["$occ", "ldap:set-config", "$c"]:
                cls.c[words[3]] = words[4]
        c = cls.c
        assert c["ldapAgentPassword"] == "$(cat /etc/nextcloud/ldap-reader.secret)"
        assert (c["ldapHost"], c["ldapPort"], c["ldapTLS"]) == ("ldap://ldap.example.com", "389", "1")
        cls.conn = connect(srv, srv.url, who=c["ldapAgentName"], password=srv.reader_pw)

    @classmethod
    def tearDownClass(cls):
        cls.conn.unbind_s()

    def user_attrs(self):
        c = self.c
        return ["dn", c["ldapExpertUsernameAttr"], c["ldapExpertUUIDUserAttr"], c["ldapUserDisplayName"],
                c["ldapEmailAttribute"], "memberOf"]

    def login_search(self, login):
        filt = self.c["ldapLoginFilter"].replace("%uid", escape_filter_chars(login))
        return self.conn.search_s(self.c["ldapBaseUsers"], ldap.SCOPE_SUBTREE, filt, self.user_attrs())

    def group_ok(self, dn):
        """Nextcloud keeps a memberOf value only if it is below ldapBaseGroups
        and matches ldapGroupFilter."""
        if not dn.lower().endswith("," + self.c["ldapBaseGroups"].lower()):
            return None
        res = self.conn.search_s(dn, ldap.SCOPE_BASE, self.c["ldapGroupFilter"], [self.c["ldapGroupDisplayName"]])
        return text(res[0][1], self.c["ldapGroupDisplayName"])[0] if res else None

    def test_settings(self):
        self.assertEqual(self.c["useMemberOfToDetectMembership"], "1")
        self.assertEqual(self.c["ldapGroupMemberAssocAttr"], "member")
        self.assertEqual(self.c["ldapPagingSize"], "500")

    def test_user_list_paged(self):
        c = self.c
        users = paged(self.conn, c["ldapBaseUsers"], ldap.SCOPE_SUBTREE, c["ldapUserFilter"], self.user_attrs(),
                      int(c["ldapPagingSize"]))
        self.assertEqual(len(users), clients.USER_COUNT)
        uuids = [text(a, c["ldapExpertUUIDUserAttr"]) for _, a in users]
        self.assertTrue(all(len(u) == 1 for u in uuids))
        self.assertEqual(len({u[0] for u in uuids}), len(users))            # one stable id per user
        names = {text(a, c["ldapExpertUsernameAttr"])[0] for _, a in users}
        self.assertEqual(names, {srv.uid(u) for u in USERS})
        small = paged(self.conn, c["ldapBaseUsers"], ldap.SCOPE_SUBTREE, c["ldapUserFilter"], ["1.1"], 10)
        self.assertEqual(len(small), clients.USER_COUNT)

    def test_login_by_uid_or_email(self):
        for login in ("jane", "JANE", USERS[JANE]["email"]):
            res = self.login_search(login)
            self.assertEqual([dn for dn, _ in res], [self.dn(JANE)], login)
        (dn, attrs), = self.login_search("jane")
        self.assertEqual(text(attrs, self.c["ldapUserDisplayName"]), [USERS[JANE]["name"]])
        self.assertTrue(can_bind(srv, dn, PASSWORDS[JANE]))
        self.assertFalse(can_bind(srv, dn, "wrong"))
        self.assertEqual(self.login_search("nobody@example.com"), [])
        carlos = srv.uid(CARLOS)
        (dn, _), = self.login_search(carlos)
        self.assertTrue(can_bind(srv, dn, PASSWORDS[CARLOS]))

    def test_groups_by_memberof(self):
        (dn, attrs), = self.login_search("jane")
        groups = {self.group_ok(g) for g in text(attrs, "memberOf")} - {None}
        self.assertEqual(groups, JANE_GROUPS)                              # roles and applications left out

    def test_groups_by_member(self):
        c = self.c
        for user_id, want in ((JANE, JANE_GROUPS), (SIOBHAN, SIOBHAN_GROUPS), (FNOVAK, set()),
                              (LZOLC, SIOBHAN_GROUPS | NATIVE_LZOLC)):
            filt = "(&%s(%s=%s))" % (c["ldapGroupFilter"], c["ldapGroupMemberAssocAttr"],
                                     escape_filter_chars(self.dn(user_id)))
            res = self.conn.search_s(c["ldapBaseGroups"], ldap.SCOPE_SUBTREE, filt, [c["ldapGroupDisplayName"]])
            self.assertEqual({text(a, "cn")[0] for _, a in res}, want, user_id)

    def test_group_list_and_members(self):
        c = self.c
        groups = paged(self.conn, c["ldapBaseGroups"], ldap.SCOPE_SUBTREE, c["ldapGroupFilter"],
                       ["cn", "member", c["ldapExpertUUIDGroupAttr"]], int(c["ldapPagingSize"]))
        self.assertEqual({text(a, "cn")[0] for _, a in groups}, ALL_GROUPS)
        self.assertTrue(all(len(text(a, c["ldapExpertUUIDGroupAttr"])) == 1 for _, a in groups))
        users = {dn.lower() for dn, _ in paged(self.conn, c["ldapBaseUsers"], ldap.SCOPE_SUBTREE,
                                               c["ldapUserFilter"], ["1.1"], 500)}
        for _, a in groups:
            members = [m.lower() for m in text(a, "member") if m]
            self.assertTrue(set(members) <= users, text(a, "cn"))
        sre = next(a for _, a in groups if text(a, "cn") == ["SRE"])
        self.assertEqual(len(text(sre, "member")), SRE_SIZE)


# --- Grafana ----------------------------------------------------------------
class Grafana(AppBase):
    """pkg/services/ldap: (|search_filter) below search_base_dns, the named
    attributes (compared case-sensitively), memberOf or a group search,
    group_mappings (first match wins; none matching refuses the login)."""

    @classmethod
    def setUpClass(cls):
        cls.toml = clients.read("apps/grafana-ldap.toml")
        cls.c = tomllib.loads(cls.toml)["servers"][0]
        # the posix variant: the three commented group_search lines enabled
        posix = re.sub(r"(?m)^#(group_search_\w+ = .*)$", r"\1", cls.toml)
        cls.posix = tomllib.loads(posix)["servers"][0]
        assert "group_search_filter" in cls.posix and "group_search_filter" not in cls.c

    def env_password(self, value):
        """Grafana's evalEnvVar: ${NAME} from the environment (set from a file)."""
        with open(srv.reader_pw_file, encoding="utf-8") as f:
            env = {"LDAP_READER_PASSWORD": f.readline().strip()}
        return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), value)

    def login(self, c, login, password):
        """(login, name, email, org_role, grafana_admin) or None when refused."""
        self.assertTrue(c["use_ssl"] and c["start_tls"])
        conn = connect(srv, srv.url, who=c["bind_dn"], password=self.env_password(c["bind_password"]))
        try:
            attr = c["attributes"]
            wanted = [attr[k] for k in ("username", "surname", "email", "name", "member_of") if attr.get(k)]
            if c.get("group_search_filter_user_attribute"):
                wanted.append(c["group_search_filter_user_attribute"])
            filt = "(|%s)" % c["search_filter"].replace("%s", escape_filter_chars(login))
            found = []
            for base in c["search_base_dns"]:
                found += conn.search_s(base, ldap.SCOPE_SUBTREE, filt, wanted)
            if not found:
                return None
            dn, attrs = found[0]

            def get(name):                      # Grafana's getAttribute: exact name, first value
                if name.lower() == "dn":
                    return dn
                return attrs[name][0].decode() if name in attrs else ""

            if c.get("group_search_filter"):
                member_of = []
                user_value = get(c.get("group_search_filter_user_attribute") or attr["username"])
                gid_attr = "dn" if attr.get("member_of") in ("", "memberOf") else attr["member_of"]
                for base in c.get("group_search_base_dns") or c["search_base_dns"]:
                    gfilt = c["group_search_filter"].replace("%s", escape_filter_chars(user_value))
                    for gdn, ga in conn.search_s(base, ldap.SCOPE_SUBTREE, gfilt, [gid_attr]):
                        member_of.append(gdn if gid_attr == "dn" else ga[gid_attr][0].decode())
            else:
                member_of = [v.decode() for v in attrs.get(attr["member_of"], [])]
            role, admin = None, False
            for m in c.get("group_mappings", []):
                if m["group_dn"] == "*" or any(g.lower() == m["group_dn"].lower() for g in member_of):
                    role = role or m.get("org_role")
                    admin = admin or m.get("grafana_admin", False)
            if c.get("group_mappings") and not role and not admin:
                return None
            if not can_bind(srv, dn, password):
                return None
            return (get(attr["username"]), "%s %s" % (get(attr["name"]), get(attr["surname"])), get(attr["email"]),
                    role, admin)
        finally:
            conn.unbind_s()

    def test_attribute_names_as_the_server_spells_them(self):
        conn = connect(srv, srv.url, who=READER, password=srv.reader_pw)
        attr = self.c["attributes"]
        (dn, attrs), = conn.search_s(self.c["search_base_dns"][0], ldap.SCOPE_SUBTREE, "(uid=jane)",
                                     list(attr.values()))
        conn.unbind_s()
        self.assertEqual(set(attrs), set(attr.values()))        # exact case: Grafana compares with ==

    def test_admin_through_sre(self):
        u = USERS[JANE]
        self.assertEqual(self.login(self.c, "jane", PASSWORDS[JANE]),
                         ("jane", "%s %s" % (u["given_name"], u["family_name"]), u["email"], "Admin", True))
        self.assertIsNone(self.login(self.c, "jane", PASSWORDS[JANE] + "x"))

    def test_editor_viewer_and_refused(self):
        self.assertEqual(self.login(self.c, "glindqvist", PASSWORDS[GLINDQVIST])[3:], ("Editor", False))
        # siobhan: Compliance -> role Grafana Viewer -> application Grafana
        self.assertEqual(self.login(self.c, srv.uid(SIOBHAN), PASSWORDS[SIOBHAN])[3:], ("Viewer", False))
        self.assertIsNone(self.login(self.c, srv.uid(FNOVAK), PASSWORDS[FNOVAK]))     # in no mapped group
        self.assertIsNone(self.login(self.c, "nobody-here", "x"))

    def test_mfa_user(self):
        self.assertEqual(self.login(self.c, "mrossi", PASSWORDS[MROSSI] + ",123456")[3:], ("Admin", True))
        self.assertIsNone(self.login(self.c, "mrossi", PASSWORDS[MROSSI]))

    def test_posix_group_search_variant(self):
        self.assertEqual(self.login(self.posix, "jane", PASSWORDS[JANE])[3:], ("Admin", True))
        self.assertEqual(self.login(self.posix, "glindqvist", PASSWORDS[GLINDQVIST])[3:], ("Editor", False))
        # only ou=groups is searched: the application mapping cannot match
        self.assertIsNone(self.login(self.posix, srv.uid(SIOBHAN), PASSWORDS[SIOBHAN]))


# --- Keycloak ---------------------------------------------------------------
class Keycloak(AppBase):
    """LDAP user federation (vendor other, READ_ONLY): the user query
    (&(uid=X)(objectclass=...)(custom filter)), sync with pagination, the
    group-ldap-mapper and role-ldap-mapper queries."""

    @classmethod
    def setUpClass(cls):
        doc = json.loads(clients.read("apps/keycloak-ldap-provider.json"))
        comp, = doc["components"]["org.keycloak.storage.UserStorageProvider"]
        cls.c = {k: v[0] for k, v in comp["config"].items()}
        cls.mappers = {m["name"]: (m["providerId"], {k: v[0] for k, v in m["config"].items()})
                       for m in comp["subComponents"]["org.keycloak.storage.ldap.mappers.LDAPStorageMapper"]}
        c = cls.c
        assert (c["connectionUrl"], c["startTls"], c["bindCredential"]) == \
            ("ldap://ldap.example.com:389", "true", "${vault.ldap-reader}")
        cls.conn = connect(srv, srv.url, who=c["bindDn"], password=srv.reader_pw)
        cls.scope = {"1": ldap.SCOPE_ONELEVEL, "2": ldap.SCOPE_SUBTREE}[c["searchScope"]]

    @classmethod
    def tearDownClass(cls):
        cls.conn.unbind_s()

    def user_filter(self, extra=""):
        c = self.c
        classes = "".join("(objectclass=%s)" % oc.strip() for oc in c["userObjectClasses"].split(","))
        return "(&%s%s%s)" % (extra, classes, c.get("customUserSearchFilter", ""))

    def user_attrs(self):
        out = {self.c["uuidLDAPAttribute"], self.c["rdnLDAPAttribute"], self.c["usernameLDAPAttribute"]}
        out |= {cfg["ldap.attribute"] for pid, cfg in self.mappers.values() if pid == "user-attribute-ldap-mapper"}
        return sorted(out)

    def find_user(self, username):
        extra = "(%s=%s)" % (self.c["usernameLDAPAttribute"], escape_filter_chars(username))
        return self.conn.search_s(self.c["usersDn"], self.scope, self.user_filter(extra), self.user_attrs())

    def mapped(self, attrs):
        return {cfg["user.model.attribute"]: text(attrs, cfg["ldap.attribute"])
                for pid, cfg in self.mappers.values() if pid == "user-attribute-ldap-mapper"}

    def memberships(self, mapper, user_dn, strategy=None):
        pid, cfg = self.mappers[mapper]
        kind = "group" if pid == "group-ldap-mapper" else "role"
        base = cfg[kind + "s.dn"]
        strategy = strategy or cfg["user.roles.retrieve.strategy"]
        name_attr = cfg[kind + ".name.ldap.attribute"]
        classes = "".join("(objectclass=%s)" % oc.strip() for oc in cfg[kind + ".object.classes"].split(","))
        if strategy.startswith("LOAD_"):
            self.assertEqual(cfg["membership.attribute.type"], "DN")
            filt = "(&(%s=%s)%s%s)" % (cfg["membership.ldap.attribute"], escape_filter_chars(user_dn), classes,
                                       cfg.get(kind + "s.ldap.filter", ""))
            res = self.conn.search_s(base, self.scope, filt, [name_attr])
            return {text(a, name_attr)[0] for _, a in res}
        # GET_*_FROM_USER_MEMBEROF_ATTRIBUTE: the user's memberOf values below the base
        (_, a), = self.conn.search_s(user_dn, ldap.SCOPE_BASE, "(objectClass=*)", [cfg["memberof.ldap.attribute"]])
        return {rdn_value(v) for v in text(a, cfg["memberof.ldap.attribute"])
                if v.lower().endswith("," + base.lower())}

    def test_user_query_and_mappers(self):
        (dn, attrs), = self.find_user("jane")
        self.assertEqual(dn, self.dn(JANE))
        u = USERS[JANE]
        m = self.mapped(attrs)
        self.assertEqual((m["username"], m["firstName"], m["lastName"], m["email"]),
                         (["jane"], [u["given_name"]], [u["family_name"]], [u["email"]]))
        self.assertEqual(len(m["createTimestamp"]), 1)
        self.assertEqual(len(text(attrs, self.c["uuidLDAPAttribute"])), 1)
        self.assertEqual(dn.split(",")[0], "%s=jane" % self.c["rdnLDAPAttribute"])

    def test_password_check(self):
        (dn, _), = self.find_user("jane")
        self.assertTrue(can_bind(srv, dn, PASSWORDS[JANE]))
        self.assertFalse(can_bind(srv, dn, PASSWORDS[JANE] + "x"))

    def test_blocked_user_not_federated(self):
        self.assertEqual(self.find_user(srv.uid(EVE)), [])
        self.assertEqual(len(self.find_user(srv.uid(CARLOS))), 1)

    def test_sync_with_pagination(self):
        users = paged(self.conn, self.c["usersDn"], self.scope, self.user_filter(), self.user_attrs(),
                      int(self.c["batchSizeForSync"]))
        self.assertEqual(len(users), ACTIVE_USERS)
        self.assertEqual(len({text(a, "entryUUID")[0] for _, a in users}), ACTIVE_USERS)

    def test_group_mapper(self):
        for strategy in (None, "GET_GROUPS_FROM_USER_MEMBEROF_ATTRIBUTE"):
            self.assertEqual(self.memberships("groups", self.dn(JANE), strategy), JANE_GROUPS, strategy)
            self.assertEqual(self.memberships("groups", self.dn(SIOBHAN), strategy), SIOBHAN_GROUPS, strategy)
            self.assertEqual(self.memberships("groups", self.dn(FNOVAK), strategy), set(), strategy)
        pid, cfg = self.mappers["groups"]
        self.assertEqual(cfg["preserve.group.inheritance"], "false")      # membership is already flattened
        res = paged(self.conn, cfg["groups.dn"], self.scope, "(objectclass=groupOfNames)", ["cn", "member"], 500)
        self.assertEqual({text(a, "cn")[0] for _, a in res}, ALL_GROUPS)

    def test_role_mapper(self):
        for strategy in (None, "GET_ROLES_FROM_USER_MEMBEROF_ATTRIBUTE"):
            self.assertEqual(self.memberships("roles", self.dn(JANE), strategy), JANE_ROLES, strategy)
        self.assertEqual(self.memberships("roles", self.dn(FNOVAK)), set())


if __name__ == "__main__":
    unittest.main()
