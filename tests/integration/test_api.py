"""Import from the live APIs (the HTTPS simulator in tests/sim): same entries
as the snapshot path, export jobs, rate limits, token renewal, request
counts, cn=Monitor, and faults that must keep the last good data."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import ldap

from harness import SAMPLE, SUFFIX, TOP, Slapd, api_directives, monitor_attrs, simulator

def entries(s):
    """Every entry below the suffix with its user attributes (sorted values)."""
    out = {}
    for dn, a in s.search(SUFFIX, "(objectClass=*)", ["*", "entryUUID"]):
        out[dn.lower()] = {k.lower(): sorted(v) for k, v in a.items()
                           if k.lower() not in ("auth0uidnumbernext", "auth0gidnumbernext")}
    return out


monitor = monitor_attrs


def native_requests(tdir):
    """The fewest requests for connections, native groups and organizations
    (DESIGN.md 8.3): each list and each member list paged by checkpoint,
    100 a page (connections 50), one /roles/{id}/groups per role."""
    def load(name):
        path = os.path.join(tdir, name)
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def pages(n, per=100):
        return max(1, -(-n // per))
    conns, groups, orgs, roles = (load(n) for n in ("connections.json", "groups.json",
                                                    "organizations.json", "roles.json"))
    n = pages(len(conns), 50) + sum(pages(len(c.get("enabled_clients") or [])) for c in conns)
    n += pages(len(groups)) + sum(pages(len(g.get("members") or [])) for g in groups)
    if groups:      # without groups no role is assigned to one: not asked
        n += sum(pages(sum(1 for g in groups if r["id"] in (g.get("roles") or []))) for r in roles)
    n += pages(len(orgs)) + sum(pages(len(o.get("members") or [])) for o in orgs)
    return n


class ApiBase(unittest.TestCase):
    tenant = SAMPLE
    sim_args = {}
    extra = {}

    def setUp(self):
        self.tdir = tempfile.mkdtemp(prefix="tenant-", dir=os.path.join(TOP, "tests/tmp"))
        shutil.rmtree(self.tdir)
        shutil.copytree(self.tenant, self.tdir)
        self.sim = simulator(self.tdir, **self.sim_args)
        self.s = Slapd(self.id().split(".")[-1], tenant=None, directives={}, monitor=True)
        self.s.directives = api_directives(self.s, self.sim)
        self.s.directives.update(self.extra)
        self.prepare()
        self.s.write_conf()

    def prepare(self):
        pass

    def tearDown(self):
        self.s.cleanup()
        self.sim.stop()
        shutil.rmtree(self.tdir, ignore_errors=True)

    def start(self):
        self.s.start()
        return self.s.wait_refresh(1, timeout=120)

    def fault(self, **rule):
        self.sim.faults.add([rule])

    def stats(self):
        return self.sim.stats.snapshot()


class SameAsSnapshot(ApiBase):
    def test_api_and_snapshot_give_identical_entries(self):
        r = self.start()
        self.assertEqual(r["errors"], 0)
        snap = Slapd("snapshot-twin").start()
        try:
            snap.wait_refresh(1)
            self.assertEqual(entries(self.s), entries(snap))
        finally:
            snap.cleanup()

    def minimum_requests(self):
        """The fewest requests the APIs allow for the sample (no connection
        selected: one search covers the tenant; 100 per page)."""
        def pages(n):
            return max(1, -(-n // 100))
        with open(os.path.join(self.tdir, "users.ndjson"), encoding="utf-8") as f:
            n_users = sum(1 for line in f if line.strip())
        with open(os.path.join(self.tdir, "roles.json"), encoding="utf-8") as f:
            roles = json.load(f)
        with open(os.path.join(self.tdir, "clients.json"), encoding="utf-8") as f:
            clients = json.load(f)
        mgmt = 1 + pages(n_users) + pages(len(roles)) + pages(len(clients))
        mgmt += sum(pages(len(r.get("members") or [])) + pages(len(r.get("permissions") or []))
                    for r in roles)
        return mgmt + native_requests(self.tdir) + 1 + 3   # the extension: a token, groups, roles, permissions

    def test_monitor_and_request_count(self):
        self.start()
        st = self.stats()
        self.assertEqual(st["total"], self.minimum_requests())
        m = monitor(self.s)
        self.assertEqual(int(m["auth0MonApiRequests"]), st["total"])
        self.assertEqual(m["auth0MonFailedResources"], "none")
        self.assertEqual(m["auth0MonLastError"], "none")
        self.assertGreater(int(m["auth0MonUsers"]), 40)
        self.assertEqual(st["rate_limited"], 0)
        self.assertIn("; api: %d requests" % st["total"], self.s.log_text())
        # a periodic refresh reuses the cached tokens and writes nothing
        # (olcAuth0RefreshNow asks for new ones: test_api_faults)
        n = len(self.s.refreshes())
        self.s.config_set("olcAuth0RefreshInterval", "1")
        r = self.s.wait_refresh(n + 1)
        self.assertEqual(r["added"] + r["modified"] + r["deleted"], 0)
        self.assertEqual(self.stats()["tokens_issued"], st["tokens_issued"])


class ExportJob(ApiBase):
    tenant = None

    def setUp(self):
        self.gen = tempfile.mkdtemp(prefix="gen-", dir=os.path.join(TOP, "tests/tmp"))
        subprocess.run([os.path.join(TOP, "scripts/gen-tenant"), "--users", "2500",
                        "--connections", "3", "--out", os.path.join(self.gen, "t")],
                       check=True, stdout=subprocess.DEVNULL)
        self.tenant = os.path.join(self.gen, "t")
        super().setUp()

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.gen, ignore_errors=True)

    def test_more_than_1000_users_through_an_export_job(self):
        r = self.start()
        with open(os.path.join(self.tdir, "users.ndjson"), encoding="utf-8") as f:
            n = sum(1 for line in f if line.strip())
        self.assertEqual(r["users"], n)
        self.assertEqual(r["added"], n)
        self.assertEqual(len(self.s.people()), n)
        reqs = self.stats()["requests"]
        self.assertTrue(any("users-exports" in k for k in reqs), reqs)


class RateLimit(ApiBase):
    sim_args = {"rate": 2}
    extra = {"auth0-request-rate": "2"}

    def prepare(self):
        self.s.directives.pop("auth0-authz-url")

    def test_two_per_second_respected(self):
        t0 = time.time()
        r = self.start()
        took = time.time() - t0
        st = self.stats()
        self.assertEqual(r["errors"], 0)
        self.assertEqual(st["rate_limited"], 0, st)
        api = st["total"] - st["requests"].get("POST /oauth/token", 0)
        self.assertGreaterEqual(took, (api - 2) / 2.0)


class TokenExpiry(ApiBase):
    sim_args = {"token_ttl": 2, "rate": 3}
    extra = {"auth0-request-rate": "3"}

    def test_token_expiring_mid_refresh_is_renewed(self):
        r = self.start()
        self.assertEqual(r["errors"], 0)
        self.assertEqual(monitor(self.s)["auth0MonFailedResources"], "none")
        self.assertGreaterEqual(self.stats()["tokens_issued"], 3)


if __name__ == "__main__":
    unittest.main()
