"""Scale-out by replication: a provider (mdb + syncprov + auth0 importing)
and a stock syncrepl consumer (mdb, the module loaded with auth0-sync off so
that binds to imported users work there)."""
import json
import os
import time
import unittest

import ldap

from harness import ROOTDN, ROOTPW, SAMPLE, SUFFIX, Slapd, api_directives, simulator
from test_api import entries
from test_bind import SECRETS, plain_user


def wait_same(a, b, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ea, eb = entries(a), entries(b)
        if ea == eb and ea:
            return ea
        time.sleep(0.2)
    raise AssertionError("consumer did not converge: %d vs %d entries" % (len(entries(a)), len(entries(b))))


class Replication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        p = cls.p = Slapd("provider", extra_db="index entryCSN,entryUUID eq\noverlay syncprov")
        p.modules = ["syncprov"]
        p.write_conf()
        p.start()
        p.wait_refresh(1)
        c = cls.c = Slapd("consumer", tenant=None, directives={}, extra_db=(
            "index entryCSN,entryUUID eq\n"
            "syncrepl rid=001 provider=%s bindmethod=simple binddn=\"%s\" credentials=%s "
            "searchbase=\"%s\" type=refreshAndPersist retry=\"1 +\"" % (p.url, ROOTDN, ROOTPW, SUFFIX)))
        c.directives = api_directives(c, cls.sim, authz=False)
        c.directives.update({"auth0-sync": "off", "auth0-bind-cache-ttl": "0"})
        c.write_conf()
        c.start()

    @classmethod
    def tearDownClass(cls):
        cls.c.cleanup()
        cls.p.cleanup()
        cls.sim.stop()

    def test_1_consumer_holds_the_providers_tree(self):
        tree = wait_same(self.p, self.c)
        self.assertGreater(sum(1 for dn in tree if ",ou=people," in dn), 40)
        self.assertNotIn("auth0: refresh of", self.c.log_text())   # no import of its own

    def test_2_consumer_follows_a_refresh(self):
        wait_same(self.p, self.c)
        path = os.path.join(self.p.snap, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            users = [json.loads(line) for line in f]
        victim = next(u for u in users if u.get("name"))
        victim["name"] = "Replicated Name"
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(u, ensure_ascii=False) + "\n" for u in users)
        r = self.p.refresh_now()
        self.assertEqual(r["modified"], 1)
        tree = wait_same(self.p, self.c)
        dn = self.c.people()[victim["user_id"]][0]
        self.assertEqual(tree[dn.lower()]["cn"], [b"Replicated Name"])

    def test_3_binds_on_the_consumer(self):
        wait_same(self.p, self.c)
        uid, pw = plain_user()
        dn = self.c.people()[uid][0]
        conn = ldap.initialize(self.c.url)
        conn.simple_bind_s(dn, pw)
        self.assertEqual(conn.whoami_s(), "dn:" + dn)
        conn.unbind_s()
        conn = ldap.initialize(self.c.url)
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            conn.simple_bind_s(dn, pw + "-wrong")


if __name__ == "__main__":
    unittest.main()
