"""auth0-proxy: every Auth0 call through a configured HTTP CONNECT proxy
(tests/integration/connect_proxy.py, on loopback), none through a proxy
from slapd's environment.

The module is given a domain on a port where nothing listens; only the
proxy maps that port to the simulator's, so a request that went around
the proxy would fail: the API import, an export job's download (its
pre-signed location names the same host) and binds all succeed only
through it.  Proxy credentials come from a file and are never logged."""
import os
import subprocess
import tempfile
import shutil
import unittest

import ldap

from harness import SAMPLE, TOP, Slapd, api_directives, free_port, simulator
from connect_proxy import ConnectProxy
from test_bind import plain_user

ENV_PROXY = ("https_proxy", "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
PROXY_PW = "px-Secret-4711"


def secret_file(s, name, text):
    path = os.path.join(s.dir, name)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(text + "\n")
    return path


def via_proxy(s, sim, proxy, cred=True):
    """Directives for s: the simulator at a dead port only proxy maps."""
    fake = free_port()
    proxy.port_map[fake] = sim.port
    d = api_directives(s, sim)
    d["auth0-domain"] = "127.0.0.1:%d" % fake
    d["auth0-authz-url"] = "https://127.0.0.1:%d/authz/api" % fake
    d["auth0-proxy"] = proxy.url
    if cred:
        d["auth0-proxy-credentials-file"] = secret_file(s, "proxy.cred", "px-user:" + PROXY_PW)
    return d


class EnvProxy:
    """slapd started with proxies in its environment (restored after)."""

    def __init__(self, url):
        self.url, self.saved = url, {}

    def __enter__(self):
        for k in ENV_PROXY + ("no_proxy", "NO_PROXY"):
            self.saved[k] = os.environ.pop(k, None)
        for k in ENV_PROXY:
            os.environ[k] = self.url
        os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


class Proxied(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simulator(SAMPLE)
        cls.proxy = ConnectProxy(credentials=("px-user", PROXY_PW)).start()
        cls.trap = ConnectProxy().start()      # an environment proxy must stay unused
        cls.s = Slapd(cls.__name__, tenant=None, directives={})
        cls.s.directives = via_proxy(cls.s, cls.sim, cls.proxy)
        cls.s.loglevel = "-1"      # every level: the credentials never show
        cls.s.write_conf()
        with EnvProxy(cls.trap.url):
            cls.s.start()
        cls.first = cls.s.wait_refresh(1, timeout=120)

    @classmethod
    def tearDownClass(cls):
        cls.s.cleanup()
        cls.proxy.stop()
        cls.trap.stop()
        cls.sim.stop()

    def test_import_through_the_proxy(self):
        self.assertGreater(self.first["users"], 5)
        self.assertEqual(self.first["errors"], 0)
        self.assertGreaterEqual(self.proxy.count(), 1)
        self.assertEqual(self.trap.count(), 0)
        self.assertTrue(self.s.people())

    def test_bind_through_the_proxy(self):
        uid, pw = plain_user()
        dn = self.s.people()[uid][0]
        n = self.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0)
        c = self.s.conn(dn, pw)
        c.unbind_s()
        self.assertGreater(self.sim.stats.snapshot()["requests"].get("POST /oauth/token", 0), n)
        self.assertEqual(self.trap.count(), 0)

    def test_credentials_never_logged(self):
        self.assertNotIn(PROXY_PW, self.s.log_text())
        self.assertNotIn("px-user:", self.s.log_text())


class ExportThroughProxy(unittest.TestCase):
    def test_export_job_download_through_the_proxy(self):
        gen = tempfile.mkdtemp(prefix="gen-", dir=os.path.join(TOP, "tests/tmp"))
        self.addCleanup(shutil.rmtree, gen, True)
        subprocess.run([os.path.join(TOP, "scripts/gen-tenant"), "--users", "2500",
                        "--connections", "3", "--out", os.path.join(gen, "t")],
                       check=True, stdout=subprocess.DEVNULL)
        sim = simulator(os.path.join(gen, "t"))
        self.addCleanup(sim.stop)
        proxy = ConnectProxy().start()
        self.addCleanup(proxy.stop)
        s = Slapd("ExportProxy", tenant=None, directives={})
        self.addCleanup(s.cleanup)
        s.directives = via_proxy(s, sim, proxy, cred=False)
        s.write_conf()
        s.start()
        r = s.wait_refresh(1, timeout=180)
        with open(os.path.join(gen, "t", "users.ndjson"), encoding="utf-8") as f:
            n = sum(1 for line in f if line.strip())
        self.assertEqual(r["users"], n)
        self.assertEqual(r["errors"], 0)
        reqs = sim.stats.snapshot()["requests"]
        self.assertTrue(any(k.startswith("GET /__exports/") for k in reqs), reqs)
        self.assertEqual(len(s.people()), n)


class Faults(unittest.TestCase):
    def setUp(self):
        self.sim = simulator(SAMPLE)
        self.addCleanup(self.sim.stop)

    def test_wrong_credentials_keep_the_data(self):
        proxy = ConnectProxy(credentials=("px-user", "other")).start()
        self.addCleanup(proxy.stop)
        s = Slapd("ProxyCred", tenant=None, directives={})
        self.addCleanup(s.cleanup)
        s.directives = via_proxy(s, self.sim, proxy)
        s.write_conf()
        s.start()
        s.wait_refresh(1, timeout=60)
        self.assertGreater(proxy.refused, 0)
        self.assertEqual(s.people(), {})
        self.assertIn("refresh of dc=example,dc=com failed", s.log_text())
        self.assertNotIn(PROXY_PW, s.log_text())

    def test_environment_proxy_ignored_without_auth0_proxy(self):
        trap = ConnectProxy().start()
        self.addCleanup(trap.stop)
        s = Slapd("ProxyEnv", tenant=None, directives={})
        self.addCleanup(s.cleanup)
        s.directives = api_directives(s, self.sim)
        s.write_conf()
        with EnvProxy(trap.url):
            os.environ.pop("NO_PROXY")
            os.environ.pop("no_proxy")
            s.start()
        r = s.wait_refresh(1, timeout=60)
        self.assertGreater(r["users"], 5)
        self.assertEqual(trap.count(), 0)

    def test_live_proxy_change(self):
        """Set over cn=config: the next refresh and the binds use it."""
        proxy = ConnectProxy().start()
        self.addCleanup(proxy.stop)
        s = Slapd("ProxyLive", tenant=None, directives={})
        self.addCleanup(s.cleanup)
        s.directives = api_directives(s, self.sim)
        s.write_conf()
        s.start()
        s.wait_refresh(1, timeout=60)
        self.assertEqual(proxy.count(), 0)
        s.config_set("olcAuth0Proxy", proxy.url)
        s.refresh_now()
        self.assertGreaterEqual(proxy.count(), 1)
        n = proxy.count()
        uid, pw = plain_user()
        s.conn(s.people()[uid][0], pw).unbind_s()
        self.assertGreater(proxy.count(), n)

    def test_bad_proxy_urls_refused(self):
        for url, why in (("socks5://127.0.0.1:1080", "not an http:// or https:// proxy URL"),
                         ("http://user:pw@127.0.0.1:3128", "must not hold credentials")):
            s = Slapd("ProxyBad", tenant=None, directives={})
            self.addCleanup(s.cleanup)
            s.directives = api_directives(s, self.sim)
            s.directives["auth0-proxy"] = url
            s.write_conf()
            rc, out = s.run_expect_failure()
            self.assertNotEqual(rc, 0)
            self.assertIn(why, out)
            self.assertNotIn("user:pw", out)


if __name__ == "__main__":
    unittest.main()
