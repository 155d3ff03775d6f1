"""sssd (sssd-ldap) with examples/clients/sssd.conf: the real sssd (nss and
pam responders, the ldap provider over StartTLS), getent, id and a PAM
login (pam_sss through pamtester) against the module.

Isolation (clients.isolated): a private mount namespace with a tmpfs over
/run and bind mounts of the test's own directories over /etc/sssd (the
configuration), /var/lib/sss (sssd's cache db, its sockets and the memory
cache that libnss_sss reads, so no host cache can answer),
/etc/nsswitch.conf and /etc/pam.d.  sssd runs in the foreground (-i) and
logs to stderr.  The host's sssd, NSS and PAM are never touched."""
import glob
import os
import re
import shlex
import unittest

import clients
from clients import CARLOS, FNOVAK, JANE, JANE_GROUPS, MROSSI, PASSWORDS, SIOBHAN, SIOBHAN_GROUPS, SRE_SIZE
from test_clients_nss import PROBE

SSS_DIRS = ("db", "mc", "pipes/private", "pubconf/krb5.include.d", "gpo_cache", "deskprofile", "secrets", "keytabs")
GROUPS = ("Acme Corp", "Engineering", "Platform", "SRE", "On-Call", "Data", "Web + Mobile", "Finance",
          "Auditors", "Compliance", "Alumni",     # tests/data/README.md: the 11 extension groups
          "Workforce", "Engineering Staff", "Backend", "Finance (grp_9Fs4Jh7Dk2Lq6Pz8Xc)")   # and 4 native
GOOGLE = "google-oauth2|100123699147624185240"      # aisha.bello@gmail.com: no password at Auth0


class Sssd(clients.ServerCase):
    NAME = "sssd"

    @classmethod
    def setUpClass(cls):
        cls.sssd, cls.getent, cls.id_, cls.pamtester = clients.need("sssd", "getent", "id", "pamtester")
        assert glob.glob("/usr/lib/*/sssd/libsss_ldap.so"), "sssd-ldap is not installed (scripts/setup installs it)"
        super().setUpClass()

    @classmethod
    def run_clients(cls):
        srv = cls.srv
        d = os.path.join(srv.dir, "sss")
        for sub in ("etc/conf.d", "pam.d") + tuple("lib/" + s for s in SSS_DIRS):
            os.makedirs(os.path.join(d, sub))
        for sub in ("lib/db", "lib/pipes/private", "lib/secrets", "lib/keytabs"):
            os.chmod(os.path.join(d, sub), 0o700)
        conf = clients.read("sssd.conf")
        conf = clients.set_line(conf, "ldap_uri", "ldap://127.0.0.1:%d" % srv.port, "=")
        conf = clients.set_line(conf, "ldap_tls_cacert", "/run/back-auth0-test-ca.pem", "=")
        nss = clients.read("nsswitch.conf")
        nss = re.sub(r"(?m)^((?:passwd|group|shadow):\s+files) ldap$", r"\1 sss", nss)
        files = {"etc/sssd.conf": conf, "nsswitch.conf": nss,
                 "pam.d/back-auth0-test": "auth required pam_sss.so\naccount required pam_sss.so\n",
                 "pam.d/other": "".join("%s required pam_deny.so\n" % t
                                        for t in ("auth", "account", "password", "session")),
                 "probe.py": PROBE}
        for name, text in files.items():
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        os.chmod(os.path.join(d, "etc/sssd.conf"), 0o600)     # sssd refuses anything else
        q = shlex.quote
        carlos, siobhan, fnovak, google = (srv.uid(u) for u in (CARLOS, SIOBHAN, FNOVAK, GOOGLE))
        zoe = "zo\u00eb"
        steps = [
            ("passwd jane", "%s -s sss passwd jane" % cls.getent),
            ("passwd by number", "%s -s sss passwd %s" % (cls.getent, srv.attr(JANE, "uidNumber"))),
            ("passwd carlos", "%s -s sss passwd %s" % (cls.getent, q(carlos))),
            ("group Web + Mobile", "%s -s sss group 'Web + Mobile'" % cls.getent),
            ("group Workforce", "%s -s sss group Workforce" % cls.getent),
            ("group by number", "%s -s sss group %s" % (cls.getent, srv.groups["Data"][1]["gidNumber"][0].decode())),
            ("all passwd", "%s -s sss passwd; echo rc=$?" % cls.getent),
            ("id jane", "%s jane" % cls.id_),
            ("id carlos", "%s %s" % (cls.id_, q(carlos))),
            ("id zoe", "%s %s" % (cls.id_, q(zoe))),
            ("probe", "/usr/bin/python3 %s/probe.py jane %s %s %s %s %s" % (
                q(d), q(siobhan), q(fnovak), q(carlos), q(zoe), " ".join(q("@" + g) for g in GROUPS + ("Admin",)))),
            ("login jane", "echo %s | %s back-auth0-test jane authenticate acct_mgmt; echo rc=$?"
             % (q(PASSWORDS[JANE]), cls.pamtester)),
            ("login jane wrong", "echo %s | %s back-auth0-test jane authenticate; echo rc=$?"
             % (q(PASSWORDS[JANE] + "x"), cls.pamtester)),
            ("login mrossi mfa", "echo %s | %s back-auth0-test mrossi authenticate; echo rc=$?"
             % (q(PASSWORDS[MROSSI] + ",123456"), cls.pamtester)),
            ("login carlos", "echo %s | %s back-auth0-test %s authenticate; echo rc=$?"
             % (q(PASSWORDS[CARLOS]), cls.pamtester, q(carlos))),
            ("login google", "echo whatever | %s back-auth0-test %s authenticate; echo rc=$?"
             % (cls.pamtester, q(google))),
        ]
        script = [
            "install -m 644 %s /run/back-auth0-test-ca.pem" % q(srv.ca),
            "%s -i -c /etc/sssd/sssd.conf --logger=stderr -d 2 2>%s/sssd.log &" % (cls.sssd, q(d)),
            "pid=$!",
            "for i in $(seq 150); do [ -S /var/lib/sss/pipes/nss ] && [ -S /var/lib/sss/pipes/private/pam ] && break;"
            " sleep 0.1; done",
            "[ -S /var/lib/sss/pipes/private/pam ] || { echo 'sssd did not start' >&2; cat %s/sssd.log >&2; exit 3; }"
            % q(d),
        ]
        cls.run_script(script, steps,
                       [(os.path.join(d, "etc"), "/etc/sssd"),
                        (os.path.join(d, "lib"), "/var/lib/sss"),
                        (os.path.join(d, "nsswitch.conf"), "/etc/nsswitch.conf"),
                        (os.path.join(d, "pam.d"), "/etc/pam.d")])

    def groups_of(self, name):
        return {g for g in self.probe[name]["groups"] if isinstance(g, str)}

    # --- passwd ----------------------------------------------------------
    def test_passwd_by_name_and_number(self):
        self.assertEqual(self.out["passwd jane"], self.passwd_line(JANE))
        self.assertEqual(self.out["passwd jane"], "jane:*:%s:%s:Jane Doe:/home/jane:/bin/bash"
                         % (self.srv.attr(JANE, "uidNumber"), self.srv.attr(JANE, "gidNumber")))
        self.assertEqual(self.out["passwd by number"], self.passwd_line(JANE))
        self.assertEqual(self.out["passwd carlos"], self.passwd_line(CARLOS))
        self.assertTrue(self.out["passwd carlos"].startswith("doe, carlos:*:"))
        self.assertEqual(self.probe["zo\u00eb"]["passwd"][0], "zo\u00eb")

    def test_no_enumeration(self):
        """sssd's default (enumerate = false): getent passwd lists no directory user."""
        self.assertEqual(self.out["all passwd"], "rc=0")

    # --- groups ----------------------------------------------------------
    def test_groups_by_name_and_number(self):
        dn, a = self.srv.groups["Web + Mobile"]
        name, _, gid, members = self.out["group Web + Mobile"].split(":")
        self.assertEqual((name, gid), ("Web + Mobile", a["gidNumber"][0].decode()))
        self.assertEqual(set(members.split(",")), {"bjork@example.is", "rkumar", "anunez", "fdupont",
                                                   "samlp|acme-saml|ext-00417"})
        name, _, gid, members = self.out["group by number"].split(":")
        self.assertEqual(name, "Data")
        self.assertEqual(set(members.split(",")), {"zo\u00eb", "chenwei.dev@gmail.com"})

    def test_native_group(self):
        """A native group nested two levels (groups.json), as sssd reads it."""
        dn, a = self.srv.groups["Workforce"]
        name, _, gid, members = self.out["group Workforce"].split(":")
        self.assertEqual((name, gid), ("Workforce", a["gidNumber"][0].decode()))
        self.assertEqual(set(members.split(",")), {"rkumar", "anunez", "olu.adeyemi@acme.example", "sven.eriksson@acme.example",
                "mei.tanaka@acme.example", "lzolc"})

    def test_member_lists_match_the_directory(self):
        """sssd reads member DNs (rfc2307bis); the names it returns are the
        uids of the flattened membership, odd characters included."""
        sre = self.probe["@SRE"][1]
        self.assertEqual(len(sre), SRE_SIZE)
        self.assertIn("doe, carlos", sre)
        self.assertIn('#edge,case+"all"\\<chars>;x=y ', sre)
        self.assertEqual(set(GROUPS), set(self.srv.groups))
        for cn in GROUPS:
            a = self.srv.groups[cn][1]
            want = sorted(v.decode() for v in a.get("memberUid", []))
            self.assertEqual(self.probe["@" + cn], [int(a["gidNumber"][0]), want], cn)
        self.assertEqual(self.probe["@Alumni"][1], [])
        self.assertIsNone(self.probe["@Admin"])          # a role: not under ldap_group_search_base

    def test_id_lists_flattened_groups(self):
        m = re.match(r"uid=(\d+)\(jane\) gid=(\d+) groups=(.*)$", self.out["id jane"])
        self.assertTrue(m, self.out["id jane"])
        self.assertEqual((m.group(1), m.group(2)), (self.srv.attr(JANE, "uidNumber"), self.srv.attr(JANE, "gidNumber")))
        self.assertEqual(set(re.findall(r"\d+\(([^)]*)\)", m.group(3))), JANE_GROUPS)
        self.assertIn("(SRE)", self.out["id carlos"])
        self.assertEqual(self.groups_of("jane"), JANE_GROUPS)
        self.assertEqual(self.groups_of("doe, carlos"), JANE_GROUPS)
        self.assertEqual(self.groups_of(self.srv.uid(SIOBHAN)), SIOBHAN_GROUPS)
        self.assertEqual(self.groups_of(self.srv.uid(FNOVAK)), set())
        self.assertEqual(self.groups_of("zo\u00eb"), {"Data", "Platform", "Finance", "Engineering", "Acme Corp"})

    # --- PAM login through sssd (binds go to the module, Auth0 checks) ------
    def test_pam_login(self):
        self.assertIn("successfully authenticated", self.out["login jane"])
        self.assertIn("account management done", self.out["login jane"])
        self.assertTrue(self.out["login jane"].endswith("rc=0"))
        self.assertIn("Authentication failure", self.out["login jane wrong"])
        self.assertTrue(self.out["login jane wrong"].endswith("rc=1"))
        self.assertTrue(self.out["login mrossi mfa"].endswith("rc=0"), self.out["login mrossi mfa"])
        self.assertTrue(self.out["login carlos"].endswith("rc=0"), self.out["login carlos"])
        self.assertTrue(self.out["login google"].endswith("rc=1"), self.out["login google"])
        self.assertGreaterEqual(self.logins_after - self.logins_before, 4)
        log = self.srv.slapd.log_text()
        self.assertRegex(log, r'BIND dn="uid=doe\\2C carlos,ou=people,dc=example,dc=com" mech=SIMPLE '
                              r'bind_ssf=0 ssf=\d{3}')   # over TLS: sssd refuses plain-text passwords
        # the Google user: no password at Auth0, answered like a wrong one (49)
        self.assertIn("the user's connection takes no passwords (not asked)", log)
        self.assertNotRegex(log, r"RESULT tag=97 err=48 ")


if __name__ == "__main__":
    unittest.main()
