"""The Debian package (debian/, issue #9): dpkg-buildpackage builds
slapd-auth0 from a copy of the tree; the .deb holds the module, the schemas
and the man page and depends on the installed slapd or a later packaging
revision of its OpenLDAP release (security updates); installed with
dpkg -i, Debian's slapd loads the module by name from its default module
path and imports the sample tenant; the package is purged at the end.

Installing needs root and a Debian machine: where it is not possible the
test fails (it does not skip).  Files the package would overwrite (from a
`make install`) are saved first and put back after the purge."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import ldap

import harness
from harness import TOP, Slapd

PKG = "slapd-auth0"
MODULE_PATH = "/usr/lib/ldap/back_auth0.so"
SCHEMA_DIR = "/etc/ldap/schema"
EXPECTED = [
    "./usr/lib/ldap/back_auth0.so",
    "./etc/ldap/schema/auth0.schema",
    "./etc/ldap/schema/auth0.ldif",
    "./etc/ldap/schema/rfc2307bis.schema",
    "./etc/ldap/schema/rfc2307bis.ldif",
    "./usr/share/man/man5/slapo-auth0.5.gz",
    "./usr/share/doc/%s/copyright" % PKG,
]


def run(argv, cwd=None, env=None, timeout=300):
    p = subprocess.run(argv, cwd=cwd, env=env, timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def dpkg(*args, timeout=90):
    """dpkg, retried while another apt/dpkg holds the lock."""
    deadline = time.time() + timeout
    while True:
        rc, out = run(["dpkg"] + list(args))
        if rc == 0 or "lock" not in out or time.time() > deadline:
            return rc, out
        time.sleep(3)


def installed_version(pkg):
    rc, out = run(["dpkg-query", "-W", "-f=${db:Status-Status} ${Version}", pkg])
    status, _, version = out.strip().partition(" ")
    return version if rc == 0 and status == "installed" else None


def copy_tree(dest):
    """The project's files (tracked and not ignored) copied to dest, and
    _build/ pointing at the OpenLDAP source scripts/setup prepared."""
    rc, out = run(["git", "-C", TOP, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    if rc != 0:
        raise AssertionError("git ls-files failed: " + out)
    for rel in filter(None, out.split("\0")):
        src = os.path.join(TOP, rel)
        if not os.path.isfile(src):        # deleted but still tracked
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    os.makedirs(os.path.join(dest, "_build"))
    for d in ("openldap-src", "openldap-obj"):
        os.symlink(os.path.join(TOP, "_build", d), os.path.join(dest, "_build", d))


class InstalledSlapd(Slapd):
    """harness.Slapd reading the schemas the package installed."""

    def conf_text(self):
        text = super().conf_text()
        text = text.replace(harness.SCHEMA, os.path.join(SCHEMA_DIR, "auth0.schema"))
        return text.replace(os.path.join(TOP, "schema/rfc2307bis.schema"),
                            os.path.join(SCHEMA_DIR, "rfc2307bis.schema"))


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="debpkg-", dir=harness.TMP)
        cls.src = os.path.join(cls.work, "back-auth0")
        copy_tree(cls.src)
        # a git repository of the copy, to see what the build leaves behind
        for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                     ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "copy"]):
            rc, out = run(argv, cwd=cls.src)
            assert rc == 0, out
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH0_")}
        env["DEB_BUILD_OPTIONS"] = "parallel=%d" % (os.cpu_count() or 1)
        cls.build_rc, cls.build_log = run(["dpkg-buildpackage", "-b", "-us", "-uc"], cwd=cls.src, env=env)
        with open(os.path.join(cls.work, "build.log"), "w") as f:
            f.write(cls.build_log)
        debs = [f for f in os.listdir(cls.work) if f.startswith(PKG + "_") and f.endswith(".deb")]
        cls.deb = os.path.join(cls.work, debs[0]) if len(debs) == 1 else None

    @classmethod
    def tearDownClass(cls):
        if not os.environ.get("AUTH0_KEEP_TMP"):
            shutil.rmtree(cls.work, ignore_errors=True)

    def setUp(self):
        self.assertEqual(self.build_rc, 0, self.build_log[-4000:])
        self.assertIsNotNone(self.deb, "no %s .deb in %s" % (PKG, os.listdir(self.work)))

    def field(self, name):
        rc, out = run(["dpkg-deb", "-f", self.deb, name])
        self.assertEqual(rc, 0, out)
        return out.strip()

    def test_1_build_leaves_the_tree_clean(self):
        rc, out = run(["git", "status", "--porcelain"], cwd=self.src)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out, "", "the package build left files git does not ignore")
        # nothing configured in the tree itself: scripts/build still works
        self.assertFalse(os.path.exists(os.path.join(self.src, "config.status")))
        # (not into scripts/check --sanitize's AUTH0_BUILD_DIR of the real tree)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTH0_")}
        rc, out = run([os.path.join(self.src, "scripts/build")], cwd=self.src, env=env)
        self.assertEqual(rc, 0, out)
        self.assertTrue(os.path.exists(os.path.join(self.src, "_build/obj/back-auth0/.libs/back_auth0.so")))

    def test_2_contents(self):
        rc, out = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(rc, 0, out)
        files = [line.split()[-1] for line in out.splitlines()]
        for f in EXPECTED:
            self.assertIn(f, files)
        self.assertFalse([f for f in files if f.endswith(".la")], files)
        self.assertEqual(self.field("Package"), PKG)
        # the schemas in /etc are conffiles, as slapd's own are
        x = os.path.join(self.work, "control")
        rc, out = run(["dpkg-deb", "-e", self.deb, x])
        self.assertEqual(rc, 0, out)
        with open(os.path.join(x, "conffiles")) as f:
            self.assertIn("/etc/ldap/schema/auth0.schema", f.read().split())
        # the module exports init_module only
        x = os.path.join(self.work, "extract")
        rc, out = run(["dpkg-deb", "-x", self.deb, x])
        self.assertEqual(rc, 0, out)
        rc, out = run(["nm", "-D", "--defined-only", x + MODULE_PATH])
        own = [l.split()[-1] for l in out.splitlines() if l.split()[-1] not in ("_init", "_fini")]
        self.assertEqual(own, ["init_module"])

    def test_3_depends_on_the_installed_slapds_release(self):
        slapd = installed_version("slapd")
        self.assertIsNotNone(slapd, "slapd is not installed")
        depends = [d.strip() for d in self.field("Depends").split(",")]
        upstream = slapd.split(":")[-1].split("+")[0].split("-")[0]
        parts = upstream.split(".")
        nxt = ".".join(parts[:-1] + [str(int(parts[-1]) + 1)]) + "~"
        self.assertEqual([d for d in depends if d.startswith("slapd ")],
                         ["slapd (>= %s)" % slapd, "slapd (<< %s)" % nxt])
        # a security update of slapd satisfies it, the next release does not
        for other, ok in ((slapd + "+deb12u1", True), (upstream + "+dfsg-6", True),
                          (nxt[:-1] + "+dfsg-1", False), (nxt[:-1] + "~rc1", False)):
            rc = subprocess.run(["dpkg", "--compare-versions", other, "lt", nxt]).returncode
            rc2 = subprocess.run(["dpkg", "--compare-versions", other, "ge", slapd]).returncode
            self.assertEqual(rc == 0 and rc2 == 0, ok, other)
        self.assertTrue(any(d.startswith("libcurl3-gnutls") for d in depends), depends)
        # a rebuild for another slapd is another version of the package
        with open(os.path.join(TOP, "debian/changelog"), encoding="utf-8") as f:
            source = f.readline().split()[1].strip("()")
        self.assertEqual(self.field("Version"),
                         source + "+slapd" + slapd.replace("-", ".").replace(":", "."))

    def test_4_install_load_by_name_and_purge(self):
        self.assertEqual(os.geteuid(), 0, "installing the package needs root")
        self.assertIsNone(installed_version(PKG),
                          "%s is already installed here: purge it before running this test" % PKG)
        # files of a `make install` the package would overwrite: saved, put back
        rc, out = run(["sh", "-c", 'dpkg-deb --fsys-tarfile "$1" | tar -t', "-", self.deb])
        self.assertEqual(rc, 0, out)
        paths = ["/" + p[2:] for p in out.split() if p.startswith("./") and not p.endswith("/")]
        saved = os.path.join(self.work, "saved")
        before = [p for p in paths if os.path.isfile(p)]
        for p in before:
            os.makedirs(os.path.dirname(saved + p), exist_ok=True)
            shutil.copy2(p, saved + p)
        try:
            rc, out = dpkg("-i", self.deb)
            self.assertEqual(rc, 0, out)
            self.assertIsNotNone(installed_version(PKG))
            rc, out = run(["dpkg", "-L", PKG])
            self.assertIn(MODULE_PATH, out.split())
            rc, out = run(["man", "-w", "slapo-auth0"])
            self.assertEqual(out.strip(), "/usr/share/man/man5/slapo-auth0.5.gz")

            s = InstalledSlapd("debpkg")
            s.module = "back_auth0.so"        # by name, from slapd's module path
            s.write_conf()
            self.assertIn("\nmoduleload back_auth0.so\n", s.conf_text())
            self.assertIn("include %s/auth0.schema\n" % SCHEMA_DIR, s.conf_text())
            try:
                s.start()
                self.assertGreater(s.wait_refresh(1)["users"], 40)
                res = s.search(harness.PEOPLE, "(uid=jane)", ["mail", "auth0UserId"], ldap.SCOPE_ONELEVEL)
                self.assertEqual(len(res), 1, res)
                self.assertEqual(res[0][1]["mail"], [b"jane.doe@example.com"])
                self.assertEqual(res[0][1]["auth0UserId"], [b"auth0|5c8a1e5d3f9a1c7e52004a2c"])
            finally:
                s.cleanup()
        finally:
            rc, out = dpkg("--purge", PKG)
            for p in before:
                os.makedirs(os.path.dirname(p), exist_ok=True)
                shutil.copy2(saved + p, p)
        self.assertEqual(rc, 0, out)
        self.assertIsNone(installed_version(PKG))
        for p in paths:
            self.assertEqual(os.path.exists(p), p in before, p)


if __name__ == "__main__":
    unittest.main()
