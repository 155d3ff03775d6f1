"""Apache httpd with mod_authnz_ldap and examples/clients/apache-authnz-ldap.conf:
the real apache2 on a free loopback port, from a configuration of the
test's own in a temporary directory (Debian's site configuration is not
used), asked with curl.  Apache searches as the service account, binds as
the user over StartTLS (the module asks the Auth0 simulator) and compares
the group's member."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import clients
from clients import CARLOS, FNOVAK, JANE, MROSSI, PASSWORDS, SIOBHAN
from harness import free_port

YAMADA = "auth0|6019f60b3f9a1c7e52004a92"              # SRE; asked only once here (mod_ldap caches logins)
GLINDQVIST = "auth0|612f41103f9a1c7e52004aeb"          # Platform, not SRE; asked only once here
LZOLC = "auth0|65082db03f9a1c7e52004bff"               # native Workforce > Engineering Staff > Backend
RKUMAR = "auth0|6215621e3f9a1c7e52004b12"              # native Workforce, directly
GOOGLE = "google-oauth2|100123699147624185240"      # no password at Auth0: 48


def text_block(text):
    return re.search(r'(?ms)^<Location "/private">.*?^</Location>\n', text).group(0)


def example_with(srv, conf_dir):
    """The example with only the LDAP host:port and the two file paths changed.
    The CA goes beside the configuration: Apache's children (www-data) read
    it at their first StartTLS."""
    ca = os.path.join(conf_dir, "ca.pem")
    shutil.copyfile(srv.ca, ca)
    os.chmod(ca, 0o644)
    text = clients.read("apache-authnz-ldap.conf")
    text, n = re.subn(r"ldap://ldap\.example\.com:389/", "ldap://127.0.0.1:%d/" % srv.port, text)
    assert n == 1
    text, n = re.subn(r"(?m)^(LDAPTrustedGlobalCert CA_BASE64 ).*$", r"\g<1>" + ca, text)
    assert n == 1
    text, n = re.subn(r"/etc/apache2/ldap-reader\.secret", srv.reader_pw_file, text)
    assert n == 1
    # a second location: the same, with the example's "Require ldap-filter" form
    block = re.search(r'(?ms)^<Location "/private">.*?^</Location>\n', text).group(0)
    alt = re.search(r"(?m)^#\s+(Require ldap-filter .*)$", text).group(1)
    block = re.sub(r"(?m)^(\s+)Require ldap-group .*$", lambda m: m.group(1) + alt, block)
    text += "\n" + block.replace('"/private"', '"/jenkins-users"')
    # a third: the example's Require ldap-group on a native group (groups.json)
    native = re.sub(r"(?m)^(\s+Require ldap-group )cn=SRE,", r"\1cn=Workforce,", text_block(text))
    text += "\n" + native.replace('"/private"', '"/staff"')
    with open(os.path.join(conf_dir, "example.conf"), "w", encoding="utf-8") as f:
        f.write(text)
    return text


class Apache(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.apache, cls.curl = clients.need("apache2", "curl")
        moddir = "/usr/lib/apache2/modules"
        for m in ("mod_ldap.so", "mod_authnz_ldap.so", "mod_auth_basic.so", "mod_mpm_event.so"):
            assert os.path.exists(os.path.join(moddir, m)), "%s missing (apache2 is in scripts/setup)" % m
        cls.srv = srv = clients.Server("apache")
        try:
            # Apache's children run as www-data, which must reach htdocs/ and
            # run/: the system's temporary directory, not the checkout (that
            # may sit below a private home directory)
            d = cls.dir = tempfile.mkdtemp(prefix="back-auth0-apache-")
            for sub in ("htdocs/private", "htdocs/jenkins-users", "htdocs/staff", "run"):
                os.makedirs(os.path.join(d, sub))
            os.chmod(d, 0o755)
            os.chmod(os.path.join(d, "run"), 0o755)
            for page in ("private", "jenkins-users", "staff"):
                with open(os.path.join(d, "htdocs", page, "index.html"), "w") as f:
                    f.write("welcome to %s\n" % page)
            for root, dirs, files in os.walk(os.path.join(d, "htdocs")):
                os.chmod(root, 0o755)
                for fn in files:
                    os.chmod(os.path.join(root, fn), 0o644)
            example_with(srv, d)
            cls.port = free_port()
            mods = ["mpm_event", "authn_core", "authz_core", "auth_basic", "ldap", "authnz_ldap", "dir", "mime"]
            conf = ["ServerRoot %s" % d,
                    "ServerName 127.0.0.1",
                    "Listen 127.0.0.1:%d" % cls.port,
                    "PidFile %s/run/httpd.pid" % d,
                    "DefaultRuntimeDir %s/run" % d,
                    "ErrorLog %s/error.log" % d,
                    "LogLevel warn authnz_ldap:debug",
                    "User www-data",
                    "Group www-data",
                    "TypesConfig /etc/mime.types",
                    ] + ["LoadModule %s_module %s/mod_%s.so" % (m, moddir, m) for m in mods] + [
                    "DocumentRoot %s/htdocs" % d,
                    "DirectoryIndex index.html",
                    "Include %s/example.conf" % d]
            cls.conf = os.path.join(d, "httpd.conf")
            with open(cls.conf, "w") as f:
                f.write("\n".join(conf) + "\n")
            cls.log = open(os.path.join(d, "stderr.log"), "wb")
            cls.proc = subprocess.Popen([cls.apache, "-X", "-f", cls.conf], stdout=cls.log,
                                        stderr=subprocess.STDOUT, env={"PATH": "/usr/sbin:/usr/bin:/bin"})
            cls.wait_ready()
        except Exception:
            cls.stop()
            srv.close(ok=False)        # keeps slapd's directory; the Apache one is left in the temp dir
            raise

    @classmethod
    def wait_ready(cls, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if cls.proc.poll() is not None:
                raise AssertionError("apache2 exited: %s" % cls.errors())
            try:
                socket.create_connection(("127.0.0.1", cls.port), 0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("apache2 did not listen: %s" % cls.errors())

    @classmethod
    def errors(cls):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                with open(os.path.join(cls.dir, name), encoding="utf-8", errors="replace") as f:
                    text += f.read()
            except FileNotFoundError:
                pass
        return text[-4000:]

    @classmethod
    def stop(cls):
        p = getattr(cls, "proc", None)
        if p and p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if getattr(cls, "log", None):
            cls.log.close()

    @classmethod
    def tearDownClass(cls):
        cls.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.srv.close()

    def logins(self):
        return self.srv.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)

    def get(self, path, user=None, password=None):
        """(HTTP status, body) of curl's GET; credentials given to curl in a
        config file read from stdin, so that they are not in argv."""
        cfg = 'url = "http://127.0.0.1:%d%s"\n' % (self.port, path)
        if user is not None:
            cred = "%s:%s" % (user, password)
            cfg += 'user = "%s"\n' % cred.replace("\\", "\\\\").replace('"', '\\"')
        p = subprocess.run([self.curl, "-sS", "-K", "-", "-o", "-", "-w", "\n%{http_code}"], input=cfg.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        body, _, code = p.stdout.decode("utf-8", "replace").rpartition("\n")
        return int(code), body

    def test_right_password_in_group_200(self):
        code, body = self.get("/private/", "jane", PASSWORDS[JANE])
        self.assertEqual(code, 200, self.errors())
        self.assertEqual(body, "welcome to private\n")
        n = self.logins()
        self.assertEqual(self.get("/private/", "yamada.taro", PASSWORDS[YAMADA])[0], 200)
        self.assertEqual(self.logins(), n + 1)                 # Auth0 checked the password

    def test_wrong_password_401(self):
        self.assertEqual(self.get("/private/", "jane", PASSWORDS[JANE] + "-wrong")[0], 401)
        self.assertEqual(self.get("/private/", "jane", "")[0], 401)

    def test_no_credentials_401(self):
        self.assertEqual(self.get("/private/")[0], 401)

    def test_not_in_group_401(self):
        n = self.logins()
        self.assertEqual(self.get("/private/", self.srv.uid(FNOVAK), PASSWORDS[FNOVAK])[0], 401)
        self.assertEqual(self.get("/private/", "glindqvist", PASSWORDS[GLINDQVIST])[0], 401)  # Platform, not SRE
        self.assertEqual(self.logins(), n + 2)                 # the passwords were right: authorization said no
        self.assertIn("authorization failure", self.errors())

    def test_nested_member_mfa_and_escaped_uid(self):
        """mrossi is in SRE through On-Call (nesting flattened) and types
        password,code (MFA); "doe, carlos" needs DN escaping."""
        self.assertEqual(self.get("/private/", "mrossi", PASSWORDS[MROSSI] + ",123456")[0], 200)
        self.assertEqual(self.get("/private/", "mrossi", PASSWORDS[MROSSI])[0], 401)       # MFA required
        self.assertEqual(self.get("/private/", self.srv.uid(CARLOS), PASSWORDS[CARLOS])[0], 200)

    def test_unknown_and_social_users_401(self):
        self.assertEqual(self.get("/private/", "nobody-here", "x")[0], 401)
        self.assertEqual(self.get("/private/", self.srv.uid(GOOGLE), "whatever")[0], 401)

    def test_ldap_filter_on_memberof(self):
        """Require ldap-filter memberOf=cn=Jenkins,ou=applications,...: the
        application's users (through group -> role -> application)."""
        self.assertEqual(self.get("/jenkins-users/", "jane", PASSWORDS[JANE]), (200, "welcome to jenkins-users\n"))
        self.assertEqual(self.get("/jenkins-users/", self.srv.uid(SIOBHAN), PASSWORDS[SIOBHAN])[0], 401)

    def test_native_group_nested_two_levels(self):
        """Require ldap-group on the native group Workforce: lzolc is in it
        through Engineering Staff > Backend, rkumar directly, jane not."""
        self.assertEqual(self.get("/staff/", "lzolc", PASSWORDS[LZOLC]), (200, "welcome to staff\n"))
        self.assertEqual(self.get("/staff/", "rkumar", PASSWORDS[RKUMAR])[0], 200)
        self.assertEqual(self.get("/staff/", "jane", PASSWORDS[JANE])[0], 401)
        self.assertEqual(self.get("/private/", "lzolc", PASSWORDS[LZOLC])[0], 401)

    def test_starttls_and_service_account(self):
        self.get("/private/", "jane", PASSWORDS[JANE])
        log = self.srv.slapd.log_text()
        self.assertIn("STARTTLS", log)
        self.assertRegex(log, r'BIND dn="cn=reader,ou=services,dc=example,dc=com" mech=SIMPLE bind_ssf=0 ssf=\d{3}')
        self.assertRegex(log, r'BIND dn="uid=jane,ou=people,dc=example,dc=com" mech=SIMPLE bind_ssf=0 ssf=\d{3}')
        self.assertRegex(log, r'CMP dn="cn=SRE,ou=groups,dc=example,dc=com" attr="member"')


if __name__ == "__main__":
    unittest.main()
