"""slapd's pool and shutdown during a long refresh: a cn=config write
completes within about a second during a big import (the refresh lets the
pool pause), and slapd stops within 5 s while the refresh writes or waits
for the API's rate limit."""
import os
import signal
import subprocess
import time
import unittest

from harness import SAMPLE, TOP, Slapd, api_directives, simulator

USERS = 20000


def tenant(where):
    out = os.path.join(where, "big-tenant")
    subprocess.run(["/usr/bin/python3", os.path.join(TOP, "scripts/gen-tenant"), "--users", str(USERS),
                    "--out", out], check=True, stdout=subprocess.DEVNULL)
    return out


class Pool(unittest.TestCase):
    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1], tenant=None)
        self.s.directives["auth0-snapshot-dir"] = tenant(self.s.dir)
        self.s.write_conf()

    def tearDown(self):
        self.s.cleanup()

    def importing(self):
        deadline = time.time() + 60
        while "users processed" not in self.s.log_text():
            self.assertLess(time.time(), deadline, "the import did not get going")
            time.sleep(0.02)

    def test_config_write_during_import(self):
        self.s.start()
        self.importing()
        t0 = time.time()
        self.s.config_set("olcAuth0RefreshInterval", "7200")
        took = time.time() - t0
        self.assertEqual(self.s.refreshes(), [], "the import ended first: no measurement")
        self.assertLess(took, 1.5)
        r = self.s.wait_refresh(1, timeout=300)
        self.assertEqual(r["errors"], 0)

    def test_stop_while_writing(self):
        self.s.start()
        self.importing()
        t0 = time.time()
        os.kill(self.s.proc.pid, signal.SIGTERM)
        self.s.proc.wait(timeout=30)
        self.assertLess(time.time() - t0, 5)
        self.assertIn("slapd stopped.", self.s.log_text())


class StopInRateWait(unittest.TestCase):
    def test_stop_while_waiting_for_the_rate_limit(self):
        sim = simulator(SAMPLE)
        s = Slapd("ratewait", tenant=None, directives={})
        try:
            s.directives = api_directives(s, sim)
            s.directives["auth0-request-rate"] = "0.1"     # ten seconds a request
            s.write_conf()
            s.start()
            time.sleep(2)
            t0 = time.time()
            os.kill(s.proc.pid, signal.SIGTERM)
            s.proc.wait(timeout=60)
            self.assertLess(time.time() - t0, 5)
            self.assertIn("slapd stopped.", s.log_text())
        finally:
            s.cleanup()
            sim.stop()


if __name__ == "__main__":
    unittest.main()
