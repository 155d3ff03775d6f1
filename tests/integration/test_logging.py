"""What the module logs for an operator: HTTP calls at loglevel trace
(method, host, path, status, milliseconds; never a query, header, body,
secret or token), at every level but slapd's packet and BER dumps."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import LOG_ALL_BUT_DUMPS, SUFFIX, TOP, Slapd, api_directives, simulator

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


if __name__ == "__main__":
    unittest.main()
