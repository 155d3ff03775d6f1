"""Two multi-provider servers (syncprov + syncrepl both ways, multiprovider
on): the imported tree stays read-only to clients on both, while
replication's own writes into it pass and the rest of the suffix is
writable and replicates."""
import os
import time
import unittest

import ldap
import ldap.modlist

from harness import ROOTDN, ROOTPW, SUFFIX, Slapd, read_ndjson, write_ndjson
from test_api import entries


def wait_same(a, b, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ea, eb = entries(a), entries(b)
        if ea == eb and ea:
            return ea
        time.sleep(0.2)
    raise AssertionError("did not converge: %d vs %d entries" % (len(entries(a)), len(entries(b))))


def syncrepl(rid, peer):
    return ("syncrepl rid=%03d provider=%s bindmethod=simple binddn=\"%s\" credentials=%s "
            "searchbase=\"%s\" type=refreshAndPersist retry=\"1 +\"\n" % (rid, peer.url, ROOTDN, ROOTPW, SUFFIX))


class MultiProvider(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        a = cls.a = Slapd("mp-a")
        b = cls.b = Slapd("mp-b", tenant=None, directives={"auth0-sync": "off"})
        for n, (s, peer) in enumerate(((a, b), (b, a)), 1):
            s.modules = ["syncprov"]
            s.extra_global = "serverID %d" % n
            s.extra_db = ("index entryCSN,entryUUID eq\n" + syncrepl(n, peer) +
                          "multiprovider on\noverlay syncprov")
            s.write_conf()
        a.start()
        a.wait_refresh(1)
        b.start()
        wait_same(a, b)

    @classmethod
    def tearDownClass(cls):
        cls.b.cleanup()
        cls.a.cleanup()

    def test_clients_cannot_write_the_imported_tree(self):
        for s in (self.a, self.b):
            uid, (dn, attrs) = next(iter(s.people(["cn"]).items()))
            c = s.conn()
            try:
                with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                    c.modify_s(dn, [(ldap.MOD_REPLACE, "cn", [b"Changed Over LDAP"])])
                with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                    c.delete_s(dn)
                with self.assertRaises(ldap.UNWILLING_TO_PERFORM):
                    c.add_s("uid=intruder,ou=people," + SUFFIX, ldap.modlist.addModlist(
                        {"objectClass": [b"account"], "uid": [b"intruder"]}))
            finally:
                c.unbind_s()
            self.assertEqual(s.people(["cn"])[uid][1]["cn"], attrs["cn"])

    def test_replication_writes_pass_both_ways(self):
        # the import on a reaches b's copy of the tree through syncrepl
        path = os.path.join(self.a.snap, "users.ndjson")
        users = read_ndjson(path)
        victim = next(u for u in users if u.get("name"))
        victim["name"] = "Replicated To B"
        write_ndjson(path, users)
        r = self.a.refresh_now()
        self.assertEqual(r["errors"], 0)
        tree = wait_same(self.a, self.b)
        dn = self.b.people()[victim["user_id"]][0]
        self.assertEqual(tree[dn.lower()]["cn"], [b"Replicated To B"])
        # outside the imported tree clients write, on either server
        c = self.b.conn()
        try:
            c.add_s("ou=local," + SUFFIX, ldap.modlist.addModlist(
                {"objectClass": [b"organizationalUnit"], "ou": [b"local"]}))
        finally:
            c.unbind_s()
        tree = wait_same(self.a, self.b)
        self.assertIn("ou=local," + SUFFIX, tree)


if __name__ == "__main__":
    unittest.main()
