"""Crash safety and hostile requests: kill -9 during a large import leaves
back-mdb consistent and the next refresh completes; odd LDAP requests
against the imported tree get result codes, never a crash."""
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import ldap
from ldap.controls import SimplePagedResultsControl

from harness import PEOPLE, ROOTDN, ROOTPW, SUFFIX, TOP, Slapd, read_ndjson


class KillDuringImport(unittest.TestCase):
    USERS = 20000
    BATCH = 2048        # writes per transaction (AUTH0_DEFAULT_BATCH)

    def setUp(self):
        self.gen = tempfile.mkdtemp(prefix="gen-", dir=os.path.join(TOP, "tests/tmp"))
        subprocess.run([os.path.join(TOP, "scripts/gen-tenant"), "--users", str(self.USERS),
                        "--out", os.path.join(self.gen, "t")], check=True, stdout=subprocess.DEVNULL)
        self.s = Slapd("kill9", tenant=os.path.join(self.gen, "t"))
        self.s.directives["auth0-max-delete"] = "100%"
        self.s.write_conf()

    def tearDown(self):
        self.s.cleanup()
        shutil.rmtree(self.gen, ignore_errors=True)

    def slapcat_count(self):
        p = subprocess.run(["slapcat", "-f", self.s.tool_conf(), "-b", SUFFIX, "-a", "(objectClass=auth0User)"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        return p.stdout.count(b"\ndn: ") + p.stdout.startswith(b"dn: ")

    def test_kill_9_at_several_points_then_complete(self):
        counts = []
        for delay in (0.3, 0.8, 1.5):
            self.s.start()
            time.sleep(delay)
            os.kill(self.s.proc.pid, signal.SIGKILL)
            self.s.proc.wait()
            self.s.proc = None
            self.s.logf.close()
            counts.append(self.slapcat_count())     # slapcat works on what is there
        # batches are transactions: the users stored are whole batches,
        # never half of one
        users = counts
        self.assertTrue(any(0 < u < self.USERS for u in users), "no kill landed mid-import: %s" % counts)
        for u in users:
            self.assertTrue(u % self.BATCH == 0 or u == self.USERS, counts)
        self.s.start()
        r = self.s.wait_refresh(len(self.s.refreshes()) + 1, timeout=300)
        self.assertEqual(r["errors"], 0)
        self.assertEqual(len(self.s.people()), self.USERS)
        ids = {u["user_id"] for u in read_ndjson(os.path.join(self.s.snap, "users.ndjson"))}
        self.assertEqual(set(self.s.people()), ids)


class HostileRequests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Slapd("hostile").start()
        cls.s.wait_refresh(1)

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()

    def conn(self):
        return self.s.conn()

    def test_malformed_filters_rejected(self):
        c = self.conn()
        self.assertEqual(c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(memberOf:9.9.9.9:=x)", ["1.1"]), [])
        for f in ("(uid=", "(&(uid=a)", "((uid=a))", "(uid=a)(uid=b)"):
            with self.assertRaises(ldap.LDAPError, msg=f):
                c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f)
        c.unbind_s()

    def test_page_sizes(self):
        c = self.conn()
        for size in (0, 1, 2 ** 31 - 1):
            ctrl = SimplePagedResultsControl(True, size=size, cookie="")
            msgid = c.search_ext(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=auth0User)", ["uid"],
                                 serverctrls=[ctrl])
            rtype, rdata, rmsgid, rctrls = c.result3(msgid)
            self.assertEqual(rtype, ldap.RES_SEARCH_RESULT)
        c.unbind_s()

    def test_huge_values_and_deep_substrings(self):
        c = self.conn()
        big = "a" * 200000
        self.assertEqual(c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(uid=%s)" % big, ["1.1"]), [])
        deep = "(uid=" + "*a" * 500 + "*)"
        c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, deep, ["1.1"])
        nested = "(&" * 100 + "(uid=x)" + ")" * 100
        c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, nested, ["1.1"])
        with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
            c.modify_s(next(iter(self.s.people().values()))[0],
                       [(ldap.MOD_ADD, "description", [big.encode()])])
        c.unbind_s()

    def test_odd_bind_dns(self):
        for dn in ("uid=,ou=people," + SUFFIX, "uid=a\\,b,ou=people," + SUFFIX,
                   "uid=x+cn=y,ou=people," + SUFFIX, "not a dn", "uid=" + "z" * 5000 + ",ou=people," + SUFFIX,
                   "ou=people," + SUFFIX, SUFFIX):
            c = ldap.initialize(self.s.url)
            with self.assertRaises(ldap.LDAPError, msg=dn):
                c.simple_bind_s(dn, "password")
        # still serving
        c = self.conn()
        self.assertTrue(c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(uid=jane)", ["1.1"]))
        c.unbind_s()


if __name__ == "__main__":
    unittest.main()
