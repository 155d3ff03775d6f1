"""nslcd (nss-pam-ldapd) with examples/clients/nslcd.conf: the real nslcd,
getent, id and a PAM login (pam_ldap through pamtester) against the module.

Everything runs in one private mount namespace (clients.isolated): a tmpfs
over /run (nslcd's socket directory /run/nslcd lives there, and no host
nscd or nslcd is reachable) and bind mounts over /etc/nslcd.conf,
/etc/nsswitch.conf and /etc/pam.d, so the host's NSS and PAM are never
touched.  The script runs once per class; the tests read its output."""
import os
import re
import shlex
import unittest

import clients
from clients import CARLOS, FNOVAK, JANE, JANE_GROUPS, MROSSI, PASSWORDS, SIOBHAN, SIOBHAN_GROUPS

# nslcd.conf(5), "validnames": the default pattern of names nslcd accepts
VALIDNAMES = re.compile(r"^[a-z0-9._@$()]([a-z0-9._@$() \\~-]*[a-z0-9._@$()~-])?$", re.I)
# the native group Workforce > Engineering Staff > Backend, flattened
WORKFORCE = {"rkumar", "anunez", "olu.adeyemi@acme.example", "sven.eriksson@acme.example",
             "mei.tanaka@acme.example", "lzolc"}
# SRE's 8 effective members (tests/data/README.md) less the 3 whose uid is
# no valid name for nslcd ("doe, carlos", "#edge,...", "samlp|acme-saml|...")
SRE_NSLCD = {"jane", "mrossi", "yamada.taro", "olu.adeyemi@acme.example", "aoife.kelly@acme.example"}

# Exact answers of the C library (getpwnam, getgrnam, getgrouplist) in
# the namespace, as JSON.
PROBE = r"""
import grp, json, os, pwd, sys

def gname(g):
    try:
        return grp.getgrgid(g).gr_name
    except KeyError:
        return g

out = {}
for name in sys.argv[1:]:
    if name.startswith("@"):            # a group by name
        try:
            g = grp.getgrnam(name[1:])
            out[name] = [g.gr_gid, sorted(g.gr_mem)]
        except KeyError:
            out[name] = None
        continue
    try:
        p = pwd.getpwnam(name)
        out[name] = {"passwd": list(p), "groups": [gname(g) for g in os.getgrouplist(name, p.pw_gid)]}
    except KeyError:
        out[name] = None
out["__groups__"] = {g.gr_name: [g.gr_gid, sorted(g.gr_mem)] for g in grp.getgrall()}
print(json.dumps(out))
"""


def group_names(gids_or_names):
    return {g for g in gids_or_names if isinstance(g, str)}


class Nslcd(clients.ServerCase):
    NAME = "nslcd"

    @classmethod
    def setUpClass(cls):
        cls.nslcd, cls.getent, cls.id_, cls.pamtester = clients.need("nslcd", "getent", "id", "pamtester")
        super().setUpClass()

    @classmethod
    def run_clients(cls):
        srv = cls.srv
        d = os.path.join(srv.dir, "nss")
        os.makedirs(os.path.join(d, "pam.d"))
        conf = clients.read("nslcd.conf")
        conf = clients.set_line(conf, "uri", "ldap://127.0.0.1:%d/" % srv.port)
        conf = clients.set_line(conf, "tls_cacertfile", "/run/back-auth0-test-ca.pem")
        files = {"nslcd.conf": conf, "nsswitch.conf": clients.read("nsswitch.conf"),
                 # a PAM service of our own; "other" denies, as nothing else may be used
                 "pam.d/back-auth0-test": "auth required pam_ldap.so\naccount required pam_ldap.so\n",
                 "pam.d/other": "".join("%s required pam_deny.so\n" % t
                                        for t in ("auth", "account", "password", "session")),
                 "probe.py": PROBE}
        for name, text in files.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        q = shlex.quote
        carlos, siobhan, fnovak = (srv.uid(u) for u in (CARLOS, SIOBHAN, FNOVAK))
        zoe = "zo\u00eb"
        steps = [
            ("passwd jane", "%s -s ldap passwd jane" % cls.getent),
            ("passwd by number", "%s -s ldap passwd %s" % (cls.getent, srv.attr(JANE, "uidNumber"))),
            ("group SRE", "%s -s ldap group SRE" % cls.getent),
            ("group by number", "%s -s ldap group %s" % (cls.getent, srv.groups["SRE"][1]["gidNumber"][0].decode())),
            ("group Web + Mobile", "%s -s ldap group 'Web + Mobile'; echo rc=$?" % cls.getent),
            ("group Workforce", "%s -s ldap group Workforce; echo rc=$?" % cls.getent),
            ("id olu", "%s olu.adeyemi@acme.example" % cls.id_),
            ("passwd zoe", "%s -s ldap passwd %s; echo rc=$?" % (cls.getent, q(zoe))),
            ("all passwd", "%s -s ldap passwd" % cls.getent),
            ("all group", "%s -s ldap group" % cls.getent),
            ("id jane", "%s jane" % cls.id_),
            ("id siobhan", "%s %s" % (cls.id_, q(siobhan))),
            ("id fnovak", "%s %s" % (cls.id_, q(fnovak))),
            ("id root", "%s root" % cls.id_),
            ("probe", "/usr/bin/python3 %s/probe.py jane %s %s %s" % (q(d), q(siobhan), q(fnovak), q(carlos))),
            ("login jane", "echo %s | %s back-auth0-test jane authenticate acct_mgmt; echo rc=$?"
             % (q(PASSWORDS[JANE]), cls.pamtester)),
            ("login jane wrong", "echo %s | %s back-auth0-test jane authenticate; echo rc=$?"
             % (q(PASSWORDS[JANE] + "x"), cls.pamtester)),
            ("login mrossi mfa", "echo %s | %s back-auth0-test mrossi authenticate; echo rc=$?"
             % (q(PASSWORDS[MROSSI] + ",123456"), cls.pamtester)),
        ]
        script = [
            "install -m 644 %s /run/back-auth0-test-ca.pem" % q(srv.ca),
            "install -d -m 755 -o nslcd -g nslcd /run/nslcd",
            "%s -d 2>%s/nslcd.log &" % (cls.nslcd, q(d)),
            "pid=$!",
            "for i in $(seq 100); do [ -S /run/nslcd/socket ] && break; sleep 0.1; done",
            "[ -S /run/nslcd/socket ] || { echo 'nslcd did not start' >&2; cat %s/nslcd.log >&2; exit 3; }" % q(d),
        ]
        cls.run_script(script, steps,
                       [(os.path.join(d, "nslcd.conf"), "/etc/nslcd.conf"),
                        (os.path.join(d, "nsswitch.conf"), "/etc/nsswitch.conf"),
                        (os.path.join(d, "pam.d"), "/etc/pam.d")])
        with open(os.path.join(d, "nslcd.log"), encoding="utf-8", errors="replace") as f:
            cls.nslcd_log = f.read()

    # --- passwd ----------------------------------------------------------
    def test_passwd_by_name_and_number(self):
        self.assertEqual(self.out["passwd jane"], self.passwd_line(JANE))
        self.assertEqual(self.out["passwd jane"], "jane:*:%s:%s:Jane Doe:/home/jane:/bin/bash"
                         % (self.srv.attr(JANE, "uidNumber"), self.srv.attr(JANE, "gidNumber")))
        self.assertTrue(100000 <= int(self.srv.attr(JANE, "uidNumber")) <= 199999)
        self.assertEqual(self.out["passwd by number"], self.passwd_line(JANE))

    def test_enumeration_lists_every_valid_name(self):
        names = [line.split(":")[0] for line in self.out["all passwd"].splitlines()]
        want = sorted(self.srv.uid(u) for u in self.srv.people if VALIDNAMES.match(self.srv.uid(u)))
        self.assertEqual(sorted(names), want)
        self.assertGreater(len(names), 35)
        self.assertLess(len(names), clients.USER_COUNT)      # some sample uids are no Unix names

    def test_names_nslcd_refuses(self):
        self.assertEqual(self.out["passwd zoe"], "rc=2")
        self.assertEqual(self.out["group Web + Mobile"], "rc=2")
        self.assertIn("denied by validnames option", self.nslcd_log)

    # --- groups ----------------------------------------------------------
    def test_group_by_name_and_number(self):
        gid = self.srv.groups["SRE"][1]["gidNumber"][0].decode()
        for key in ("group SRE", "group by number"):
            name, pw, g, members = self.out[key].split(":")
            self.assertEqual((name, pw, g), ("SRE", "*", gid))
            self.assertEqual(set(members.split(",")), SRE_NSLCD)

    def test_member_lists_are_memberuid_only(self):
        """No name made from a member DN (doe\\2C carlos, zo\\C3\\AB)."""
        groups = self.probe["__groups__"]
        for cn, (dn, a) in self.srv.groups.items():
            if not VALIDNAMES.match(cn):
                self.assertNotIn(cn, groups)
                continue
            want = sorted(v.decode() for v in a.get("memberUid", []) if VALIDNAMES.match(v.decode()))
            self.assertEqual(groups[cn], [int(a["gidNumber"][0]), want], cn)
        self.assertNotIn("\\", self.out["all group"])
        self.assertEqual(len(groups["Acme Corp"][1]), 22)     # 29 less 7 names nslcd refuses

    def test_id_lists_flattened_groups(self):
        gid = self.srv.attr(JANE, "gidNumber")
        m = re.match(r"uid=(\d+)\(jane\) gid=(\d+) groups=(.*)$", self.out["id jane"])
        self.assertTrue(m, self.out["id jane"])
        self.assertEqual((m.group(1), m.group(2)), (self.srv.attr(JANE, "uidNumber"), gid))
        names = set(re.findall(r"\d+\(([^)]*)\)", m.group(3)))
        self.assertEqual(names, JANE_GROUPS)
        self.assertIn(gid, re.findall(r"(\d+)", m.group(3)))   # the primary gid (no group entry of its own)
        self.assertEqual(group_names(self.probe["jane"]["groups"]), JANE_GROUPS)
        self.assertEqual(group_names(self.probe[self.srv.uid(SIOBHAN)]["groups"]), SIOBHAN_GROUPS)  # the cycle
        self.assertEqual(group_names(self.probe[self.srv.uid(FNOVAK)]["groups"]), set())
        self.assertNotIn("(", self.out["id fnovak"].split("groups=")[1])
        self.assertIsNone(self.probe[self.srv.uid(CARLOS)])                   # "doe, carlos": no valid name
        self.assertTrue(self.out["id root"].startswith("uid=0(root)"))         # local accounts still from files

    def test_native_group(self):
        """A native group (groups.json) nested two levels: getent lists its
        flattened members, id lists it and the group it is nested in."""
        dn, a = self.srv.groups["Workforce"]
        name, _, gid, members = self.out["group Workforce"].split("\n")[0].split(":")
        self.assertEqual((name, gid), ("Workforce", a["gidNumber"][0].decode()))
        self.assertEqual(set(members.split(",")), WORKFORCE)
        names = set(re.findall(r"\d+\(([^)]*)\)", self.out["id olu"].split("groups=")[1]))
        self.assertTrue({"Workforce", "Engineering Staff"} <= names, names)
        self.assertNotIn("Developer", names)          # a role: not below nslcd's group base
        self.assertNotIn("Backend", names)

    # --- PAM login through nslcd (binds go to the module, Auth0 checks) ----
    def test_pam_login(self):
        self.assertIn("successfully authenticated", self.out["login jane"])
        self.assertIn("account management done", self.out["login jane"])
        self.assertTrue(self.out["login jane"].endswith("rc=0"))
        self.assertIn("Authentication failure", self.out["login jane wrong"])
        self.assertTrue(self.out["login jane wrong"].endswith("rc=1"))
        self.assertIn("successfully authenticated", self.out["login mrossi mfa"])
        self.assertGreaterEqual(self.logins_after - self.logins_before, 3)     # each one asked Auth0
        log = self.srv.slapd.log_text()
        self.assertIn("STARTTLS", log)
        self.assertRegex(log, r'BIND dn="uid=jane,ou=people,dc=example,dc=com" mech=SIMPLE bind_ssf=0 ssf=\d{3}')


if __name__ == "__main__":
    unittest.main()
