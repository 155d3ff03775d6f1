"""The change feed (DESIGN.md 8.2): incremental refreshes from the tenant log
(GET /api/v2/logs of the simulator, which logs every change of its tenant
directory on reload), with the requests they cost, the checkpoint on
ou=people, full refreshes when the log cannot be trusted, the bind cache
following password changes, and cn=Monitor."""
import json
import os
import shutil
import signal
import tempfile
import time
import unittest

import ldap

from harness import (PEOPLE, SAMPLE, SUFFIX, TOP, Slapd, api_directives, monitor_attrs,
                     read_ndjson, simulator, write_ndjson)

JANE = "auth0|5c8a1e5d3f9a1c7e52004a2c"
JSMITH = "auth0|5ccaf89f3f9a1c7e52004a2f"
MROSSI = "auth0|5dc12ae93f9a1c7e52004a4c"
JGARCIA = "auth0|5e25d7e53f9a1c7e52004a6f"
DEVELOPER = "rol_tYBznk4Y8tKVpfVo"
DB = "Username-Password-Authentication"


class FeedBase(unittest.TestCase):
    extra = {}
    sim_args = {}

    def setUp(self):
        self.tdir = tempfile.mkdtemp(prefix="tenant-", dir=os.path.join(TOP, "tests/tmp"))
        shutil.rmtree(self.tdir)
        shutil.copytree(SAMPLE, self.tdir)
        self.prepare_tenant()
        self.sim = simulator(self.tdir, **self.sim_args)
        self.s = Slapd(self.id().split(".")[-1], tenant=None, directives={}, monitor=True)
        self.s.directives = api_directives(self.s, self.sim, authz=False, feed=True)
        self.s.directives.update(self.extra)
        self.s.write_conf()

    def prepare_tenant(self):
        pass

    def tearDown(self):
        self.s.cleanup()
        self.sim.stop()
        shutil.rmtree(self.tdir, ignore_errors=True)

    def start(self):
        self.s.start()
        return self.s.wait_refresh(1, timeout=120)

    # tenant edits, then a reload that logs them
    def users(self):
        return read_ndjson(os.path.join(self.tdir, "users.ndjson"))

    def write_users(self, users):
        write_ndjson(os.path.join(self.tdir, "users.ndjson"), users)

    def edit_users(self, change):
        self.write_users(change(self.users()))

    def edit_json(self, name, change):
        path = os.path.join(self.tdir, name)
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        data = change(data)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f)

    def reload(self):
        return self.sim.reload()

    def requests(self):
        st = self.sim.stats.snapshot()
        return {k: v for k, v in st["requests"].items()}, st["total"]

    def incremental(self, timeout=60):
        """refresh-now; waits for the incremental refresh's log line."""
        n = self.s.log_text().count("auth0: incremental refresh of")
        self.s.refresh_now(timeout)
        deadline = time.time() + timeout
        while time.time() < deadline:
            text = self.s.log_text()
            if text.count("auth0: incremental refresh of") > n:
                return text[text.rindex("auth0: incremental refresh of"):].split("\n")[0]
            time.sleep(0.05)
        raise AssertionError("no incremental refresh:\n" + self.s.log_text()[-3000:])

    def person(self, user_id, attrs=None):
        return self.s.people(attrs).get(user_id)

    def checkpoint(self):
        res = self.s.search(PEOPLE, "(objectClass=*)", ["auth0LogCheckpoint"], ldap.SCOPE_BASE)
        vals = res[0][1].get("auth0LogCheckpoint")
        return vals[0].decode() if vals else None


class Incremental(FeedBase):
    extra = {"auth0-map-attribute": "employeeNumber app_metadata.employee_id"}

    def test_changes_reach_ldap_with_one_request_per_changed_user(self):
        r = self.start()
        self.assertEqual(r["errors"], 0)
        first = self.checkpoint()
        self.assertIsNotNone(first)
        self.assertEqual(monitor_attrs(self.s)["auth0MonChangeFeed"], "logs")
        # (no uid collisions: those depend on the write order, issue #14)
        gone = JGARCIA

        def change(users):
            for u in users:
                if u["user_id"] == JANE:
                    u["family_name"] = "Doe-Changed"
                if u["user_id"] == JSMITH:
                    u["blocked"] = True
                if u["user_id"] == MROSSI:
                    u["username"] = "mrossi2"
            users = [u for u in users if u["user_id"] != gone]
            users.append({"user_id": "auth0|feed00000000000000000001", "email": "new@example.com",
                          "username": "newbie", "name": "New Person",
                          "identities": [{"connection": DB, "provider": "auth0",
                                          "user_id": "feed00000000000000000001"}]})
            return users
        self.edit_users(change)
        self.assertEqual(self.reload(), 5)
        self.sim.stats.reset()
        line = self.incremental()
        reqs, total = self.requests()
        # one logs call, a token (refresh-now asks for a new one), one per user
        self.assertEqual(reqs.get("GET /api/v2/logs"), 1, reqs)
        self.assertEqual(reqs.get("GET /api/v2/users/{id}"), 5, reqs)
        self.assertEqual(total, 1 + 1 + 5, reqs)
        self.assertIn("5 events, 5 fetches", line)
        people = self.s.people()
        self.assertEqual(people[JANE][1]["sn"], [b"Doe-Changed"])
        self.assertEqual(people[JANE][1]["employeeNumber"], [b"E1001"])
        self.assertEqual(people[JSMITH][1]["auth0Blocked"], [b"TRUE"])
        self.assertTrue(people[MROSSI][0].startswith("uid=mrossi2,"), people[MROSSI][0])
        self.assertNotIn(gone, people)
        self.assertTrue(people["auth0|feed00000000000000000001"][0].startswith("uid=newbie,"))
        self.assertNotEqual(self.checkpoint(), first)
        m = monitor_attrs(self.s)
        self.assertEqual(m["auth0MonLogCheckpoint"], self.checkpoint())
        self.assertGreaterEqual(int(m["auth0MonChangeLag"]), 0)
        self.assertEqual(m["auth0MonLogsLastError"], "none")
        self.assertGreater(int(m["auth0MonFeedModelBytes"]), 100 * len(people))
        self.assertLess(int(m["auth0MonFeedModelBytes"]), 4096 * len(people))
        # nothing new: one logs call, nothing written
        self.sim.stats.reset()
        line = self.incremental()
        self.assertIn("0 events, 0 fetches, 0 writes", line)
        self.assertEqual(self.requests()[0].get("GET /api/v2/logs"), 1)
        m = monitor_attrs(self.s)
        self.assertEqual(int(m["auth0MonUsers"]), len(people))
        self.assertEqual(m["auth0MonLastError"], "none")

    def test_role_assignment_reaches_member_and_memberof(self):
        self.start()
        role_dn = [dn for dn, a in self.s.search("ou=roles," + SUFFIX, "(auth0RoleId=%s)"
                                                 % DEVELOPER, ["member"])][0]

        def assign(roles):
            for r in roles:
                if r["id"] == DEVELOPER:
                    self.assertNotIn(MROSSI, r["members"])
                    r["members"].append(MROSSI)
                    self.removed = r["members"].pop(0)
            return roles
        self.edit_json("roles.json", assign)
        self.assertEqual(self.reload(), 2)
        self.sim.stats.reset()
        self.incremental()
        reqs, total = self.requests()
        self.assertEqual(reqs.get("GET /api/v2/roles/{id}/users"), 1, reqs)
        self.assertNotIn("GET /api/v2/users", reqs)
        self.assertEqual(total, 1 + 1 + 1, reqs)
        people = self.s.people(["memberOf"])
        new_dn = people[MROSSI][0]
        members = self.s.search(role_dn, "(objectClass=*)", ["member"], ldap.SCOPE_BASE)[0][1]
        self.assertIn(new_dn.encode(), members["member"])
        self.assertIn(role_dn.lower(), [v.decode().lower() for v in people[MROSSI][1]["memberOf"]])
        self.assertNotIn(people[self.removed][0].encode(), members["member"])
        self.assertNotIn(role_dn.lower(), [v.decode().lower() for v in
                                           people[self.removed][1].get("memberOf", [])])

    def test_password_change_drops_the_cached_password(self):
        self.start()
        dn = self.person(JANE)[0]
        c = ldap.initialize(self.s.url)
        c.simple_bind_s(dn, "Passw0rd-jane")
        c.unbind_s()

        def new_password(profiles):
            profiles[JANE]["password"] = "N3w-Passw0rd-jane"
            return profiles
        self.edit_json("sim-users.json", new_password)
        self.assertEqual(self.reload(), 1)
        self.incremental()
        c = ldap.initialize(self.s.url)
        with self.assertRaises(ldap.INVALID_CREDENTIALS):
            c.simple_bind_s(dn, "Passw0rd-jane")
        c = ldap.initialize(self.s.url)
        c.simple_bind_s(dn, "N3w-Passw0rd-jane")
        c.unbind_s()


class Burst(FeedBase):
    def test_a_burst_is_applied_in_bounded_batches(self):
        self.start()
        self.sim.events.add_raw([{"type": "fp", "description": "noise %d" % i}
                                 for i in range(2500)])
        self.edit_users(lambda us: [dict(u, family_name="Last") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        newest = self.sim.events.all()[-1]["log_id"]
        self.sim.stats.reset()
        self.s.config_set("olcAuth0RefreshNow", "TRUE")
        deadline = time.time() + 60
        while time.time() < deadline and self.checkpoint() != newest:
            time.sleep(0.1)
        self.assertEqual(self.checkpoint(), newest)
        lines = [l for l in self.s.log_text().splitlines() if "auth0: incremental refresh of" in l]
        self.assertGreaterEqual(len(lines), 3)      # at most 1000 events each
        self.assertTrue(all(int(l.split(": ")[2].split()[0]) <= 1000 for l in lines), lines)
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"Last"])
        self.assertEqual(self.requests()[0].get("GET /api/v2/users/{id}"), 1)


class Selected(FeedBase):
    extra = {"auth0-connection": DB}

    def test_unselected_connection_causes_no_fetch(self):
        self.start()
        google = [u["user_id"] for u in self.users() if u["user_id"].startswith("google")][0]

        def change(users):
            for u in users:
                if u["user_id"] == google:
                    u["family_name"] = "Elsewhere"
            return users
        self.edit_users(change)
        self.assertEqual(self.reload(), 1)
        self.sim.stats.reset()
        line = self.incremental()
        reqs, total = self.requests()
        self.assertNotIn("GET /api/v2/users/{id}", reqs)
        self.assertEqual(reqs.get("GET /api/v2/logs"), 1)
        self.assertIn("1 events, 0 fetches, 0 writes", line)
        # the checkpoint still moves on (alone), past the skipped event
        self.assertEqual(self.checkpoint(), self.sim.events.all()[-1]["log_id"])
        self.assertIn("0 events, 0 fetches", self.incremental())


class FullWhenNeeded(FeedBase):
    def test_checkpoint_older_than_retention_gives_a_full_refresh(self):
        self.start()

        def change(users):
            for u in users:
                if u["user_id"] == JANE:
                    u["family_name"] = "After-Retention"
            return users
        self.edit_users(change)
        self.reload()
        self.sim.events.add_raw([{"type": "fp", "description": "older"}])
        self.sim.events.expire(1)         # the change's event is gone
        self.sim.stats.reset()
        self.s.refresh_now(60)
        self.assertIn("refuses checkpoint", self.s.log_text())
        reqs, _ = self.requests()
        self.assertIn("GET /api/v2/users", reqs)        # the whole tenant again
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"After-Retention"])
        # and the feed goes on from the new head
        self.edit_users(lambda us: [dict(u, family_name="Again") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        self.assertIn("1 events, 1 fetches", self.incremental())
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"Again"])

    def test_full_refresh_now(self):
        self.start()
        n = len(self.s.refreshes())
        self.sim.stats.reset()
        self.s.config_set("olcAuth0FullRefreshNow", "TRUE")
        self.s.wait_refresh(n + 1, 60)
        self.assertIn("GET /api/v2/users", self.requests()[0])

    def test_429_storm_on_logs_keeps_data_and_converges(self):
        self.start()
        self.edit_users(lambda us: [dict(u, family_name="Stormy") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        before = self.s.people()
        self.sim.faults.add([{"path_prefix": "/api/v2/logs", "rate_limit": True, "count": 5}])
        self.s.refresh_now(60)
        self.assertIn("reading the tenant log", monitor_attrs(self.s)["auth0MonLastError"])
        self.assertEqual(set(self.s.people()), set(before))
        self.assertIn("1 events, 1 fetches", self.incremental())
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"Stormy"])


class WritePlan(FeedBase):
    """An incremental refresh writes in the order of the write plan (#14):
    deletes, renames (through temporary names), adds, then modifies."""

    def uids(self):
        return {k: dn.split(",")[0] for k, (dn, a) in self.s.people().items()}

    def test_swap_of_usernames_and_a_freed_uid(self):
        self.start()
        newbie = "auth0|feed00000000000000000002"

        def change(users):
            for u in users:
                if u["user_id"] == JANE:
                    u["username"] = "jsmith"
                elif u["user_id"] == JSMITH:
                    u["username"] = "jane"
            users = [u for u in users if u["user_id"] != MROSSI]
            users.append({"user_id": newbie, "email": "mr2@example.com", "username": "mrossi",
                          "name": "Another Rossi",
                          "identities": [{"connection": DB, "provider": "auth0",
                                          "user_id": "feed00000000000000000002"}]})
            return users
        self.edit_users(change)
        self.assertEqual(self.reload(), 4)
        line = self.incremental()
        self.assertIn("4 events, 4 fetches", line)
        uids = self.uids()
        self.assertEqual(uids[JANE], "uid=jsmith")
        self.assertEqual(uids[JSMITH], "uid=jane")
        self.assertEqual(uids[newbie], "uid=mrossi")
        self.assertNotIn(MROSSI, uids)
        m = monitor_attrs(self.s)
        self.assertEqual(int(m["auth0MonEntryErrors"]), 0)
        # nothing left over for the next run
        self.assertIn("0 events, 0 fetches, 0 writes", self.incremental())


class MetadataIds(FeedBase):
    """uidNumber / gidNumber from metadata (#14, ids.c) in an incremental
    refresh: the checks see every stored user, group and role, although
    the feed reads only the changed users' entries otherwise."""
    extra = {"auth0-map-attribute": ["uidNumber app_metadata.uid_number",
                                     "gidNumber app_metadata.gid_number"]}

    def test_checks_see_what_the_feed_did_not_read(self):
        self.start()
        people = self.s.people(["uidNumber"])
        taken = int(people[MROSSI][1]["uidNumber"][0])
        before = int(people[JSMITH][1]["uidNumber"][0])
        role = self.s.search("ou=roles," + SUFFIX, "(auth0RoleId=%s)" % DEVELOPER,
                             ["gidNumber"])[0][1]
        gid = int(role["gidNumber"][0])

        def change(users):
            for u in users:
                if u["user_id"] == JSMITH:     # MROSSI's number: refused
                    u.setdefault("app_metadata", {})["uid_number"] = taken
                if u["user_id"] == JANE:       # a role's gidNumber: allowed
                    u.setdefault("app_metadata", {})["gid_number"] = gid
            return users
        self.edit_users(change)
        self.assertEqual(self.reload(), 2)
        self.assertIn("2 events, 2 fetches", self.incremental())
        people = self.s.people(["uidNumber", "gidNumber"])
        self.assertEqual(int(people[JSMITH][1]["uidNumber"][0]), before)
        self.assertEqual(int(people[MROSSI][1]["uidNumber"][0]), taken)
        self.assertIn("user %s: uidNumber %d from auth0-map-attribute is held by user %s"
                      % (JSMITH, taken, MROSSI), self.s.log_text())
        self.assertEqual(int(people[JANE][1]["gidNumber"][0]), gid)


class NativeResources(FeedBase):
    """Native groups and organizations (#16): the log says only that one
    changed (a Management API write on /api/v2/groups or /organizations),
    so the feed refetches them with a full refresh, and goes on after it."""
    WORKFORCE = "grp_4Bq7nWz2XkT9mRv1Lp"
    GLOBEX = "org_Gx7Lk2Mn8Pq4Rs6T"

    def full_after_edit(self, name, change, reason, attr, key):
        self.start()
        jane = self.person(JANE, ["memberOf"])
        self.assertNotIn(JANE, [m.get("id") or m.get("user_id") for m in self.members(name)])
        self.edit_json(name + ".json", change)
        self.assertEqual(self.reload(), 1)
        self.sim.stats.reset()
        n = self.s.log_text().count("the change feed asks for a full refresh: " + reason)
        self.s.refresh_now(60)
        self.assertEqual(self.s.log_text().count(
            "the change feed asks for a full refresh: " + reason), n + 1)
        reqs, _ = self.requests()
        self.assertIn("GET /api/v2/" + name, reqs)
        self.assertIn("GET /api/v2/users", reqs)       # the whole tenant again
        dn = [d for d, a in self.s.search(SUFFIX, "(%s=%s)" % (attr, key), ["uniqueMember"])][0]
        members = self.s.search(dn, "(objectClass=*)", ["uniqueMember"], ldap.SCOPE_BASE)[0][1]
        self.assertIn(jane[0].lower(), [v.decode().lower() for v in members["uniqueMember"]])
        self.assertIn(dn.lower(), [v.decode().lower() for v in
                                   self.person(JANE, ["memberOf"])[1]["memberOf"]])
        # the feed goes on from the full refresh's head
        self.edit_users(lambda us: [dict(u, family_name="After-Native")
                                    if u["user_id"] == JANE else u for u in us])
        self.reload()
        self.assertIn("1 events, 1 fetches", self.incremental())
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"After-Native"])

    def members(self, name):
        with open(os.path.join(self.tdir, name + ".json"), encoding="utf-8") as f:
            items = json.load(f)
        key = self.WORKFORCE if name == "groups" else self.GLOBEX
        return [i for i in items if i["id"] == key][0]["members"]

    def test_native_group_member_added(self):
        def change(groups):
            for g in groups:
                if g["id"] == self.WORKFORCE:
                    g["members"].append({"id": JANE, "member_type": "user"})
            return groups
        self.full_after_edit("groups", change, "groups changed", "auth0GroupId",
                             self.WORKFORCE)

    def test_organization_member_added(self):
        def change(orgs):
            for o in orgs:
                if o["id"] == self.GLOBEX:
                    o["members"].append({"user_id": JANE, "roles": []})
            return orgs
        self.full_after_edit("organizations", change, "organizations changed",
                             "auth0OrganizationId", self.GLOBEX)


class NoLogsScope(FeedBase):
    def prepare_tenant(self):
        scopes = ["read:users", "read:roles", "read:clients", "read:connections"]
        with open(os.path.join(self.tdir, "sim-clients.json"), "w", encoding="utf-8") as f:
            json.dump([{"client_id": "sim-m2m-client", "client_secret": "sim-m2m-secret",
                        "grants": {"https://DOMAIN/api/v2/": scopes}}], f)

    def test_missing_read_logs_falls_back_to_full_refreshes(self):
        r = self.start()
        self.assertEqual(r["errors"], 0)
        self.assertGreater(r["users"], 40)
        self.assertIn("needs the read:logs scope", self.s.log_text())
        self.assertEqual(monitor_attrs(self.s)["auth0MonChangeFeed"],
                         "off (read:logs scope missing)")
        self.edit_users(lambda us: [dict(u, family_name="Full") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        self.s.refresh_now(60)
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"Full"])
        self.assertNotIn("auth0: incremental refresh of", self.s.log_text())


class Config(FeedBase):
    def test_bad_values_fail_start(self):
        for extra, message in (({"auth0-change-feed": "maybe"}, "is not logs or off"),
                               ({"auth0-full-refresh-interval": "30"},
                                "is not a number from 60 to 31536000")):
            with self.subTest(extra=extra):
                s = Slapd("badfeed", tenant=None)
                s.directives = {"auth0-snapshot-dir": s.dir}
                s.directives.update(extra)
                s.write_conf()
                try:
                    rc, out = s.run_expect_failure()
                    self.assertNotEqual(rc, 0, out)
                    self.assertIn(message, out)
                finally:
                    s.cleanup()

    def test_live_through_cn_config(self):
        self.start()
        self.s.config_set("olcAuth0ChangeFeed", "off")
        self.assertEqual(monitor_attrs(self.s)["auth0MonChangeFeed"], "off")
        self.edit_users(lambda us: [dict(u, family_name="Off") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        self.sim.stats.reset()
        self.s.refresh_now(60)
        self.assertIn("GET /api/v2/users", self.requests()[0])     # a full one
        self.assertEqual(self.person(JANE, ["sn"])[1]["sn"], [b"Off"])
        with self.assertRaises(ldap.LDAPError):
            self.s.config_set("olcAuth0FullRefreshInterval", "59")
        self.s.config_set("olcAuth0FullRefreshInterval", "3600")
        self.s.config_set("olcAuth0ChangeFeed", "logs")
        self.s.refresh_now(60)          # a configuration change: a full one first
        self.edit_users(lambda us: [dict(u, family_name="On") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        self.assertIn("1 events, 1 fetches", self.incremental())
        c = self.s.config_conn()
        try:
            a = c.search_s(self.s.overlay_dn(), ldap.SCOPE_BASE, attrlist=[
                "olcAuth0ChangeFeed", "olcAuth0FullRefreshInterval"])[0][1]
        finally:
            c.unbind_s()
        self.assertEqual(a["olcAuth0ChangeFeed"], [b"logs"])
        self.assertEqual(a["olcAuth0FullRefreshInterval"], [b"3600"])


class KillNine(FeedBase):
    def stored(self):
        """(checkpoint, {user_id: sn}) as the database holds them, read
        offline with slapcat (no refresh can run meanwhile)."""
        import subprocess
        out = subprocess.run(["slapcat", "-f", self.s.tool_conf(), "-b", SUFFIX,
                              "-o", "ldif-wrap=no"], check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL).stdout.decode()
        checkpoint, sns = None, {}
        for block in out.split("\n\n"):
            attrs = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "auth0LogCheckpoint" in attrs:
                checkpoint = attrs["auth0LogCheckpoint"]
            if "auth0UserId" in attrs:
                sns[attrs["auth0UserId"]] = attrs.get("sn")
        return checkpoint, sns

    def kill(self):
        os.kill(self.s.proc.pid, signal.SIGKILL)
        self.s.proc.wait()
        self.s.logf.close()
        self.s.proc = None

    def test_kill_between_writes_and_checkpoint_loses_nothing(self):
        """kill -9 right when the writes start: the changed entries and the
        checkpoint are stored together or not at all."""
        self.start()
        for round_, pause in enumerate((0.0, 0.002, 0.01, 0.05)):
            tag = "Killed%d" % round_
            old = self.checkpoint()
            ids = [u["user_id"] for u in self.users() if u["user_id"].startswith("auth0|")][:30]
            self.edit_users(lambda us: [dict(u, family_name=tag) if u["user_id"] in ids else u
                                        for u in us])
            self.reload()
            new = self.sim.events.all()[-1]["log_id"]
            self.sim.stats.reset()
            self.s.config_set("olcAuth0RefreshNow", "TRUE")
            deadline = time.time() + 30
            while self.sim.stats.snapshot()["requests"].get("GET /api/v2/users/{id}", 0) < \
                    len(ids) and time.time() < deadline:
                time.sleep(0.001)
            time.sleep(pause)
            self.kill()
            checkpoint, sns = self.stored()
            changed = [uid for uid in ids if sns.get(uid) == tag]
            if checkpoint == new:
                self.assertEqual(len(changed), len(ids), (round_, checkpoint))
            else:
                self.assertEqual(checkpoint, old, round_)
                self.assertEqual(changed, [], (round_, "writes without their checkpoint"))
            # after the restart (a full refresh) everything is there
            self.s.start()
            n = len(self.s.refreshes())
            self.s.wait_refresh(n + 1, 120)
            got = self.s.people(["sn"])
            self.assertTrue(all(got[uid][1]["sn"] == [tag.encode()] for uid in ids), round_)
            self.assertEqual(self.checkpoint(), new)
        # the feed goes on after the restart's full refresh
        self.edit_users(lambda us: [dict(u, family_name="After") if u["user_id"] == JANE else u
                                    for u in us])
        self.reload()
        self.assertIn("1 events, 1 fetches", self.incremental())


if __name__ == "__main__":
    unittest.main()
