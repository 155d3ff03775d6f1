"""The man page renders cleanly and documents every directive; the
committed cn=config schema matches the .schema it is generated from; the
guides name only directives and attributes that exist, and deploy.md's
slapd.conf and cn=config commands work as written."""
import os
import re
import subprocess
import unittest

from harness import TOP


class Docs(unittest.TestCase):
    def test_man_page_renders_without_warnings(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        p = subprocess.run(["man", "--warnings", "-l", os.path.join(TOP, "docs/slapo-auth0.5")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode(), "")
        self.assertIn("CONFIGURATION", p.stdout.decode())

    def test_every_directive_documented_in_both_forms(self):
        with open(os.path.join(TOP, "back-auth0/slapd/config.c"), encoding="utf-8") as f:
            code = f.read()
        with open(os.path.join(TOP, "docs/slapo-auth0.5"), encoding="utf-8") as f:
            man = f.read().replace("\\-", "-")
        directives = re.findall(r'\{ "(auth0-[a-z0-9-]+)"', code)
        names = [n for n in re.findall(r"NAME '(olcAuth0\w+)'", code) if n != "olcAuth0Config"]
        self.assertGreaterEqual(len(directives), 8)
        self.assertEqual(len(directives), len(names))
        for d in directives + names:
            self.assertIn(d, man, d)

    def test_ldif_schemas_are_generated(self):
        for name in ("auth0", "rfc2307bis"):
            p = subprocess.run([os.path.join(TOP, "scripts/schema2ldif"),
                                os.path.join(TOP, "schema/%s.schema" % name)], stdout=subprocess.PIPE)
            with open(os.path.join(TOP, "schema/%s.ldif" % name), encoding="utf-8") as f:
                self.assertEqual(p.stdout.decode(), f.read(), name)



# --- the guides (docs/deploy.md, troubleshooting.md, replication.md) -------
import shutil  # noqa: E402

import ldap  # noqa: E402

import harness  # noqa: E402
from harness import ROOTDN, ROOTPW, SLAPD, SLAPTEST, SUFFIX, Slapd, api_directives, certs, free_port, simulator  # noqa: E402

GUIDES = ["docs/deploy.md", "docs/troubleshooting.md", "docs/replication.md", "docs/auth0-setup.md"]
# auth0-... words in the guides that are not directives
NOT_DIRECTIVES = {"auth0-authorization-extension-api", "auth0-forwarded-for"}


def read(rel):
    with open(os.path.join(TOP, rel), encoding="utf-8") as f:
        return f.read()


def fenced(rel):
    """The ``` code blocks of a Markdown file, in order."""
    return re.findall(r"^```[a-z]*\n(.*?)^```$", read(rel), re.S | re.M)


class Guides(unittest.TestCase):
    def test_names_in_the_guides_exist(self):
        man = read("docs/slapo-auth0.5").replace("\\-", "-")
        code = read("back-auth0/slapd/config.c")
        monitor = read("back-auth0/slapd/monitor.c")
        for rel in GUIDES:
            text = read(rel)
            directives = set(re.findall(r"(?<![\w/.:-])auth0-[a-z0-9-]*[a-z0-9](?![\w.-])", text))
            for d in directives - NOT_DIRECTIVES:
                self.assertTrue(d in man, "%s: %s is not in the man page" % (rel, d))
                self.assertTrue('"%s"' % d in code, "%s: %s is not a directive" % (rel, d))
            for a in set(re.findall(r"\bolcAuth0\w+", text)):
                self.assertTrue("'%s'" % a in code, "%s: %s is not a cn=config attribute" % (rel, a))
                self.assertTrue(a in man, "%s: %s is not in the man page" % (rel, a))
            for a in set(re.findall(r"\bauth0Mon\w+", text)):
                self.assertTrue("'%s'" % a in monitor or '"%s"' % a in monitor,
                                "%s: %s is not a cn=Monitor attribute" % (rel, a))
        # every guide is linked from the README
        readme = read("README.md")
        for rel in GUIDES:
            self.assertIn("(%s)" % rel, readme, rel)

    def test_guides_name_the_directives_they_rely_on(self):
        self.assertIn("auth0-max-delete", read("docs/troubleshooting.md"))
        self.assertIn("olcAuth0ForceDelete", read("docs/troubleshooting.md"))
        self.assertIn("auth0-sync", read("docs/replication.md"))


def tls_conn(url, starttls=False):
    c = ldap.initialize(url)
    c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 10)
    c.set_option(ldap.OPT_X_TLS_CACERTFILE, os.path.join(harness.CERTS, "ca.pem"))
    c.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    if starttls:
        c.start_tls_s()
    return c


SERVICE = "cn=reader,ou=services," + SUFFIX
SERVICE_PW = "reader-secret"


class DeployGuide(unittest.TestCase):
    """docs/deploy.md's configurations, run: slapd.conf (TLS, ACLs, indexes,
    monitor) and the cn=config commands in their order."""

    @classmethod
    def setUpClass(cls):
        certs()
        cls.sim = simulator(harness.SAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def sim_values(self, s):
        d = api_directives(s, self.sim)
        return d

    def check_acls(self, s, url, tls_url=None, starttls=True):
        """Anonymous clients see nothing, the service account reads, a user
        binds and reads only their own entry."""
        from test_bind import plain_user
        anon = ldap.initialize(url)
        try:
            found = anon.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
        except (ldap.NO_SUCH_OBJECT, ldap.INSUFFICIENT_ACCESS):
            found = []
        self.assertEqual(found, [])
        admin = tls_conn(url, starttls)
        admin.simple_bind_s(ROOTDN, ROOTPW)
        admin.add_s("ou=services," + SUFFIX, [("objectClass", [b"organizationalUnit"]), ("ou", [b"services"])])
        admin.add_s(SERVICE, [("objectClass", [b"organizationalRole", b"simpleSecurityObject"]),
                              ("cn", [b"reader"]), ("userPassword", [SERVICE_PW.encode()])])
        people = {a["auth0UserId"][0].decode(): dn for dn, a in
                  admin.search_s("ou=people," + SUFFIX, ldap.SCOPE_ONELEVEL, "(objectClass=auth0User)",
                                 ["auth0UserId"])}
        admin.unbind_s()
        self.assertGreater(len(people), 20)
        svc = tls_conn(url, starttls)
        svc.simple_bind_s(SERVICE, SERVICE_PW)
        res = svc.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(uid=jane)", ["mail", "memberOf", "userPassword"])
        self.assertEqual(len(res), 1)
        self.assertEqual(res[0][1]["mail"], [b"jane.doe@example.com"])
        self.assertIn("memberOf", res[0][1])
        res = svc.search_s("ou=services," + SUFFIX, ldap.SCOPE_SUBTREE, "(cn=reader)", ["userPassword"])
        self.assertNotIn("userPassword", res[0][1])
        svc.unbind_s()
        uid, pw = plain_user()
        user = tls_conn(tls_url or url, starttls and not tls_url)
        user.simple_bind_s(people[uid], pw)
        self.assertEqual(user.whoami_s(), "dn:" + people[uid])
        own = user.search_s(people[uid], ldap.SCOPE_BASE, "(objectClass=*)", ["uid"])
        self.assertEqual(len(own), 1)
        # nothing else: the containers are not disclosed, other users not found
        for base in (SUFFIX, "ou=people," + SUFFIX):
            try:
                seen = [dn for dn, a in user.search_s(base, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"]) if dn]
            except ldap.NO_SUCH_OBJECT:
                seen = []
            self.assertLessEqual(set(seen), {people[uid]})
        user.unbind_s()
        return people

    def test_slapd_conf(self):
        block = next(b for b in fenced("docs/deploy.md") if b.startswith("# /etc/ldap/slapd.conf"))
        s = Slapd("deploy-conf", tenant=None, directives={})
        try:
            d = harness.CERTS
            text = block
            for old, new in [
                    ("/etc/ldap/schema/rfc2307bis.schema", os.path.join(TOP, "schema/rfc2307bis.schema")),
                    ("/etc/ldap/schema/auth0.schema", harness.SCHEMA),
                    ("/var/run/slapd/", s.dir + "/"),
                    ("moduleload back_auth0.so", "moduleload " + harness.MODULE),
                    ("/etc/ldap/tls/ca.pem", os.path.join(d, "ca.pem")),
                    ("/etc/ldap/tls/ldap.example.com.pem", os.path.join(d, "server.pem")),
                    ("/etc/ldap/tls/ldap.example.com.key", os.path.join(d, "server.key")),
                    ("{SSHA}output-of-slappasswd", ROOTPW),
                    ("/var/lib/ldap/auth0", s.db)]:
                self.assertIn(old, text)
                text = text.replace(old, new)
            # the overlay pointed at the simulator instead of a tenant
            lines = [l for l in text.splitlines() if not l.startswith("auth0-")]
            self.assertEqual(lines[-1], "overlay    auth0")
            lines += ["%s %s" % kv for kv in self.sim_values(s).items()]
            with open(s.conf, "w") as f:
                f.write("\n".join(lines) + "\n")
            tls_port = free_port()
            tls_url = "ldaps://127.0.0.1:%d" % tls_port
            s.argv = lambda: [SLAPD, "-d", s.loglevel, "-h", "%s/ %s/" % (s.url, tls_url), "-f", s.conf]
            s.start()
            s.wait_refresh(1)
            # simple binds without TLS are refused
            with self.assertRaises(ldap.CONFIDENTIALITY_REQUIRED):
                ldap.initialize(s.url).simple_bind_s(ROOTDN, ROOTPW)
            self.check_acls(s, s.url, tls_url)
            # cn=Monitor: the admin reads the module's status, no one else
            c = tls_conn(s.url, True)
            c.simple_bind_s(ROOTDN, ROOTPW)
            res = c.search_s("cn=Databases,cn=Monitor", ldap.SCOPE_SUBTREE, "(objectClass=auth0MonitorInfo)", ["+"])
            self.assertEqual(len(res), 1)
            self.assertGreater(int(res[0][1]["auth0MonUsers"][0]), 40)
            c = tls_conn(s.url, True)
            c.simple_bind_s(SERVICE, SERVICE_PW)
            try:
                res = c.search_s("cn=Monitor", ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
            except ldap.NO_SUCH_OBJECT:
                res = []
            self.assertEqual(res, [])
        finally:
            s.cleanup()

    def test_cn_config_commands(self):
        blocks = [b for b in fenced("docs/deploy.md") if re.match(r"ldap(add|modify) ", b)]
        self.assertGreaterEqual(len(blocks), 6)
        s = Slapd("deploy-cnconfig", tenant=None, directives={})
        try:
            # a cn=config like Debian's default: module{0} loading back_mdb,
            # one mdb database ({1}mdb), the base schemas
            other = os.path.join(s.dir, "nodomain")
            os.makedirs(other)
            base = ["include /etc/ldap/schema/%s.schema" % n for n in ("core", "cosine", "inetorgperson")] + [
                "pidfile %s/slapd.pid" % s.dir, "argsfile %s/slapd.args" % s.dir,
                "modulepath /usr/lib/ldap", "moduleload back_mdb",
                "database config", 'rootdn "cn=config"', "rootpw %s" % ROOTPW,
                "database mdb", 'suffix "dc=nodomain"', "directory %s" % other]
            with open(s.conf, "w") as f:
                f.write("\n".join(base) + "\n")
            p = subprocess.run(["/usr/sbin/slapadd", "-f", s.conf, "-b", "dc=nodomain"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, input=b"dn: dc=nodomain\nobjectClass: dcObject\n"
                               b"objectClass: organization\no: nodomain\ndc: nodomain\n")
            self.assertEqual(p.returncode, 0, p.stdout.decode())
            s.confdir = os.path.join(s.dir, "slapd.d")
            os.makedirs(s.confdir)
            p = subprocess.run([SLAPTEST, "-f", s.conf, "-F", s.confdir], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.assertEqual(p.returncode, 0, p.stdout.decode())
            s.start()
            secret = self.sim_values(s)
            for old_new in [("-Y EXTERNAL -H ldapi:///", "-x -H %s -D cn=config -w %s" % (s.url, ROOTPW)),
                            ("/etc/ldap/schema/", os.path.join(TOP, "schema") + "/"),
                            ("olcModuleLoad: back_auth0.so", "olcModuleLoad: " + harness.MODULE),
                            ("{SSHA}output-of-slappasswd", ROOTPW),
                            ("/var/lib/ldap/auth0", s.db),
                            ("example.eu.auth0.com", secret["auth0-domain"]),
                            ("THE-CLIENT-ID", secret["auth0-client-id"]),
                            ("/etc/ldap/auth0.secret", secret["auth0-client-secret-file"]),
                            ("olcAuth0RefreshInterval: 900\n", "olcAuth0RefreshInterval: 900\n"
                             "olcAuth0CaFile: %s\nolcAuth0RequestRate: 0\n" % secret["auth0-ca-file"])]:
                self.assertTrue(any(old_new[0] in b for b in blocks), old_new[0])
                blocks = [b.replace(*old_new) for b in blocks]
            for n, b in enumerate(blocks):
                p = subprocess.run(["bash", "-c", b], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                self.assertEqual(p.returncode, 0, "%s\n%s" % (b, p.stdout.decode()))
                if "olcAuth0Config" in b:
                    s.wait_refresh(1)          # the first refresh starts at once
                if "olcAuth0RefreshNow" in b:
                    s.wait_refresh(2)
            self.assertIn("olcAuth0RefreshNow", blocks[-1])
            self.check_acls(s, s.url, starttls=False)
        finally:
            s.cleanup()


if __name__ == "__main__":
    unittest.main()
