"""Load during refreshes: 32 concurrent clients search and bind (cached and
uncached) for a bounded time while refreshes with changes run back to
back: no errors, and no entry is ever seen half updated."""
import json
import os
import random
import threading
import time
import unittest

import ldap

from harness import PEOPLE, SAMPLE, Slapd, api_directives, simulator
from test_bind import SECRETS, USERS

CLIENTS = 32
SECONDS = float(os.environ.get("AUTH0_LOAD_SECONDS", "15"))


class LoadDuringRefreshes(unittest.TestCase):
    def setUp(self):
        self.sim = simulator(SAMPLE)
        self.s = Slapd("load")
        self.s.directives.update(api_directives(self.s, self.sim, authz=False))
        self.s.directives.update({"auth0-snapshot-dir": self.s.snap, "auth0-bind-cache-ttl": "2",
                                  "auth0-bind-connections": "32", "auth0-bind-throttle": "0 0 60"})
        self.s.write_conf()
        self.s.start()
        self.s.wait_refresh(1)
        self.path = os.path.join(self.s.snap, "users.ndjson")
        with open(self.path, encoding="utf-8") as f:
            self.users = [json.loads(line) for line in f]
        self.dns = {k: dn for k, (dn, a) in self.s.people().items()}
        self.binders = [(self.dns[k], v["password"]) for k, v in SECRETS.items()
                        if set(v) == {"password"} and k in self.dns and not USERS[k].get("blocked")]
        self.errors, self.done, self.ops, self.refreshes = [], threading.Event(), [0], 0

    def tearDown(self):
        self.done.set()
        self.s.cleanup()
        self.sim.stop()

    def flip(self, n):
        """Rename every other user: cn and displayName both follow name."""
        for i, u in enumerate(self.users):
            if i % 2 == 0:
                u["name"] = "Load %d %s" % (n, u["user_id"][-6:])
        with open(self.path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(u, ensure_ascii=False) + "\n" for u in self.users)

    def refresher(self):
        n = 0
        while not self.done.is_set():
            n += 1
            self.flip(n)
            try:
                self.s.refresh_now(timeout=60)
                self.refreshes += 1
            except Exception as e:   # noqa: BLE001 - reported as a failure
                self.errors.append("refresh: %r" % e)

    def client(self, k):
        rnd = random.Random(k)
        c = self.s.conn()
        while not self.done.is_set():
            try:
                if k % 4 == 0:
                    dn, pw = rnd.choice(self.binders)
                    b = ldap.initialize(self.s.url)
                    b.simple_bind_s(dn, pw)
                    b.unbind_s()
                else:
                    res = c.search_s(PEOPLE, ldap.SCOPE_ONELEVEL, "(objectClass=auth0User)",
                                     ["cn", "displayName"])
                    for dn, a in res:
                        # both come from the name a refresh rewrites
                        if a["cn"][0].startswith(b"Load ") and a.get("displayName") != a["cn"]:
                            self.errors.append("half-updated %s" % dn)
                    if len(res) != len(self.users):
                        self.errors.append("saw %d users" % len(res))
                self.ops[0] += 1
            except ldap.LDAPError as e:
                self.errors.append("%s: %s" % (type(e).__name__, e))
        c.unbind_s()

    def test_32_clients_during_back_to_back_refreshes(self):
        threads = [threading.Thread(target=self.client, args=(k,)) for k in range(CLIENTS)]
        threads.append(threading.Thread(target=self.refresher))
        for t in threads:
            t.start()
        time.sleep(SECONDS)
        self.done.set()
        for t in threads:
            t.join(90)
        self.assertEqual(self.errors[:5], [])
        self.assertGreaterEqual(self.refreshes, 2)
        self.assertGreater(self.ops[0], 100)


if __name__ == "__main__":
    unittest.main()
