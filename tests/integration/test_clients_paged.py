"""python3-ldap with the Simple Paged Results control (RFC 2696) over the
imported tree: examples/clients/ldap_paged_search.py run as a program
(service account from a password file, StartTLS) and its paged_search()
used as a library, with several page sizes."""
import importlib.util
import json
import math
import os
import shutil
import subprocess
import tempfile
import unittest

import ldap


import clients
from clients import READER, USERS
from harness import PEOPLE, SUFFIX

SCRIPT = os.path.join(clients.EXAMPLES, "ldap_paged_search.py")


def load_example():
    spec = importlib.util.spec_from_file_location("ldap_paged_search", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Paged(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = clients.Server("paged")
        cls.ex = load_example()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()

    def run_script(self, *args):
        p = subprocess.run(["/usr/bin/python3", SCRIPT, "--uri", self.srv.url, "--bind-dn", READER,
                            "--password-file", self.srv.reader_pw_file, "--starttls",
                            "--ca-file", self.srv.ca] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        return p.returncode, p.stdout.decode("utf-8"), p.stderr.decode("utf-8")

    def all_dns(self, base, filt):
        return {dn.lower() for dn, _ in self.srv.slapd.search(base, filt, ["1.1"])}

    def test_script_pages_of_10_over_people(self):
        rc, out, err = self.run_script("--page-size", "10")
        self.assertEqual(rc, 0, err)
        dns = out.splitlines()
        self.assertEqual(len(dns), clients.USER_COUNT)
        self.assertEqual(len(set(d.lower() for d in dns)), len(dns))           # no entry twice
        self.assertEqual({d.lower() for d in dns}, self.all_dns(PEOPLE, "(objectClass=inetOrgPerson)"))
        self.assertEqual(err.strip(), "%d entries in %d pages of at most 10"
                         % (clients.USER_COUNT, math.ceil(clients.USER_COUNT / 10)))
        log = self.srv.slapd.log_text()
        self.assertIn("STARTTLS", log)
        self.assertRegex(log, r'BIND dn="%s" mech=SIMPLE bind_ssf=0 ssf=\d{3}' % READER)

    def test_script_json_holds_every_tenant_user(self):
        rc, out, err = self.run_script("--page-size", "7", "--json", "--attr", "auth0UserId", "--attr", "cn",
                                       "--attr", "uid")
        self.assertEqual(rc, 0, err)
        objs = [json.loads(line) for line in out.splitlines()]
        ids = [o["attributes"]["auth0UserId"][0] for o in objs]
        self.assertEqual(sorted(ids), sorted(USERS))                          # the sample tenant, each once
        by_id = {o["attributes"]["auth0UserId"][0]: o for o in objs}
        self.assertEqual(by_id["auth0|6019f60b3f9a1c7e52004a92"]["attributes"]["cn"], ["山田 太郎"])
        self.assertEqual(by_id["auth0|5ee203023f9a1c7e52004a86"]["attributes"]["uid"], ["zoë"])
        self.assertTrue(err.strip().endswith("in 8 pages of at most 7"), err)

    def test_page_sizes(self):
        conn = self.ex.connect(self.srv.url, READER, self.srv.reader_pw, starttls=True, ca_file=self.srv.ca)
        try:
            n = clients.USER_COUNT
            for size in (1, 7, 10, 52, n, 1000):
                pages = list(self.ex.paged_search(conn, PEOPLE, "(objectClass=posixAccount)", ["uid"], size))
                sizes = [len(p) for p in pages]
                self.assertEqual(sum(sizes), n, size)
                self.assertTrue(all(s == size for s in sizes[:-1]), (size, sizes))   # full pages, then the rest
                self.assertLessEqual(sizes[-1], size)
                self.assertEqual(len(pages), math.ceil(n / size), (size, sizes))  # slapd ends with the last full page
        finally:
            conn.unbind_s()

    def test_whole_suffix(self):
        """Every entry of the database, groups and roles included, in pages of 10."""
        conn = self.ex.connect(self.srv.url, READER, self.srv.reader_pw, starttls=True, ca_file=self.srv.ca)
        try:
            got = [dn.lower() for page in self.ex.paged_search(conn, SUFFIX, "(objectClass=*)", ["1.1"], 10)
                   for dn, _ in page]
        finally:
            conn.unbind_s()
        want = self.all_dns(SUFFIX, "(objectClass=*)")
        self.assertEqual(len(got), len(want))
        self.assertEqual(set(got), want)
        self.assertIn("cn=sre,ou=groups,dc=example,dc=com", want)
        self.assertGreater(len(want), clients.USER_COUNT + 11 + 12)       # users, 11 groups, 12+ roles, ...

    def test_wrong_service_password_fails(self):
        bad = os.path.join(self.srv.dir, "bad.secret")
        with open(os.open(bad, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            f.write("not-the-password\n")
        p = subprocess.run(["/usr/bin/python3", SCRIPT, "--uri", self.srv.url, "--bind-dn", READER,
                            "--password-file", bad], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Invalid credentials", p.stderr.decode())
        self.assertEqual(p.stdout, b"")


# The server-side line examples/clients/README.md recommends for the service
# account: slapd's default sizelimit (500) also caps the total of a paged
# search, unless size.prtotal lifts it.
LIMITS = 'limits dn.exact="%s" size.prtotal=unlimited' % READER
TENANT_USERS = 700


class BeyondSizeLimit(unittest.TestCase):
    """A tenant larger than slapd's default sizelimit (a generated one,
    scripts/gen-tenant): paging gets every user only with the limits line."""

    @classmethod
    def setUpClass(cls):
        top = os.path.dirname(os.path.dirname(clients.EXAMPLES))
        cls.tenant = tempfile.mkdtemp(prefix="tenant700-", dir=os.path.join(top, "tests/tmp"))
        subprocess.run([os.path.join(top, "scripts/gen-tenant"), "--users", str(TENANT_USERS), "--out", cls.tenant],
                       check=True, stdout=subprocess.DEVNULL)
        cls.srv = clients.Server("paged700", tenant=cls.tenant, extra_db=LIMITS)
        cls.ex = load_example()

    @classmethod
    def tearDownClass(cls):
        cls.srv.close()
        shutil.rmtree(cls.tenant, ignore_errors=True)

    def test_readme_gives_the_line(self):
        with open(os.path.join(clients.EXAMPLES, "README.md"), encoding="utf-8") as f:
            self.assertIn(LIMITS, f.read())

    def test_service_account_pages_past_500(self):
        conn = self.ex.connect(self.srv.url, READER, self.srv.reader_pw, starttls=True, ca_file=self.srv.ca)
        try:
            pages = list(self.ex.paged_search(conn, PEOPLE, "(objectClass=inetOrgPerson)", ["1.1"], 100))
            with self.assertRaises(ldap.SIZELIMIT_EXCEEDED):        # unpaged: still capped
                conn.search_s(PEOPLE, ldap.SCOPE_SUBTREE, "(objectClass=inetOrgPerson)", ["1.1"])
        finally:
            conn.unbind_s()
        self.assertEqual(sum(map(len, pages)), TENANT_USERS)
        self.assertEqual(len(pages), 7)

    def test_without_the_line_paging_stops_at_500(self):
        """Anonymous has no such limits line: the script reports the error."""
        p = subprocess.run(["/usr/bin/python3", SCRIPT, "--uri", self.srv.url, "--page-size", "100"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Size limit exceeded", p.stderr.decode())
        self.assertEqual(len(p.stdout.splitlines()), 500)


if __name__ == "__main__":
    unittest.main()
