"""The shipped example configurations (examples/slapd.conf and its cn=config
form examples/config.ldif) run as they are, with only the values their
headers list replaced (paths into a temporary directory, the simulator's
address and CA, this process's uid/gid for root's ldapi identity), and
their access rules hold: anonymous clients read nothing of the tree, simple
binds need TLS, a user binds with the Auth0 password and reads what the
rules allow, the service account reads the tree, and only root over
ldapi:/// reads cn=config (the olcAuth0* values) and cn=Monitor."""
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse

import ldap

from harness import CERTS, MODULE, SAMPLE, SLAPD, TOP, free_port, simulator, slapd_env
from test_bind import SECRETS, USERS, plain_user

EXAMPLES = os.path.join(TOP, "examples")
SUFFIX = "dc=example,dc=com"
READER = "cn=reader,ou=services," + SUFFIX
READER_PW = "reader-Passw0rd-example"
CONNECTION = "Username-Password-Authentication"
SLAPADD = os.environ.get("AUTH0_SLAPADD", "/usr/sbin/slapadd")
SLAPCAT = os.environ.get("AUTH0_SLAPCAT", "/usr/sbin/slapcat")
SLAPTEST = os.environ.get("AUTH0_SLAPTEST", "/usr/sbin/slaptest")
SLAPPASSWD = os.environ.get("AUTH0_SLAPPASSWD", "/usr/sbin/slappasswd")


# The module built without sanitizers (scripts/check builds it first): the
# offline comparison of the two forms loads it, without ASan preloaded.
PLAIN_MODULE = os.path.join(TOP, "_build/obj/back-auth0/.libs/back_auth0.so")


def tool(argv, plain=False):
    """Runs slapadd, slaptest or slapcat; (exit status, stdout, stderr).

    Under scripts/check --sanitize (AUTH0_PRELOAD) these tools, with the
    ASan runtime preloaded, can hang in exit() once their work is done
    (libp11-kit's destructor waits on glibc's locale lock): a run that has
    not ended after a minute is then stopped and counted as done."""
    try:
        env = dict(os.environ) if plain else slapd_env()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                           timeout=60 if os.environ.get("AUTH0_PRELOAD") else 600)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    except subprocess.TimeoutExpired as e:
        if not os.environ.get("AUTH0_PRELOAD"):
            raise
        return 0, (e.stdout or b"").decode(), (e.stderr or b"").decode()


def render(name, subs, module=MODULE):
    """examples/name with each (old, new) replaced; every old must occur."""
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
        text = f.read()
    for old, new in subs:
        if old not in text:
            raise AssertionError("%s no longer contains %r" % (name, old))
        text = text.replace(old, new.replace("@MODULE@", module))
    return text


def substitutions(d, sim):
    """What the examples' headers say to replace, for a run in directory d."""
    ids = "gidNumber=%d+uidNumber=%d" % (os.getgid(), os.getuid())
    return [
        ("/etc/ldap/schema/rfc2307bis.", os.path.join(TOP, "schema/rfc2307bis.")),
        ("/etc/ldap/schema/auth0.", os.path.join(TOP, "schema/auth0.")),
        ("/run/slapd/", d + "/"),
        ("/var/lib/ldap/auth0", os.path.join(d, "db")),
        ("/etc/ldap/tls/ldap.pem", os.path.join(CERTS, "server.pem")),
        ("/etc/ldap/tls/ldap.key", os.path.join(CERTS, "server.key")),
        ("/etc/ldap/tls/ca.pem", os.path.join(CERTS, "ca.pem")),
        ("example.eu.auth0.com", "127.0.0.1:%d" % sim.port),
        ("EXAMPLE-CLIENT-ID", "sim-m2m-client"),
        ("/etc/ldap/auth0.secret", os.path.join(d, "auth0.secret")),
        ("https://example.eu.webtask.run/adf6e2f2b84784b57522e3b19dfc9201/api",
         "https://127.0.0.1:%d/authz/api" % sim.port),
        ("/etc/ldap/auth0-ca.pem", os.path.join(CERTS, "ca.pem")),
        ("gidNumber=0+uidNumber=0", ids),
    ]


CONF_SUBS = [("moduleload\tback_auth0.so", "moduleload\t@MODULE@"),
             ("#auth0-ca-file", "auth0-ca-file"),
             ("auth0-request-rate\t\t2", "auth0-request-rate\t\t0")]     # a quick test
LDIF_SUBS = [("olcModuleLoad: {1}back_auth0.so", "olcModuleLoad: {1}@MODULE@"),
             ("#olcAuth0CaFile", "olcAuth0CaFile"),
             ("olcAuth0RequestRate: 2", "olcAuth0RequestRate: 0")]


class Server:
    """slapd from an example: ldap:// on a free port and ldapi:// in d."""

    def __init__(self, d, source):
        self.d, self.source = d, source
        self.port = free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.sock = os.path.join(d, "ldapi")
        self.ldapi = "ldapi://" + urllib.parse.quote(self.sock, safe="")
        self.log = os.path.join(d, "slapd.log")
        self.proc = None

    def start(self):
        argv = [SLAPD, "-d", "stats", "-h", "%s/ %s/" % (self.url, self.ldapi)] + self.source
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=slapd_env())
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("slapd exited:\n" + self.log_text()[-3000:])
            if "auth0: refresh of" in self.log_text():
                return self
            time.sleep(0.1)
        raise AssertionError("no refresh:\n" + self.log_text()[-3000:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
        self.proc = None

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def plain(self):
        c = ldap.initialize(self.url)
        c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        c.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
        return c

    def tls(self, dn=None, pw=None):
        """StartTLS, verifying the server, then a simple bind if dn."""
        c = self.plain()
        c.set_option(ldap.OPT_X_TLS_CACERTFILE, os.path.join(CERTS, "ca.pem"))
        c.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
        c.start_tls_s()
        if dn is not None:
            c.simple_bind_s(dn, pw)
        return c

    def root(self):
        c = ldap.initialize(self.ldapi)
        c.sasl_external_bind_s()
        return c


def search(c, base, filt="(objectClass=*)", attrs=None, scope=ldap.SCOPE_SUBTREE):
    """Entries found (an invisible base is the same as none)."""
    try:
        return [(dn, a) for dn, a in c.search_s(base, scope, filt, attrs) if dn]
    except ldap.NO_SUCH_OBJECT:
        return []


class Examples(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        cls.users = sorted(u for u, v in USERS.items()
                           if v["identities"][0]["connection"] == CONNECTION)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="examples-", dir=os.path.join(TOP, "tests/tmp"))
        os.makedirs(os.path.join(self.d, "db"))
        with open(os.open(os.path.join(self.d, "auth0.secret"),
                          os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("sim-m2m-secret\n")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
            if os.environ.get("AUTH0_PRELOAD"):     # scripts/check --sanitize
                report = re.search(r"(ERROR: AddressSanitizer.*|.*runtime error:.*)",
                                   self.server.log_text())
                self.assertIsNone(report, report and report.group(1))
        if not os.environ.get("AUTH0_KEEP_TMP"):
            shutil.rmtree(self.d, ignore_errors=True)

    def services(self):
        """examples/services.ldif with a real hash, added as root."""
        pwfile = os.path.join(self.d, "reader.password")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(READER_PW)
        p = subprocess.run([SLAPPASSWD, "-T", pwfile], stdout=subprocess.PIPE, check=True)
        text = render("services.ldif", [("{SSHA}REPLACE-WITH-THE-OUTPUT-OF-SLAPPASSWD",
                                         p.stdout.decode().strip())])
        c = self.server.root()
        try:
            for block in text.split("\n\n"):
                lines = [l for l in block.splitlines() if l and not l.startswith("#")]
                if not lines:
                    continue
                dn = lines[0].split(": ", 1)[1]
                attrs = {}
                for l in lines[1:]:
                    k, v = l.split(": ", 1)
                    attrs.setdefault(k, []).append(v.encode())
                c.add_s(dn, list(attrs.items()))
        finally:
            c.unbind_s()

    # --- what both forms must do ------------------------------------------
    def verify(self):
        s = self.server
        self.services()
        uid, pw = plain_user()
        self.assertIn(uid, self.users)
        # every imported user of the connection is there (as root sees it)
        c = s.root()
        people = {a["auth0UserId"][0].decode(): dn for dn, a in
                  search(c, "ou=people," + SUFFIX, "(objectClass=auth0User)", ["auth0UserId"])}
        c.unbind_s()
        self.assertEqual(sorted(people), self.users)
        me = people[uid]
        other = next(u for u in self.users if u != uid and USERS[u].get("app_metadata"))

        # anonymous: nothing below the suffix, with or without TLS
        for c in (s.plain(), s.tls()):
            self.assertEqual(search(c, SUFFIX), [])
            self.assertEqual(search(c, SUFFIX, "(uid=*)", ["uid"]), [])
            self.assertEqual(c.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])
                             [0][1]["namingContexts"], [SUFFIX.encode()])   # the root DSE stays
            c.unbind_s()

        # a simple bind without TLS is refused before the password is looked at
        c = s.plain()
        with self.assertRaises(ldap.CONFIDENTIALITY_REQUIRED):
            c.simple_bind_s(me, pw)
        c.unbind_s()

        # a user binds with the Auth0 password; a wrong one is refused
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            s.tls(me, pw + "-wrong")
        c = s.tls(me, pw)
        self.assertEqual(c.whoami_s(), "dn:" + me)
        mine = search(c, me, attrs=["*"], scope=ldap.SCOPE_BASE)
        self.assertEqual(len(mine), 1)
        if USERS[uid].get("app_metadata"):
            self.assertIn("auth0AppMetadata", mine[0][1])               # own metadata
        seen = search(c, "ou=people," + SUFFIX, "(objectClass=auth0User)", ["uid", "auth0AppMetadata"])
        self.assertEqual(len(seen), len(self.users))                     # users read the tree
        theirs = [a for dn, a in seen if dn == people[other]][0]
        self.assertNotIn("auth0AppMetadata", theirs)                     # not others' metadata
        self.assertTrue(search(c, "ou=groups," + SUFFIX, "(objectClass=groupOfNames)", ["member"]))
        self.assertEqual(search(c, READER, attrs=["userPassword"], scope=ldap.SCOPE_BASE)[0][1], {})
        c.unbind_s()

        # the service account reads everything but passwords
        c = s.tls(READER, READER_PW)
        seen = search(c, "ou=people," + SUFFIX, "(objectClass=auth0User)", ["uid", "auth0AppMetadata"])
        self.assertEqual(len(seen), len(self.users))
        self.assertIn("auth0AppMetadata", [a for dn, a in seen if dn == people[other]][0])
        self.assertEqual(search(c, READER, attrs=["userPassword"], scope=ldap.SCOPE_BASE)[0][1], {})
        c.unbind_s()
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            s.tls(READER, "not-the-password")

        # cn=config and cn=Monitor: nobody but root over ldapi
        for who, c in (("anonymous", s.tls()), ("a user", s.tls(me, pw)),
                       ("the service account", s.tls(READER, READER_PW))):
            self.assertEqual(search(c, "cn=config", "(objectClass=olcAuth0Config)"), [], who)
            self.assertEqual(search(c, "cn=config", "(olcAuth0ClientSecretFile=*)"), [], who)
            self.assertEqual(search(c, "cn=Monitor", "(objectClass=*)", ["*", "+"]), [], who)
            c.unbind_s()
        c = s.root()
        conf = search(c, "cn=config", "(objectClass=olcAuth0Config)")
        self.assertEqual(len(conf), 1)
        self.assertEqual(conf[0][1]["olcAuth0ClientSecretFile"],
                         [os.path.join(self.d, "auth0.secret").encode()])
        mon = search(c, "cn=Monitor", "(objectClass=auth0MonitorInfo)", ["+"])
        self.assertEqual(int(mon[0][1]["auth0MonUsers"][0]), len(self.users))
        c.unbind_s()
        self.assertNotIn("sim-m2m-secret", s.log_text())
        self.assertNotIn(pw, s.log_text())
        self.assertNotIn("readable by", s.log_text())        # the secret file is mode 600

    # --- the two forms --------------------------------------------------
    def test_slapd_conf(self):
        conf = os.path.join(self.d, "slapd.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(render("slapd.conf", substitutions(self.d, self.sim) + CONF_SUBS))
        self.server = Server(self.d, ["-f", conf]).start()
        self.verify()

    def test_config_ldif(self):
        ldif = os.path.join(self.d, "config.ldif")
        with open(ldif, "w", encoding="utf-8") as f:
            f.write(render("config.ldif", substitutions(self.d, self.sim) + LDIF_SUBS))
        confdir = os.path.join(self.d, "slapd.d")
        os.makedirs(confdir)
        rc, out, err = tool([SLAPADD, "-n0", "-F", confdir, "-l", ldif])
        self.assertEqual(rc, 0, out + err)
        self.server = Server(self.d, ["-F", confdir]).start()
        self.verify()

    def test_both_forms_configure_the_same(self):
        """slaptest's conversion of slapd.conf and slapadd of config.ldif
        give the same access rules, indexes, security and overlay values."""
        plain = bool(os.environ.get("AUTH0_PRELOAD")) and os.path.exists(PLAIN_MODULE)
        module = PLAIN_MODULE if plain else MODULE
        subs = substitutions(self.d, self.sim)
        conf = os.path.join(self.d, "slapd.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(render("slapd.conf", subs + CONF_SUBS, module))
        ldif = os.path.join(self.d, "config.ldif")
        with open(ldif, "w", encoding="utf-8") as f:
            f.write(render("config.ldif", subs + LDIF_SUBS, module))
        # slaptest opens the databases: an empty one first
        rc, out, err = tool([SLAPADD, "-f", conf, "-b", SUFFIX, "-l", os.devnull], plain)
        self.assertEqual(rc, 0, out + err)
        dirs = {}
        for name, argv in (("conf", [SLAPTEST, "-f", conf]), ("ldif", [SLAPADD, "-n0", "-l", ldif])):
            dirs[name] = os.path.join(self.d, "slapd.d-" + name)
            os.makedirs(dirs[name])
            rc, out, err = tool(argv + ["-F", dirs[name]], plain)
            self.assertEqual(rc, 0, out + err)
        got = {name: self.config_values(d, plain) for name, d in dirs.items()}
        self.assertGreater(len([k for k in got["conf"] if "olcAuth0" in k[1]]), 15)
        self.assertEqual(got["conf"], got["ldif"])

    KEYS = re.compile(r"olcAuth0\w+|olcAccess|olcDbIndex|olcSecurity|olcRootDN|olcRootPW|olcSuffix|"
                      r"olcDbMaxSize|olcLimits|olcTLS\w+|olcModuleLoad|olcDatabase|olcOverlay", re.I)
    # what slaptest writes out although the example leaves it at its default
    DEFAULTS = {"olcAuth0BindOtpSeparator": [","], "olcAuth0BindCacheMfaTtl": ["30"],
                "olcAuth0BindTimeout": ["10"], "olcAuth0BindPushTimeout": ["30"],
                "olcAuth0ExportLowSpeed": ["1024 30"],
                "olcAuth0Sync": ["TRUE"], "olcTLSVerifyClient": ["never"],
                "olcAuth0ChangeFeed": ["logs"], "olcAuth0FullRefreshInterval": ["86400"]}

    def config_values(self, confdir, plain=False):
        """{(dn, attribute): sorted values} of what matters, in one spelling:
        one index per attribute, dn.exact as dn.base, ACLs without case,
        "security" of the global section (which slapd.conf also copies to
        each database) only on cn=config, defaults left out."""
        rc, text, err = tool([SLAPCAT, "-n0", "-F", confdir, "-o", "ldif-wrap=no"], plain)
        self.assertEqual(rc, 0, err)
        out, dn = {}, None
        for line in text.splitlines():
            if line.startswith("dn: "):
                dn = line[4:]
                continue
            k, _, v = line.partition(": ")
            if not self.KEYS.fullmatch(k) or (k == "olcSecurity" and dn != "cn=config"):
                continue
            v = re.sub(r"\s+", " ", re.sub(r"^\{\d+\}", "", v)).strip()
            if k == "olcModuleLoad":
                v = os.path.basename(v)
            if k in ("olcAccess", "olcLimits"):
                v = v.replace("dn.exact=", "dn.base=").lower()
            if k == "olcDbIndex":
                names, _, kinds = v.partition(" ")
                for name in names.split(","):
                    out.setdefault((dn, k), []).append(name + " " + kinds)
                continue
            out.setdefault((dn, k), []).append(v)
        return {k: sorted(v) for k, v in out.items() if self.DEFAULTS.get(k[1]) != sorted(v)}

if __name__ == "__main__":
    unittest.main()
