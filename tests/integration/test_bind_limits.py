"""Binds that hold up in production (DESIGN.md 8.4), against a real slapd
and the simulator: nothing about an account before its password is
checked, the NUL byte, the thread budget under a hung Auth0, throttling
nobody can turn into a lockout, trusted application servers, a bounded
failure table, the repeated-bind cache for MFA, auth0-bind-timeout and
Guardian push."""
import socket
import statistics
import threading
import time
import unittest

import ldap

from harness import PEOPLE, ROOTDN, ROOTPW, SUFFIX, monitor_attrs
from test_bind import REALM_PATH, SECRETS, USERS, BindBase, plain_user, special


def ber_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, value):
    return bytes([tag]) + ber_len(len(value)) + value


def raw_bind(url, dn, password):
    """(resultCode, diagnosticMessage) of one simple bind sent as raw BER,
    so that the password may hold any byte (python-ldap stops at a NUL)."""
    host, port = url.rsplit("/", 1)[-1].rsplit(":", 1)
    req = tlv(0x30, tlv(0x02, b"\x01") + tlv(0x60, tlv(0x02, b"\x03") +
                                              tlv(0x04, dn.encode()) + tlv(0x80, password)))
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) >= 2 and len(data) >= total_len(data):
                break

    def read(buf, i):   # (tag, value, next index)
        tag, n = buf[i], buf[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(buf[i:i + k], "big")
            i += k
        return tag, buf[i:i + n], i + n
    _, msg, _ = read(data, 0)
    _, _, i = read(msg, 0)                 # messageID
    _, resp, _ = read(msg, i)              # BindResponse
    _, code, i = read(resp, 0)
    _, _, i = read(resp, i)                # matchedDN
    _, text, _ = read(resp, i)
    return int.from_bytes(code, "big"), text.decode()


def total_len(buf):
    n = buf[1]
    if not n & 0x80:
        return 2 + n
    k = n & 0x7F
    if len(buf) < 2 + k:
        return 1 << 30
    return 2 + k + int.from_bytes(buf[2:2 + k], "big")


def outcome(fn):
    try:
        fn()
        return ("ok", "")
    except ldap.LDAPError as e:
        return (type(e).__name__, e.args[0].get("info", ""))


class NoAccountFacts(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "3 0 60"}

    def probe(self, dn, pw="Wr0ng-guess"):
        return outcome(lambda: self.bind(dn, pw).unbind_s())

    def test_blocked_social_unknown_look_like_a_wrong_password(self):
        plain, _ = plain_user()
        blocked = next(k for k, u in USERS.items() if u.get("blocked") and k in self.dns)
        social = next(k for k in USERS if k.startswith("google-oauth2|") and k in self.dns)
        unknown = "uid=no-such-user-%d,%s" % (time.time(), PEOPLE)
        answers = {name: self.probe(self.dns.get(who, who))
                   for name, who in (("plain", plain), ("blocked", blocked),
                                     ("social", social), ("unknown", unknown))}
        self.assertEqual(set(answers.values()), {("INVALID_CREDENTIALS", "")}, answers)
        log = self.s.log_text()
        self.assertIn("no such user (not asked)", log)          # the log says which
        self.assertIn("takes no passwords (not asked)", log)

    def test_throttled_answer_does_not_depend_on_the_dn_existing(self):
        plain, _ = plain_user()
        unknown = "uid=ghost-%d,%s" % (time.time(), PEOPLE)
        answers = {}
        for dn in (self.dns[plain], unknown):
            seq = [self.probe(dn) for _ in range(4)]
            answers[dn] = seq
            self.assertEqual(seq[:3], [("INVALID_CREDENTIALS", "")] * 3)
            self.assertIn("too many failed binds", seq[3][1])
        self.assertEqual(answers[self.dns[plain]], answers[unknown])

    def test_password_with_a_nul_byte(self):
        uid, pw = plain_user()
        n = self.logins()
        code, text = raw_bind(self.s.url, self.dns[uid], pw.encode() + b"\0junk")
        self.assertEqual((code, text), (49, ""))
        self.assertEqual(self.logins(), n)                       # Auth0 never asked
        self.assertIn("NUL byte", self.s.log_text())
        self.assertEqual(raw_bind(self.s.url, self.dns[uid], pw.encode())[0], 0)


class Budget(BindBase):
    """64 binds against a hung Auth0 while 4 clients search."""
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-connections": "4", "auth0-bind-timeout": "4"}
    monitor = True

    def search_rate(self, seconds, clients=4):
        counts, stop = [0] * clients, threading.Event()

        def run(i):
            c = self.bind(ROOTDN, ROOTPW)
            while not stop.is_set():
                c.search_s(SUFFIX, ldap.SCOPE_SUBTREE, "(uid=jane*)", ["1.1"])
                counts[i] += 1
            c.unbind_s()
        ts = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        for t in ts:
            t.start()
        time.sleep(seconds)
        stop.set()
        for t in ts:
            t.join(30)
        return sum(counts) / seconds

    def test_hung_auth0_binds_beyond_budget_busy_searches_keep_rate(self):
        uid, pw = plain_user()
        before = self.search_rate(2.0)
        self.sim.faults.add([{"path_prefix": REALM_PATH, "delay": 10}])   # hung
        results, t0 = [], time.time()

        def one():
            r = outcome(lambda: self.bind(uid, pw).unbind_s())
            results.append(r + (time.time() - t0,))
        binds = [threading.Thread(target=one) for _ in range(64)]
        for t in binds:
            t.start()
        time.sleep(0.3)
        during = self.search_rate(2.0)
        for t in binds:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in binds), "a bind never ended")
        codes = [r[0] for r in results]
        self.assertEqual(len(results), 64)
        self.assertEqual(set(codes) - {"BUSY", "UNAVAILABLE"}, set(), results)
        self.assertGreaterEqual(codes.count("BUSY"), 60)
        self.assertLessEqual(codes.count("UNAVAILABLE"), 4)      # the 4 that held a connection
        busy_times = [r[2] for r in results if r[0] == "BUSY"]
        self.assertLess(statistics.median(busy_times), 2.0)       # at once, not after the timeout
        self.assertIn("too many binds waiting for Auth0",
                      next(r[1] for r in results if r[0] == "BUSY"))
        print("\nsearch rate: %.0f/s idle, %.0f/s with 64 binds on a hung Auth0" % (before, during))
        self.assertGreater(during, 0.5 * before)
        self.assertGreaterEqual(int(monitor_attrs(self.s)["auth0MonBindRejected"]), 60)
        self.sim.faults.clear()
        self.bind(uid, pw).unbind_s()                             # nothing stuck


class DefaultBudget(BindBase):
    def test_default_is_half_of_the_worker_threads(self):
        self.assertIn("8 bind connections to Auth0 (half of slapd's worker threads)",
                      self.s.log_text())


class Lockout(BindBase):
    directives = {"auth0-bind-cache-ttl": "300", "auth0-bind-throttle": "3 1000 60"}
    monitor = True

    def test_wrong_passwords_do_not_lock_out_a_cached_user(self):
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()                  # verified, cached
        for _ in range(6):
            with self.assertRaises(ldap.INVALID_CREDENTIALS):
                self.bind(uid, "attacker-guess").unbind_s()
        n = self.logins()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, "attacker-guess",
                             "too many failed binds")  # the DN is throttled ...
        self.bind(uid, pw).unbind_s()                  # ... yet its owner gets in
        self.assertEqual(self.logins(), n)             # from the cache


class TrustedIp(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 3 60",
                  "auth0-bind-trusted-ip": ["10.0.0.0/8", "::1", "127.0.0.0/8"]}

    def test_trusted_address_not_throttled_live_config(self):
        uid, pw = plain_user()
        for i in range(6):                                   # 6 > 3 from one address
            self.assertBindFails(ldap.INVALID_CREDENTIALS, "uid=nobody%d,%s" % (i, PEOPLE), "x")
        self.bind(uid, pw).unbind_s()
        c = self.s.config_conn()
        dn = self.s.overlay_dn()
        vals = c.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)",
                          ["olcAuth0BindTrustedIp"])[0][1]["olcAuth0BindTrustedIp"]
        self.assertEqual([v.decode() for v in vals], ["10.0.0.0/8", "::1", "127.0.0.0/8"])
        with self.assertRaises(ldap.LDAPError) as cm:
            c.modify_s(dn, [(ldap.MOD_ADD, "olcAuth0BindTrustedIp", [b"10.1.2.3/8"])])
        self.assertIn("no host bits past the prefix", str(cm.exception))
        c.modify_s(dn, [(ldap.MOD_DELETE, "olcAuth0BindTrustedIp", [b"127.0.0.0/8"])])
        try:
            for i in range(3):
                self.assertBindFails(ldap.INVALID_CREDENTIALS, "uid=nobody%d,%s" % (i, PEOPLE), "x")
            self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, pw,
                                 "too many failed binds from this address")
        finally:
            c.modify_s(dn, [(ldap.MOD_ADD, "olcAuth0BindTrustedIp", [b"127.0.0.0/8"])])
            c.unbind_s()
        self.bind(uid, pw).unbind_s()                        # trusted again


class FailureTable(BindBase):
    """100,000 distinct failing DNs: the table stays within its bound."""
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "5 0 3600",
                  "auth0-bind-trusted-ip": "127.0.0.1"}
    monitor = True
    TOTAL, CONNS, BOUND = 100000, 8, 65536

    def test_spray_of_distinct_dns(self):
        n0 = self.logins()
        errors, t0 = [], time.time()

        def spray(k):
            c = ldap.initialize(self.s.url)
            try:
                for i in range(k, self.TOTAL, self.CONNS):
                    try:
                        c.simple_bind_s("uid=spray%06d,%s" % (i, PEOPLE), "x")
                        errors.append("bound")
                    except ldap.INVALID_CREDENTIALS:
                        pass
            except ldap.LDAPError as e:
                errors.append(repr(e))
            finally:
                c.unbind_s()
        ts = [threading.Thread(target=spray, args=(k,)) for k in range(self.CONNS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(600)
        took = time.time() - t0
        print("\n%d failing binds in %.1f s" % (self.TOTAL, took))
        self.assertEqual(errors, [])
        keys = int(monitor_attrs(self.s)["auth0MonBindFailureKeys"])
        self.assertGreater(keys, 1000)
        self.assertLessEqual(keys, self.BOUND)
        self.assertEqual(self.logins(), n0)            # unknown DNs never reach Auth0
        uid, pw = plain_user()
        self.bind(uid, pw).unbind_s()                  # the server still binds


class MfaRepeat(BindBase):
    directives = {"auth0-bind-cache-ttl": "300", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-cache-mfa-ttl": "3"}
    monitor = True

    def test_second_bind_with_the_same_otp_is_answered_from_the_cache(self):
        uid = special("mfa")
        full = "%s,%s" % (SECRETS[uid]["password"], SECRETS[uid]["otp"])
        self.sim.config["otp_reuse_window"] = 30
        self.bind(uid, full).unbind_s()
        n = self.logins()
        hits = int(monitor_attrs(self.s)["auth0MonBindCacheHits"])
        self.bind(uid, full).unbind_s()                # sssd / PAM bind again
        self.assertEqual(self.logins(), n)
        self.assertEqual(int(monitor_attrs(self.s)["auth0MonBindCacheHits"]), hits + 1)
        time.sleep(4.2)                                # past auth0-bind-cache-mfa-ttl
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, full, "MFA code refused")
        self.assertEqual(self.logins(), n + 2)         # Auth0 refused the reused code


class MfaNotCached(BindBase):
    directives = {"auth0-bind-cache-ttl": "300", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-cache-mfa-ttl": "0"}

    def test_mfa_ttl_zero_never_caches_a_code(self):
        uid = special("mfa")
        full = "%s,%s" % (SECRETS[uid]["password"], SECRETS[uid]["otp"])
        self.bind(uid, full).unbind_s()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, uid, full, "MFA code refused")


class BindTimeout(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-timeout": "2", "auth0-timeout": "30"}

    def test_bind_timeout_separate_from_auth0_timeout(self):
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "delay": 8}])
        t0 = time.time()
        self.assertBindFails(ldap.UNAVAILABLE, uid, pw)
        took = time.time() - t0
        self.assertGreaterEqual(took, 1.8)
        self.assertLess(took, 5)


class Latency(BindBase):
    directives = {"auth0-bind-cache-ttl": "0", "auth0-bind-throttle": "0 0 60"}
    monitor = True

    def test_median_and_99th_percentile_of_upstream_calls(self):
        m = monitor_attrs(self.s)
        self.assertEqual((m["auth0MonBindLatencyMedianMs"], m["auth0MonBindLatencyP99Ms"]), ("0", "0"))
        uid, pw = plain_user()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "delay": 0.05, "count": 9},
                             {"path_prefix": REALM_PATH, "delay": 0.4, "count": 1}])
        for _ in range(10):
            self.bind(uid, pw).unbind_s()
        m = monitor_attrs(self.s)
        p50, p99 = int(m["auth0MonBindLatencyMedianMs"]), int(m["auth0MonBindLatencyP99Ms"])
        self.assertGreaterEqual(p50, 50)
        self.assertLess(p50, 400)
        self.assertGreaterEqual(p99, 400)                  # the slow one


class Push(BindBase):
    """password,push: a Guardian push, polled at the interval Auth0 asks."""
    directives = {"auth0-bind-cache-ttl": "300", "auth0-bind-throttle": "0 0 60",
                  "auth0-bind-push-timeout": "4", "auth0-bind-connections": "1"}
    monitor = True

    def setUp(self):
        super().setUp()
        self.sim.config.update(push_answer="", push_after=1, push_interval=1)
        self.uid = special("mfa")
        self.push_pw = SECRETS[self.uid]["password"] + ",push"

    def decide_when_polled(self, action, polls=1):
        def run():
            end = time.time() + 20
            while time.time() < end and self.sim.push.polls < start + polls:
                time.sleep(0.05)
            self.sim.push.decide(action)
        start = self.sim.push.polls
        t = threading.Thread(target=run)
        t.start()
        return t

    def test_approved_then_repeated_bind_from_the_cache(self):
        waits = int(monitor_attrs(self.s)["auth0MonBindPushWaits"])
        t = self.decide_when_polled("approve")
        t0 = time.time()
        self.bind(self.uid, self.push_pw).unbind_s()
        t.join()
        self.assertGreaterEqual(time.time() - t0, 1.5)           # waited for the approval
        self.assertEqual(int(monitor_attrs(self.s)["auth0MonBindPushWaits"]), waits + 1)
        n = self.logins()
        self.bind(self.uid, self.push_pw).unbind_s()              # the second bind of sssd
        self.assertEqual(self.logins(), n)
        self.assertEqual(self.sim.push.pending(), 0)

    def test_denied(self):
        self.sim.config["push_answer"] = "deny"
        polls = self.sim.push.polls
        e = self.assertBindFails(ldap.INVALID_CREDENTIALS, self.uid, "Wrong-pw,push")
        self.assertEqual(e.args[0].get("info", ""), "")            # a wrong password: no push
        self.assertEqual(self.sim.push.polls, polls)
        self.assertBindFails(ldap.INVALID_CREDENTIALS, self.uid,
                             SECRETS[self.uid]["password"] + ",PUSH", "MFA push denied")
        self.assertIn("push denied", self.s.log_text())

    def test_timed_out(self):
        t0 = time.time()
        self.assertBindFails(ldap.INVALID_CREDENTIALS, self.uid,
                             SECRETS[self.uid]["password"] + ",Push", "MFA not approved in time")
        self.assertGreaterEqual(time.time() - t0, 3.5)
        self.assertLess(time.time() - t0, 8)

    def test_auth0_down_during_the_push(self):
        self.sim.faults.add([{"path_prefix": "/mfa/challenge", "status": 503}])
        self.assertBindFails(ldap.UNAVAILABLE, self.uid, SECRETS[self.uid]["password"] + ",pusH")
        self.sim.faults.clear()
        self.sim.faults.add([{"path_prefix": REALM_PATH, "reset": True, "skip": 1}])
        self.assertBindFails(ldap.UNAVAILABLE, self.uid, SECRETS[self.uid]["password"] + ",pUsh")

    def test_slow_down_lengthens_the_interval(self):
        self.s.config_set("olcAuth0BindPushTimeout", "20")     # live
        self.addCleanup(self.s.config_set, "olcAuth0BindPushTimeout", "4")
        self.sim.config["push_interval"] = 3          # polls sooner than 3 s apart: slow_down
        before = self.sim.push.slow_downs
        t = self.decide_when_polled("approve")
        t0 = time.time()
        self.bind(self.uid, SECRETS[self.uid]["password"] + ",PUsh").unbind_s()
        t.join()
        self.assertEqual(self.sim.push.slow_downs, before + 1)
        self.assertGreaterEqual(time.time() - t0, 2 + 7 - 0.5)   # 2 s, then 2 + 5 s

    def test_push_wait_holds_the_budget(self):
        t = self.decide_when_polled("approve")
        res = []
        b = threading.Thread(target=lambda: res.append(outcome(
            lambda: self.bind(self.uid, SECRETS[self.uid]["password"] + ",PUSh").unbind_s())))
        b.start()
        time.sleep(0.8)                                # the push is waiting
        other, pw = plain_user()
        self.assertBindFails(ldap.BUSY, other, pw, "too many binds waiting")
        b.join(30)
        t.join()
        self.assertEqual(res, [("ok", "")])
        self.bind(other, pw).unbind_s()


if __name__ == "__main__":
    unittest.main()
