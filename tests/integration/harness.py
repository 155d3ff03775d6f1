"""harness.py - run Debian's slapd with the freshly built back-auth0 module.

Each test gets a temporary directory (under tests/tmp/, git-ignored) holding
a slapd.conf, the database, a copy of the tenant snapshot it may change, and
slapd's log.  slapd runs in the foreground (-d) on a free loopback port,
is waited for until it answers, and is stopped by its pid.  Standard library
and Debian's python3-ldap only (run with /usr/bin/python3).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import ldap

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLAPD = os.environ.get("AUTH0_SLAPD", "/usr/sbin/slapd")
SANITIZED = bool(os.environ.get("AUTH0_PRELOAD"))
PLAIN_MODULE = os.path.join(TOP, "_build/obj/back-auth0/.libs/back_auth0.so")
SLAPTEST = os.environ.get("AUTH0_SLAPTEST", "/usr/sbin/slaptest")
MODULE = os.environ.get(
    "AUTH0_MODULE", os.path.join(TOP, "_build/obj/back-auth0/.libs/back_auth0.so"))
SCHEMA = os.path.join(TOP, "schema/auth0.schema")
SAMPLE = os.environ.get("AUTH0_SAMPLE", os.path.join(TOP, "tests/data/sample-tenant"))
SUFFIX = "dc=example,dc=com"
ROOTDN = "cn=admin," + SUFFIX
ROOTPW = "secret"
PEOPLE = "ou=people," + SUFFIX

TMP = os.path.join(TOP, "tests/tmp")
os.makedirs(TMP, exist_ok=True)

# every slapd log level but packets (0x2) and BER (0x10), which dump raw
# requests (bind passwords included: slapd core, not the module)
LOG_ALL_BUT_DUMPS = str(0xFFFF & ~0x12)

BASE_SCHEMA = ["/etc/ldap/schema/core.schema", "/etc/ldap/schema/cosine.schema",
               "/etc/ldap/schema/inetorgperson.schema", os.path.join(TOP, "schema/rfc2307bis.schema")]


def slapd_env():
    """slapd's environment: with AUTH0_PRELOAD (scripts/check --sanitize)
    the sanitizer runtimes are preloaded into slapd only."""
    env = dict(os.environ)
    pre = env.pop("AUTH0_PRELOAD", "")
    if pre:
        env["LD_PRELOAD"] = pre
    return env


def free_port():
    """A free TCP port on 127.0.0.1 (bind to port 0, as curl's ports.py)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_ndjson(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_ndjson(path, users):
    with open(path, "w", encoding="utf-8") as f:
        for u in users:
            f.write(json.dumps(u, ensure_ascii=False) + "\n")


class Slapd:
    """One slapd instance with the auth0 overlay on an mdb database."""

    def __init__(self, name, tenant=SAMPLE, directives=None, extra_db="", monitor=False):
        os.makedirs(os.path.join(TOP, "tests/tmp"), exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix=name + "-", dir=os.path.join(TOP, "tests/tmp"))
        self.db = os.path.join(self.dir, "db")
        self.snap = os.path.join(self.dir, "snapshot")
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.log = os.path.join(self.dir, "slapd.log")
        os.makedirs(self.db)
        if tenant:
            shutil.copytree(tenant, self.snap)
        self.port = free_port()
        self.url = "ldap://127.0.0.1:%d" % self.port
        self.proc = None
        self.confdir = None
        self.module = MODULE
        self.modules = []
        self.loglevel = "stats,sync"
        self.directives = directives if directives is not None else {
            "auth0-snapshot-dir": self.snap,
            "auth0-refresh-interval": "3600",
        }
        self.extra_db = extra_db
        self.extra_global = ""      # global directives, e.g. sortvals
        self.monitor = monitor
        self.write_conf()

    # configuration ------------------------------------------------------
    def conf_text(self):
        lines = ["include %s" % s for s in BASE_SCHEMA]
        lines += [
            "include %s" % SCHEMA,
            "pidfile %s/slapd.pid" % self.dir,
            "argsfile %s/slapd.args" % self.dir,
            "modulepath /usr/lib/ldap",
            "moduleload back_mdb",
            self.extra_global,
        ] + ["moduleload %s" % m for m in self.modules] + [
            "moduleload %s" % self.module,
            "database config",
            'rootdn "cn=config"',
            "rootpw %s" % ROOTPW,
        ]
        if self.monitor:
            lines += ["database monitor"]
        lines += [
            "database mdb",
            'suffix "%s"' % SUFFIX,
            'rootdn "%s"' % ROOTDN,
            "rootpw %s" % ROOTPW,
            "directory %s" % self.db,
            "maxsize 2147483648",
            "index objectClass eq",
            "index uid,mail,auth0UserId eq",
            self.extra_db,
            "overlay auth0",
        ]
        for key, val in self.directives.items():
            if val is None:
                continue
            vals = val if isinstance(val, list) else [val]
            for v in vals:
                lines.append("%s %s" % (key, v))   # quote in the value where needed
        return "\n".join(lines) + "\n"

    def tool_conf(self):
        """The configuration for slapcat, slaptest and slapadd.  Under
        scripts/check --sanitize these load the module built without the
        sanitizers: the ASan runtime must come first in a process, and at
        exit libp11-kit's destructor can hang before stdout is flushed."""
        if not (SANITIZED and os.path.exists(PLAIN_MODULE)):
            return self.conf
        path = os.path.join(self.dir, "tools.conf")
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.conf_text().replace("moduleload %s\n" % self.module,
                                             "moduleload %s\n" % PLAIN_MODULE))
        return path

    def write_conf(self):
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(self.conf_text())

    # process ------------------------------------------------------------
    def argv(self):
        src = ["-F", self.confdir] if self.confdir else ["-f", self.conf]
        return [SLAPD, "-d", self.loglevel, "-h", self.url + "/"] + src

    def start(self, wait=True):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv(), stdout=self.logf, stderr=subprocess.STDOUT,
                                     env=slapd_env())
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("slapd exited with %s:\n%s" % (self.proc.returncode, self.log_text()[-3000:]))
            try:
                c = ldap.initialize(self.url)
                c.simple_bind_s("", "")
                c.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["namingContexts"])
                c.unbind_s()
                return
            except ldap.SERVER_DOWN:
                time.sleep(0.05)
        raise AssertionError("slapd did not answer on %s" % self.url)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            deadline = time.time() + 20
            while self.proc.poll() is None and time.time() < deadline:
                # under the sanitizers a library destructor (libp11-kit's
                # freelocale) can hang after slapd has finished: not ours
                if SANITIZED and "slapd stopped." in self.log_text():
                    time.sleep(1)
                    break
                time.sleep(0.05)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.logf.close()
        self.proc = None

    def run_expect_failure(self, timeout=15):
        """Starts slapd and expects it to refuse to start; returns its output."""
        if not SANITIZED:
            p = subprocess.run(self.argv(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout, env=slapd_env())
            return p.returncode, p.stdout.decode("utf-8", "replace")
        # the same exit-time hang as in stop(): once slapd says it stopped,
        # the output is complete
        out = os.path.join(self.dir, "failed-start.log")
        with open(out, "wb") as f:
            proc = subprocess.Popen(self.argv(), stdout=f, stderr=subprocess.STDOUT, env=slapd_env())
        deadline = time.time() + timeout
        while proc.poll() is None and time.time() < deadline:
            with open(out, "rb") as f:
                if b"slapd stopped." in f.read():
                    time.sleep(0.5)
                    break
            time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        with open(out, "rb") as f:
            return rc, f.read().decode("utf-8", "replace")

    def cleanup(self, ok=True):
        self.stop()
        if os.environ.get("AUTH0_PRELOAD"):
            report = re.search(r"(ERROR: AddressSanitizer.*|.*runtime error:.*)", self.log_text())
            if report:
                raise AssertionError("sanitizer report in %s: %s" % (self.log, report.group(1)))
        if ok and not os.environ.get("AUTH0_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    # log ----------------------------------------------------------------
    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def refreshes(self):
        return re.findall(r"auth0: refresh of \S+: (\d+) users, (\d+) added, (\d+) modified, "
                          r"(\d+) renamed, (\d+) deleted, (\d+) unchanged, (\d+) errors",
                          self.log_text())

    def wait_refresh(self, count=1, timeout=30):
        """Waits until `count` refreshes have ended; returns the last one's counts."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            done = self.refreshes()
            if len(done) >= count:
                keys = ("users", "added", "modified", "renamed", "deleted", "unchanged", "errors")
                return dict(zip(keys, map(int, done[count - 1])))
            if self.proc and self.proc.poll() is not None:
                raise AssertionError("slapd died:\n" + self.log_text()[-3000:])
            time.sleep(0.05)
        raise AssertionError("no refresh #%d within %ss:\n%s" % (count, timeout, self.log_text()[-3000:]))

    # LDAP ---------------------------------------------------------------
    def conn(self, who=ROOTDN, pw=ROOTPW):
        c = ldap.initialize(self.url)
        c.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        c.simple_bind_s(who, pw)
        return c

    def search(self, base=SUFFIX, filt="(objectClass=*)", attrs=None, scope=ldap.SCOPE_SUBTREE):
        c = self.conn()
        try:
            return c.search_s(base, scope, filt, attrs)
        finally:
            c.unbind_s()

    def people(self, attrs=None):
        """{auth0UserId: (dn, attrs)} of every imported user."""
        want = None if attrs is None else list(attrs) + ["auth0UserId"]
        try:
            res = self.search(PEOPLE, "(objectClass=auth0User)", want, ldap.SCOPE_ONELEVEL)
        except ldap.NO_SUCH_OBJECT:
            return {}
        return {a["auth0UserId"][0].decode(): (dn, a) for dn, a in res}

    def overlay_dn(self):
        res = self.config_conn().search_s("cn=config", ldap.SCOPE_SUBTREE,
                                          "(objectClass=olcAuth0Config)", ["1.1"])
        assert len(res) == 1, res
        return res[0][0]

    def config_conn(self):
        return self.conn("cn=config", ROOTPW)

    def config_set(self, attr, values):
        vals = [v.encode() for v in (values if isinstance(values, list) else [values])]
        c = self.config_conn()
        try:
            c.modify_s(self.overlay_dn(), [(ldap.MOD_REPLACE, attr, vals)])
        finally:
            c.unbind_s()

    def refresh_now(self, timeout=30):
        """Asks for a refresh through cn=config and waits until it ends."""
        n = len(self.refreshes())
        self.config_set("olcAuth0RefreshNow", "TRUE")
        return self.wait_refresh(n + 1, timeout)


# --- the Auth0 simulator (tests/sim), run in this process ------------------
SIM_DIR = os.path.join(TOP, "tests/sim")
CERTS = os.path.join(TOP, "tests/certs")


def certs():
    """Test CA and server certificates (tests/sim/mkcerts, git-ignored)."""
    subprocess.run([os.path.join(SIM_DIR, "mkcerts"), CERTS], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return CERTS


def simulator(tenant, cert="server", **kw):
    """A started auth0sim.Simulator serving the tenant directory."""
    import sys
    if SIM_DIR not in sys.path:
        sys.path.insert(0, SIM_DIR)
    import auth0sim
    d = certs()
    return auth0sim.Simulator(tenant, os.path.join(d, cert + ".pem"),
                              os.path.join(d, cert + ".key"), **kw).start()


def api_directives(s, sim, client_id="sim-m2m-client", secret="sim-m2m-secret", authz=True,
                   feed=False):
    """Directives pointing Slapd s at the simulator (secret in a 0600 file)."""
    path = os.path.join(s.dir, "client.secret")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(secret + "\n")
    d = {"auth0-domain": "127.0.0.1:%d" % sim.port,
         "auth0-client-id": client_id,
         "auth0-client-secret-file": path,
         "auth0-ca-file": os.path.join(CERTS, "ca.pem"),
         "auth0-refresh-interval": "3600",
         "auth0-request-rate": "0",        # tests that want a limit set one
         "auth0-timeout": "3",
         # every refresh a full one, as these tests count on (test_feed.py
         # runs the change feed, the default with the API source)
         "auth0-change-feed": "logs" if feed else "off"}
    if authz:
        d["auth0-authz-url"] = "https://127.0.0.1:%d/authz/api" % sim.port
    return d


def monitor_attrs(s):
    """The auth0Mon* attributes of Slapd s's cn=Monitor entry (as text)."""
    c = s.conn()
    try:
        res = c.search_s("cn=Databases,cn=Monitor", ldap.SCOPE_SUBTREE,
                         "(objectClass=auth0MonitorInfo)", ["+"])
    finally:
        c.unbind_s()
    assert len(res) == 1, res
    return {k: v[0].decode() for k, v in res[0][1].items() if k.startswith("auth0Mon")}
