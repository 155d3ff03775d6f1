"""Exactly-once writes (DESIGN.md 8.1): a write back-mdb refuses (here an
add onto an entry put in the tree by slapadd, which the module does not
own) costs only itself.  Its batch is not rolled back and replayed, so
accesslog holds one entry per change, and a delta-syncrepl consumer ends
identical to the provider."""
import json
import os
import subprocess
import time
import unittest

import ldap

from harness import PEOPLE, ROOTDN, ROOTPW, SUFFIX, Slapd, read_ndjson, write_ndjson
from test_replication_delta import LOGBASE, AccesslogProvider

SLAPADD = os.environ.get("AUTH0_SLAPADD", "/usr/sbin/slapadd")


def tree(s):
    out = {}
    for dn, a in s.search(SUFFIX, "(objectClass=*)", ["*", "entryUUID", "entryCSN"]):
        out[dn.lower()] = {k.lower(): sorted(v) for k, v in a.items()}
    return out


def wait_identical(p, c, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        tp, tc = tree(p), tree(c)
        if tp == tc:
            return tp
        time.sleep(0.2)
    diff = sorted(set(k for k in set(tp) | set(tc) if tp.get(k) != tc.get(k)))
    raise AssertionError("consumer differs from the provider in %d entries: %s" % (
        len(diff), [(k, tp.get(k), tc.get(k)) for k in diff[:3]]))


class ExactlyOnce(unittest.TestCase):
    def setUp(self):
        p = self.p = AccesslogProvider("once-p", extra_db="\n".join([
            "index entryCSN,entryUUID eq", "overlay syncprov", "overlay accesslog",
            'logdb "%s"' % LOGBASE, "logops writes", "logsuccess TRUE"]))
        p.modules = ["syncprov", "accesslog"]
        p.write_conf()
        p.start()
        p.wait_refresh(1)
        p.stop()
        # an entry the module does not own, where a new user's entry goes
        ldif = "dn: uid=squatter,%s\nobjectClass: account\nuid: squatter\n\n" % PEOPLE
        r = subprocess.run([SLAPADD, "-w", "-f", p.tool_conf(), "-b", SUFFIX], input=ldif.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, r.stdout.decode()[-500:])
        p.start()
        p.wait_refresh(2)
        c = self.c = Slapd("once-c", tenant=None, directives={"auth0-sync": "off"}, extra_db=(
            "index entryCSN,entryUUID eq\n"
            "syncrepl rid=001 provider=%s bindmethod=simple binddn=\"%s\" credentials=%s "
            "searchbase=\"%s\" logbase=\"%s\" logfilter=\"(&(objectClass=auditWriteObject)(reqResult=0))\" "
            "syncdata=accesslog type=refreshAndPersist retry=\"1 +\"" % (p.url, ROOTDN, ROOTPW, SUFFIX, LOGBASE)))
        c.start()
        wait_identical(p, c)

    def tearDown(self):
        failed = any(e for _, e in (getattr(getattr(self, "_outcome", None), "errors", None) or []))
        self.c.cleanup(ok=not failed)
        self.p.cleanup(ok=not failed)

    def log(self):
        return {dn: (a["reqType"][0].decode(), a["reqDN"][0].decode().lower())
                for dn, a in self.p.search(LOGBASE, "(reqResult=0)", ["reqType", "reqDN"], ldap.SCOPE_ONELEVEL)}

    def test_failing_write_costs_only_itself(self):
        path = os.path.join(self.p.snap, "users.ndjson")
        users = read_ndjson(path)
        conn = users[0]["identities"][0]["connection"]
        users.append({"user_id": "auth0|ffff000000000000000000aa", "username": "squatter",
                      "email": "sq@example.com", "identities": [{"connection": conn}]})
        users.append({"user_id": "auth0|ffff000000000000000000bb", "username": "newcomer",
                      "email": "nc@example.com", "identities": [{"connection": conn}]})
        victims = [u for u in users if u.get("name")][:10]
        for i, u in enumerate(victims):
            u["name"] = "Once %d" % i
        write_ndjson(path, users)
        before = self.log()
        r = self.p.refresh_now()
        self.assertEqual(r["errors"], 1)
        log = self.p.log_text()
        self.assertIn("add of \"uid=squatter,%s\" failed: Already exists (68)" % PEOPLE, log)
        new = [v for k, v in self.log().items() if k not in before]
        self.assertEqual(len(new), len(set(new)), "a change logged twice")    # exactly once
        self.assertFalse("rolled back" in log, "the batch was rolled back")
        dns = [dn for _, dn in new]
        people = self.p.people()
        for u in victims:
            self.assertEqual(dns.count(people[u["user_id"]][0].lower()), 1)
        self.assertIn(("add", people["auth0|ffff000000000000000000bb"][0].lower()), new)
        self.assertNotIn("auth0|ffff000000000000000000aa", people)
        t = wait_identical(self.p, self.c)
        self.assertIn("uid=squatter," + PEOPLE.lower(), t)


if __name__ == "__main__":
    unittest.main()
