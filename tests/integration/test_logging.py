"""What the module logs for an operator: HTTP calls at loglevel trace
(method, host, path, status, milliseconds; never a query, header, body,
secret or token), at every level but slapd's packet and BER dumps; a
problem with one entry logged when it appears and when it clears, not at
every refresh; the database suffix on every line."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import (LOG_ALL_BUT_DUMPS, SUFFIX, TOP, Slapd, api_directives, read_ndjson, simulator,
                     write_ndjson)

TRACE = re.compile(r"auth0: (\S+): HTTP (GET|POST|PATCH|PUT|DELETE) https://([^/\s]+)(/\S*): "
                   r"(?:(\d+) in (\d+) ms|no answer after (\d+) ms)")


class HttpTrace(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gen = tempfile.mkdtemp(prefix="gen-", dir=os.path.join(TOP, "tests/tmp"))
        subprocess.run([os.path.join(TOP, "scripts/gen-tenant"), "--users", "1200",
                        "--connections", "3", "--out", os.path.join(cls.gen, "t")],
                       check=True, stdout=subprocess.DEVNULL)
        cls.sim = simulator(os.path.join(cls.gen, "t"))
        cls.s = Slapd(cls.__name__, tenant=None, directives={})
        cls.s.directives = api_directives(cls.s, cls.sim)
        cls.s.loglevel = LOG_ALL_BUT_DUMPS
        cls.s.write_conf()
        cls.s.start()
        cls.r = cls.s.wait_refresh(1, timeout=180)
        cls.log = cls.s.log_text()
        cls.calls = TRACE.findall(cls.log)

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()
        cls.sim.stop()
        shutil.rmtree(cls.gen, ignore_errors=True)

    def test_every_call_one_line(self):
        self.assertEqual(self.r["errors"], 0)
        paths = {(m, p) for db, m, h, p, st, ms, fail in self.calls}
        self.assertIn(("POST", "/oauth/token"), paths)
        self.assertTrue(any(m == "GET" and p == "/api/v2/users" for m, p in paths), paths)
        self.assertTrue(any(m == "POST" and p == "/api/v2/jobs/users-exports" for m, p in paths), paths)
        self.assertTrue(any(p.startswith("/__exports/") for m, p in paths), paths)   # the download
        self.assertTrue(any(p.startswith("/authz/api/") for m, p in paths), paths)
        for db, m, h, p, st, ms, fail in self.calls:
            self.assertEqual(db, SUFFIX)
            self.assertEqual(h, "127.0.0.1:%d" % self.sim.port)
            self.assertTrue(st or fail, (m, p))
        # as many lines as the simulator answered requests
        served = sum(self.sim.stats.snapshot()["requests"].values())
        self.assertEqual(len(self.calls), served)

    def test_no_query_header_body_secret_or_token(self):
        for line in self.log.splitlines():
            if " HTTP " in line and "auth0:" in line:
                self.assertNotIn("?", line)
        self.assertNotIn("sim-m2m-secret", self.log)
        self.assertNotIn("client_secret", self.log)
        self.assertNotRegex(self.log, r"(?i)authorization:|bearer ")
        self.assertIsNone(re.search(r"eyJ[A-Za-z0-9_-]{10,}", self.log), "a token in the log")
        self.assertNotRegex(self.log, r"[?&](sig|signature|expires)=")

    def test_stats_level_has_no_trace(self):
        s = Slapd("HttpTraceStats", tenant=None, directives={})
        self.addCleanup(s.cleanup)
        s.directives = api_directives(s, self.sim)
        s.write_conf()
        s.start()
        s.wait_refresh(1, timeout=180)
        self.assertEqual(TRACE.findall(s.log_text()), [])



def module_lines(log):
    """The module's own lines (not slapd's, which may name the overlay)."""
    return [l for l in log.splitlines() if re.search(r"\bauth0: ", l)]


class EntryProblems(unittest.TestCase):
    """An invalid mail and the sample's uid collisions, over four refreshes."""

    def setUp(self):
        self.s = Slapd("EntryProblems")
        self.addCleanup(self.s.cleanup)
        self.s.loglevel = LOG_ALL_BUT_DUMPS
        self.path = os.path.join(self.s.snap, "users.ndjson")
        self.users = read_ndjson(self.path)
        self.odd = next(u for u in self.users if u.get("email", "").isascii() and "@" in u.get("email", "")
                        and u.get("username"))
        self.mail = self.odd["email"]
        self.odd["email"] = "j\u00f6rg@ex\u00e4mple.com"     # mail is IA5String: refused
        write_ndjson(self.path, self.users)
        self.s.write_conf()

    def touch(self, mail=None):
        """Changes another user, so that the next refresh compares everything."""
        other = next(u for u in self.users if u is not self.odd)
        other["name"] = other.get("name", "") + "."
        if mail:
            self.odd["email"] = mail
        write_ndjson(self.path, self.users)

    def count(self, text):
        return sum(1 for l in module_lines(self.s.log_text()) if text in l)

    def test_once_when_it_appears_once_when_it_clears(self):
        self.s.start()
        self.s.wait_refresh(1)
        bad = "a value of mail is not valid for its syntax"
        collide = "collides with a user whose user_id sorts lower"
        self.assertEqual(self.count(bad), 1)
        ncollide = self.count(collide)
        self.assertGreater(ncollide, 0)
        self.assertRegex(self.s.log_text(), r"auth0: %s: (\d+) entry problems met by this refresh "
                                            r"\(\1 new, 0 resolved\)" % SUFFIX)
        for i in range(2):
            self.touch()
            self.s.refresh_now()
        self.assertEqual(self.count(bad), 1)
        self.assertEqual(self.count(collide), ncollide)
        self.assertEqual(self.count("resolved: "), 0)
        self.assertRegex(self.s.log_text(), r"entry problems met by this refresh \(0 new, 0 resolved\)")
        # an unchanged snapshot compares nothing: nothing is said to clear
        self.s.refresh_now()
        self.assertEqual(self.count("resolved: "), 0)
        # fixed in the source: said once more, as resolved
        self.touch(mail=self.mail)
        self.s.refresh_now()
        self.assertEqual(self.count("resolved: "), 1)
        self.assertEqual(self.count("resolved: " ), self.count("resolved: \"uid="))
        self.assertIn(bad, [l for l in module_lines(self.s.log_text()) if "resolved: " in l][0])
        self.assertRegex(self.s.log_text(), r"entry problems met by this refresh \(0 new, 1 resolved\)")
        # the suffix on every line of the module
        for line in module_lines(self.s.log_text()):
            self.assertRegex(line, r"auth0: (refresh of )?%s[: ]|conn=\d+ op=\d+ auth0: " % SUFFIX, line)

if __name__ == "__main__":
    unittest.main()
