"""Delta-syncrepl (docs/replication.md): the provider logs the module's
writes with slapo-accesslog into cn=accesslog; a stock consumer replicates
with syncdata=accesslog and receives the imported tree, then the changes of
a refresh from the log.  Every write of a batch (one back-mdb transaction)
is logged: accesslog names log entries by the operation's time, and the
module gives each write its own."""
import json
import os
import unittest

import ldap

from harness import CERTS, ROOTDN, ROOTPW, SAMPLE, SUFFIX, Slapd, simulator
from test_bind import plain_user
from test_replication import wait_same

LOGBASE = "cn=accesslog"


class AccesslogProvider(Slapd):
    """A provider with an accesslog database before the main one."""

    def conf_text(self):
        logdb = os.path.join(self.dir, "accesslog")
        os.makedirs(logdb, exist_ok=True)
        text = super().conf_text()
        block = "\n".join([
            "database mdb",
            'suffix "%s"' % LOGBASE,
            'rootdn "%s"' % LOGBASE,
            "directory %s" % logdb,
            "maxsize 268435456",
            "index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq",
            "overlay syncprov",
            "syncprov-nopresent TRUE",
            "syncprov-reloadhint TRUE",
            "", ""])
        i = text.index("database mdb\n")
        return text[:i] + block + text[i:]


class DeltaReplication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        p = cls.p = AccesslogProvider("dprovider", extra_db="\n".join([
            "index entryCSN,entryUUID eq",
            "overlay syncprov",
            "syncprov-checkpoint 100 10",
            "overlay accesslog",
            'logdb "%s"' % LOGBASE,
            "logops writes",
            "logsuccess TRUE",
            "logpurge 07+00:00 01+00:00"]))
        p.modules = ["syncprov", "accesslog"]
        p.write_conf()
        p.start()
        p.wait_refresh(1)
        cls.sim = simulator(SAMPLE)
        c = cls.c = Slapd("dconsumer", tenant=None, directives={"auth0-sync": "off"}, extra_db=(
            "index entryCSN,entryUUID eq\n"
            "syncrepl rid=001 provider=%s bindmethod=simple binddn=\"%s\" credentials=%s "
            "searchbase=\"%s\" logbase=\"%s\" logfilter=\"(&(objectClass=auditWriteObject)(reqResult=0))\" "
            "syncdata=accesslog type=refreshAndPersist retry=\"1 +\"" % (p.url, ROOTDN, ROOTPW, SUFFIX, LOGBASE)))
        # binds on the consumer with a bind application of their own (only
        # the auth0-bind-* directives, no Management API client)
        secret = os.path.join(c.dir, "bind.secret")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("sim-m2m-secret\n")
        c.directives.update({"auth0-domain": "127.0.0.1:%d" % cls.sim.port,
                             "auth0-bind-client-id": "sim-m2m-client",
                             "auth0-bind-client-secret-file": secret,
                             "auth0-ca-file": os.path.join(CERTS, "ca.pem"),
                             "auth0-timeout": "3", "auth0-bind-cache-ttl": "0"})
        c.write_conf()
        c.start()

    @classmethod
    def tearDownClass(cls):
        cls.c.cleanup()
        cls.p.cleanup()
        cls.sim.stop()

    def log_entries(self, filt):
        c = self.p.conn()
        try:
            return c.search_s(LOGBASE, ldap.SCOPE_ONELEVEL, filt, ["reqDN", "reqType"])
        finally:
            c.unbind_s()

    def test_1_consumer_holds_the_providers_tree(self):
        tree = wait_same(self.p, self.c)
        self.assertGreater(sum(1 for dn in tree if ",ou=people," in dn), 40)
        self.assertNotIn("auth0: refresh of", self.c.log_text())
        # every entry of the import is in the provider's log
        self.assertEqual(len(self.log_entries("(reqType=add)")), len(tree))

    def test_2_a_refresh_replicates_through_the_log(self):
        wait_same(self.p, self.c)
        before = len(self.log_entries("(reqType=modify)"))
        path = os.path.join(self.p.snap, "users.ndjson")
        with open(path, encoding="utf-8") as f:
            users = [json.loads(line) for line in f]
        victims = [u for u in users if u.get("name")][:10]
        for i, u in enumerate(victims):
            u["name"] = "Delta Replicated %d" % i
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(u, ensure_ascii=False) + "\n" for u in users)
        r = self.p.refresh_now()
        self.assertEqual(r["modified"], 10)
        # one log entry per write, though the ten are one transaction
        self.assertEqual(len(self.log_entries("(reqType=modify)")), before + 10)
        tree = wait_same(self.p, self.c)
        people = self.c.people()
        for i, u in enumerate(victims):
            self.assertEqual(tree[people[u["user_id"]][0].lower()]["cn"], [b"Delta Replicated %d" % i])


    def test_3_binds_on_the_consumer(self):
        wait_same(self.p, self.c)
        uid, pw = plain_user()
        dn = self.c.people()[uid][0]
        conn = ldap.initialize(self.c.url)
        conn.simple_bind_s(dn, pw)
        self.assertEqual(conn.whoami_s(), "dn:" + dn)
        conn.unbind_s()
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            ldap.initialize(self.c.url).simple_bind_s(dn, pw + "-wrong")


if __name__ == "__main__":
    unittest.main()
