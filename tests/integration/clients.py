"""clients.py - what the client tests (test_clients_*.py) share.

* Server: Debian's slapd with the module serving the sample tenant (the
  data from the snapshot, passwords checked by the Auth0 simulator, as in
  test_bind), StartTLS with the test CA, and a service account
  cn=reader,ou=services outside the imported tree whose password lives in
  a file, as the example configurations expect.
* isolated(): runs a shell script in a private mount namespace (unshare
  -m) with a tmpfs over /run and bind mounts over the client's files, so
  that a real nslcd or sssd, getent and id never touch the host's NSS.
* The sample tenant's facts the client tests check (from
  tests/data/README.md and the tenant files, not from the module).
"""
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import unittest

import ldap

from harness import CERTS, SAMPLE, SUFFIX, Slapd, api_directives, free_port, simulator

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "examples", "clients")
GROUPS = "ou=groups," + SUFFIX
SERVICES = "ou=services," + SUFFIX
READER = "cn=reader," + SERVICES

# --- the sample tenant ----------------------------------------------------
with open(os.path.join(SAMPLE, "sim-users.json"), encoding="utf-8") as _f:
    PASSWORDS = {k: v["password"] for k, v in json.load(_f).items()}
with open(os.path.join(SAMPLE, "users.ndjson"), encoding="utf-8") as _f:
    USERS = {u["user_id"]: u for u in map(json.loads, filter(str.strip, _f))}

JANE = "auth0|5c8a1e5d3f9a1c7e52004a2c"            # jane: SRE, so Platform, Engineering, Acme Corp
CARLOS = "auth0|622729203f9a1c7e52004b1c"          # uid "doe, carlos": SRE
MROSSI = "auth0|5dc12ae93f9a1c7e52004a4c"          # MFA (password,123456): On-Call, SRE, ...
FNOVAK = "auth0|640163673f9a1c7e52004bb1"          # in no group
SIOBHAN = "auth0|659bc0983f9a1c7e52004c0c"         # Auditors and Compliance (the cycle), Finance, Acme Corp
JANE_GROUPS = {"SRE", "Platform", "Engineering", "Acme Corp"}
SIOBHAN_GROUPS = {"Auditors", "Compliance", "Finance", "Acme Corp"}
SRE_SIZE = 8
USER_COUNT = len(USERS)                            # 53: every connection is imported


def read(name):
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as f:
        return f.read()


def set_line(text, key, value, sep=" "):
    """The example `text` with the value of its (uncommented) `key` line
    replaced; fails when the line is not there exactly once."""
    if sep.strip():
        pat = r"^(%s[ \t]*%s[ \t]*)\S.*$" % (re.escape(key), re.escape(sep.strip()))
    else:
        pat = r"^(%s[ \t]+)\S.*$" % re.escape(key)
    new, n = re.subn(pat, lambda m: m.group(1) + value, text, flags=re.M)
    assert n == 1, "%r: %d lines in the example" % (key, n)
    return new


# --- the server -----------------------------------------------------------
class TlsSlapd(Slapd):
    """Slapd with StartTLS on its ldap:// port and an ldaps:// port too (the
    test CA's 127.0.0.1 certificate)."""

    def __init__(self, *args, **kw):
        self.ldaps_port = free_port()
        self.ldaps_url = "ldaps://127.0.0.1:%d" % self.ldaps_port
        super().__init__(*args, **kw)

    def argv(self):
        argv = super().argv()
        i = argv.index("-h")
        argv[i + 1] = "%s/ %s/" % (self.url, self.ldaps_url)
        return argv

    def conf_text(self):
        tls = ["TLSCACertificateFile %s" % os.path.join(CERTS, "ca.pem"),
               "TLSCertificateFile %s" % os.path.join(CERTS, "server.pem"),
               "TLSCertificateKeyFile %s" % os.path.join(CERTS, "server.key")]
        return "\n".join(tls) + "\n" + super().conf_text()


class Server:
    """The sample tenant behind a slapd with the module; call close()."""

    def __init__(self, name, directives=None, tenant=SAMPLE, extra_db=""):
        self.sim = simulator(SAMPLE)
        try:
            s = self.slapd = TlsSlapd(name, tenant=tenant, extra_db=extra_db)
            s.directives.update(api_directives(s, self.sim, authz=False))
            s.directives["auth0-snapshot-dir"] = s.snap          # data offline, passwords live
            s.directives.update({"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"})
            s.directives.update(directives or {})
            s.write_conf()
            s.start()
            s.wait_refresh(1)
        except Exception:
            self.sim.stop()
            raise
        self.url = s.url
        self.port = s.port
        self.ldaps_url = s.ldaps_url
        self.dir = s.dir
        self.ca = os.path.join(CERTS, "ca.pem")
        # the service account the examples bind as, its password in a file
        self.reader_pw = secrets.token_urlsafe(18)
        self.reader_pw_file = os.path.join(s.dir, "reader.secret")
        with open(os.open(self.reader_pw_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write(self.reader_pw + "\n")
        c = s.conn()
        c.add_s(SERVICES, [("objectClass", [b"organizationalUnit"]), ("ou", [b"services"])])
        c.add_s(READER, [("objectClass", [b"simpleSecurityObject", b"organizationalRole"]),
                         ("cn", [b"reader"]), ("userPassword", [self.reader_pw.encode()])])
        c.unbind_s()
        self.people = s.people(["uid", "uidNumber", "gidNumber", "cn", "homeDirectory", "loginShell",
                                "mail", "memberOf"])
        self.groups = {a["cn"][0].decode(): (dn, a) for dn, a in
                       s.search(GROUPS, "(objectClass=posixGroup)", ["cn", "gidNumber", "memberUid", "member"],
                                ldap.SCOPE_ONELEVEL)}

    def dn(self, user_id):
        return self.people[user_id][0]

    def attr(self, user_id, name):
        return self.people[user_id][1][name][0].decode()

    def uid(self, user_id):
        return self.attr(user_id, "uid")

    def login(self):
        """A connection bound as the service account."""
        c = ldap.initialize(self.url)
        c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        c.simple_bind_s(READER, self.reader_pw)
        return c

    def close(self, ok=True):
        try:
            self.slapd.cleanup(ok)
        finally:
            self.sim.stop()


# --- private mount namespaces ---------------------------------------------
class ServerCase(unittest.TestCase):
    """A Server for the whole class; the class's run_clients() runs the real
    client against it once, and the tests read what it printed."""
    NAME = None

    @classmethod
    def setUpClass(cls):
        cls.srv = Server(cls.NAME)
        try:
            cls.run_clients()
        except Exception:
            cls.srv.close(ok=False)
            raise

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    @classmethod
    def run_script(cls, script, steps, binds):
        """Runs script (which starts the daemon as $pid), then each (name,
        command) of steps, in a private mount namespace with binds; keeps
        the output by section in cls.out and the logins it made."""
        script = list(script)
        for name, cmd in steps:
            script += ["echo '=== %s'" % name, "{ %s; } 2>&1" % cmd]
        script += ["kill $pid", "wait $pid"]
        cls.logins_before = cls.logins()
        rc, out, err = isolated("\n".join(script), binds)
        cls.logins_after = cls.logins()
        if rc not in (0, 143):
            raise AssertionError("namespace script exited %d:\n%s\n%s" % (rc, out, err))
        cls.out = sections(out)
        cls.probe = json.loads(cls.out["probe"])

    @classmethod
    def logins(cls):
        """Password logins the simulator has answered so far."""
        return cls.srv.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)

    def passwd_line(self, user_id):
        s = self.srv
        return "%s:*:%s:%s:%s:%s:%s" % (s.uid(user_id), s.attr(user_id, "uidNumber"), s.attr(user_id, "gidNumber"),
                                        s.attr(user_id, "cn"), s.attr(user_id, "homeDirectory"),
                                        s.attr(user_id, "loginShell"))


def need(*programs):
    """Absolute paths of the programs; fails (never skips) when one is missing:
    scripts/setup installs them."""
    found = []
    for p in programs:
        path = shutil.which(p, path="/usr/sbin:/usr/bin:/sbin:/bin")
        assert path, "%s is not installed (scripts/setup installs it)" % p
        found.append(path)
    return found


def isolated(script, binds, dirs=(), timeout=60):
    """Runs bash `script` in a new private mount namespace where a tmpfs
    covers /run (so no host nscd, sssd or nslcd socket is reachable; `dirs`
    are created in it) and each (source, target) of `binds` is bind-mounted
    over target.  Returns (exit status, stdout, stderr)."""
    need("unshare")
    pre = ["set -e", "mount -t tmpfs -o mode=755 tmpfs /run"]
    pre += ["mkdir -p %s" % shlex.quote(d) for d in dirs]
    for src, dst in binds:
        assert os.path.exists(dst), "%s is missing on this host (is its package installed?)" % dst
        pre.append("mount --bind %s %s" % (shlex.quote(src), shlex.quote(dst)))
    pre.append("set +e")
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                        "\n".join(pre) + "\n" + script],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def sections(out):
    """Splits the output of a script that prints '=== NAME' before each
    command's output into {NAME: text}."""
    res, name = {}, None
    for line in out.splitlines():
        if line.startswith("=== "):
            name = line[4:].strip()
            res[name] = []
        elif name is not None:
            res[name].append(line)
    return {k: "\n".join(v) for k, v in res.items()}


def connect(srv, uri=None, starttls=True, who=None, password=None):
    """An LDAPv3 connection as an application opens it: to uri (default the
    StartTLS port), TLS checked against the test CA, StartTLS unless ldaps://,
    bound as `who` when given.  Raises ldap.INVALID_CREDENTIALS on a refused
    bind, as the applications see it."""
    uri = uri or srv.url
    c = ldap.initialize(uri)
    c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    c.set_option(ldap.OPT_REFERRALS, 0)
    c.set_option(ldap.OPT_NETWORK_TIMEOUT, 30)
    c.set_option(ldap.OPT_X_TLS_CACERTFILE, srv.ca)
    c.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    c.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
    if starttls and not uri.startswith("ldaps:"):
        c.start_tls_s()
    if who is not None:
        try:
            c.simple_bind_s(who, password)
        except ldap.LDAPError:
            c.unbind_s()
            raise
    return c


def can_bind(srv, dn, password, uri=None, starttls=True):
    """True when a simple bind as dn with password succeeds, False on
    invalidCredentials (any other error is raised)."""
    try:
        connect(srv, uri, starttls, dn, password).unbind_s()
        return True
    except ldap.INVALID_CREDENTIALS:
        return False
