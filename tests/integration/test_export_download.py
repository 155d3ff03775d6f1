"""The users-export file download (DESIGN.md 8.4): bounded by a low speed
(auth0-export-low-speed), not by auth0-timeout, and started again from the
beginning when cut, without a user counted twice."""
import time
import unittest

import test_api_faults as faults   # a module: its test classes run there only

ExportFaults = faults.ExportFaults.__dict__


class ExportDownload(faults.FaultBase):
    CONNECTION = ExportFaults["CONNECTION"]
    setUpClass = ExportFaults["setUpClass"]
    tearDownClass = ExportFaults["tearDownClass"]
    change_tenant = ExportFaults["change_tenant"]
    gen = None
    sim_args = {"export_polls": 0}
    # auth0-timeout 3 (the harness): a download may take longer than that
    extra = {"auth0-connection": CONNECTION, "auth0-export-timeout": "60",
             "auth0-export-low-speed": "2000 2"}

    def converges(self):
        self.sim.faults.clear()
        r = faults.FaultBase.converges(self)
        self.assertTrue(any("users-exports" in k for k in self.sim.stats.snapshot()["requests"]))
        return r

    def users(self):
        return len([1 for _ in self.s.people(["1.1"])])

    def test_slow_steady_download_outlives_auth0_timeout(self):
        n = self.users()
        t0 = time.time()
        r, m = self.refresh_under([{"path_prefix": "/__exports/", "trickle": 40000}])
        took = time.time() - t0
        self.assertEqual(m["auth0MonLastError"], "none", m)
        self.assertEqual(self.users(), n)
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.assertGreater(took, 3.5)            # longer than auth0-timeout: not cut

    def test_stalled_download_cut_and_started_again(self):
        n = self.users()
        r, m = self.refresh_under([{"path_prefix": "/__exports/", "stall": 12, "count": 1}])
        self.assertEqual(m["auth0MonLastError"], "none", m)
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(self.users(), n)        # no user twice, none lost
        self.assertEqual(self.user_cn(), self.changed_user["name"])
        self.assertIn("download cut after", self.s.log_text())
        downloads = sum(v for k, v in self.sim.stats.snapshot()["requests"].items()
                        if "/__exports/" in k)
        self.assertGreaterEqual(downloads, 2)

    def test_always_stalling_download_keeps_the_stored_users(self):
        before = self.users()
        r, m = self.refresh_under([{"path_prefix": "/__exports/", "stall": 12}])
        self.assertIn("users", m["auth0MonFailedResources"])
        self.assertEqual(self.users(), before)
        self.converges()


if __name__ == "__main__":
    unittest.main()
