"""slapd starts, serves cn=Monitor and stops cleanly with any order of
syncprov, accesslog, auth0 and "database monitor" (DESIGN.md 8.5): the
status entry is found under cn=Databases,cn=Monitor whether back-monitor
opens before or after the database, and whatever overlay follows auth0."""
import os
import signal
import time
import unittest

from harness import SUFFIX, Slapd, monitor_attrs

ACCESSLOG_DB = """database mdb
suffix "cn=accesslog"
rootdn "cn=accesslog"
directory {dir}
"""


def orders():
    yield "monitor first, auth0 only", True, [], []
    yield "monitor last, auth0 only", False, [], []
    yield "monitor last, syncprov before auth0", False, ["overlay syncprov"], []
    yield "monitor first, syncprov before auth0", True, ["overlay syncprov"], []
    yield "monitor last, syncprov after auth0", False, [], ["overlay syncprov"]
    yield ("monitor last, accesslog and syncprov before auth0", False,
           ["overlay syncprov", "overlay accesslog", "logdb cn=accesslog", "logops writes"], [])


class Orders(unittest.TestCase):
    def test_every_order_starts_reports_and_stops(self):
        for name, first, before, after in orders():
            with self.subTest(name):
                s = Slapd("order", monitor=first)
                s.modules = ["syncprov", "accesslog"]
                s.extra_db = "\n".join(before)
                text = s.conf_text()
                if "overlay accesslog" in text:
                    logdir = os.path.join(s.dir, "log")
                    os.makedirs(logdir)
                    # the log database comes before the one that logs to it
                    text = text.replace("database mdb\n", ACCESSLOG_DB.format(dir=logdir) + "database mdb\n", 1)
                text += "\n".join(after) + "\n"
                if not first:
                    text += "database monitor\n"
                with open(s.conf, "w", encoding="utf-8") as f:
                    f.write(text)
                try:
                    s.start()
                    s.wait_refresh(1)
                    mon = monitor_attrs(s)
                    self.assertEqual(mon["auth0MonLastError"], "none")
                    self.assertGreater(int(mon["auth0MonUsers"]), 5)
                    os.kill(s.proc.pid, signal.SIGTERM)
                    self.assertEqual(s.proc.wait(30), 0, s.log_text()[-2000:])
                    self.assertIn("slapd stopped.", s.log_text())
                finally:
                    s.cleanup()


if __name__ == "__main__":
    unittest.main()
