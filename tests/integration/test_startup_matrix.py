"""slapd starts in every overlay order OpenLDAP accepts (syncprov,
accesslog and auth0 in any order on the database), with cn=Monitor before
the database, after it or not at all, from slapd.conf and from cn=config;
the import runs and, with a monitor database, cn=Monitor shows the
module's status."""
import itertools
import os
import subprocess
import unittest

from harness import SLAPTEST, monitor_attrs
from test_replication_delta import LOGBASE, AccesslogProvider

OVERLAY = {
    "syncprov": ["overlay syncprov"],
    "accesslog": ["overlay accesslog", 'logdb "%s"' % LOGBASE, "logops writes"],
}


class Matrix(AccesslogProvider):
    def __init__(self, name, order, monitor):
        self.order, self.where = order, monitor
        super().__init__(name, monitor=(monitor == "before"))
        self.modules = ["syncprov", "accesslog"]
        self.write_conf()

    def conf_text(self):
        i = self.order.index("auth0")
        below = [l for o in self.order[:i] for l in OVERLAY[o]]
        above = [l for o in self.order[i + 1:] for l in OVERLAY[o]]
        self.extra_db = "\n".join(["index entryCSN,entryUUID eq"] + below)
        text = super().conf_text() + "\n".join(above) + "\n"
        if self.where == "after":
            text += "database monitor\n"
        return text


class StartupMatrix(unittest.TestCase):
    def run_one(self, order, monitor, form):
        s = Matrix("matrix", order, monitor)
        ok = False
        try:
            if form == "cn=config":
                # the databases exist (slaptest opens them), then convert
                s.start()
                s.wait_refresh(1)
                s.stop()
                os.rename(s.log, s.log + ".conf")
                s.confdir = os.path.join(s.dir, "slapd.d")
                os.makedirs(s.confdir)
                p = subprocess.run([SLAPTEST, "-f", s.tool_conf(), "-F", s.confdir],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                self.assertEqual(p.returncode, 0, p.stdout.decode()[-500:])
            s.start()
            try:
                r = s.wait_refresh(1)
            except AssertionError:
                raise AssertionError("no refresh: see " + s.log) from None
            self.assertEqual(r["errors"], 0)
            if monitor != "none":
                # one status entry, found by a subtree search whatever the
                # overlay order (the overlay's, or cn=Auth0 of its own)
                self.assertEqual(monitor_attrs(s)["auth0MonRefreshes"], "1")
            s.stop()
            log = s.log_text()
            bad = [l for l in log.splitlines() if "free()" in l or "corruption" in l or "malloc" in l]
            self.assertEqual(bad, [], s.dir)
            self.assertTrue("slapd stopped." in log, "no clean stop: see " + s.log)
            ok = True
        finally:
            s.cleanup(ok=ok)

    def test_every_order_with_and_without_monitor(self):
        for order in itertools.permutations(("syncprov", "accesslog", "auth0")):
            for monitor in ("none", "before", "after"):
                with self.subTest(order=order, monitor=monitor):
                    self.run_one(order, monitor, "slapd.conf")

    def test_cn_config(self):
        for order in itertools.permutations(("syncprov", "accesslog", "auth0")):
            with self.subTest(order=order):
                self.run_one(order, "after", "cn=config")


if __name__ == "__main__":
    unittest.main()
