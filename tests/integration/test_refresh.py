"""Refreshes: restart stability, changes, renames, deletions and the guard,
bad input that must lose nothing."""
import json
import os
import shutil
import unittest

import oracle
from harness import Slapd, read_ndjson, write_ndjson


def first(attrs, name):
    v = attrs.get(name)
    return v[0].decode("utf-8") if v else None


def ids(s):
    """{user_id: (dn, entryUUID, uidNumber, entryCSN)}"""
    return {k: (dn, first(a, "entryUUID"), first(a, "uidNumber"), first(a, "entryCSN"))
            for k, (dn, a) in s.people(["entryUUID", "uidNumber", "entryCSN"]).items()}


class Base(unittest.TestCase):
    def setUp(self):
        self.s = Slapd(self.id().split(".")[-1]).start()
        self.s.wait_refresh(1)
        self.path = os.path.join(self.s.snap, "users.ndjson")
        self.users = read_ndjson(self.path)

    def tearDown(self):
        self.s.cleanup(ok=not self._outcome_failed())

    def _outcome_failed(self):
        res = getattr(self, "_outcome", None)
        errs = getattr(res, "errors", None) or []
        return any(e for _, e in errs)

    def save(self, users):
        write_ndjson(self.path, users)


class Restart(Base):
    def test_restart_keeps_dns_uuids_uidnumbers(self):
        before = ids(self.s)
        self.s.stop()
        self.s.start()
        r = self.s.wait_refresh(2)
        self.assertEqual(r["unchanged"], len(before))
        self.assertEqual(r["added"] + r["modified"] + r["renamed"] + r["deleted"], 0)
        self.assertEqual(ids(self.s), before)

    def test_reimport_into_empty_database_same_uuids(self):
        before = ids(self.s)
        self.s.stop()
        shutil.rmtree(self.s.db)
        os.makedirs(self.s.db)
        self.s.start()
        self.s.wait_refresh(2)
        after = ids(self.s)
        self.assertEqual({k: v[:2] for k, v in after.items()}, {k: v[:2] for k, v in before.items()})


class Changes(Base):
    def test_one_changed_user_only_that_entry_written(self):
        before = ids(self.s)
        victim = next(u for u in self.users if u.get("name"))
        victim["name"] = victim["name"] + " Jr."
        self.save(self.users)
        r = self.s.refresh_now()
        self.assertEqual(r["modified"], 1)
        self.assertEqual(r["unchanged"], len(before) - 1)
        after = ids(self.s)
        changed = [k for k in before if before[k][3] != after[k][3]]
        self.assertEqual(changed, [victim["user_id"]])
        dn, a = self.s.people(["cn"])[victim["user_id"]]
        self.assertEqual(first(a, "cn"), victim["name"])

    def test_rename_keeps_identity(self):
        before = ids(self.s)
        victim = next(u for u in self.users if u.get("username") and u["username"].isalnum())
        victim["username"] = victim["username"] + "renamed"
        self.save(self.users)
        r = self.s.refresh_now()
        self.assertEqual(r["renamed"], 1)
        after = ids(self.s)
        vid = victim["user_id"]
        self.assertTrue(after[vid][0].startswith("uid=%s," % victim["username"]))
        self.assertEqual(after[vid][1:3], before[vid][1:3])

    def test_removed_attribute_is_deleted(self):
        victim = next(u for u in self.users if u.get("given_name"))
        del victim["given_name"]
        self.save(self.users)
        self.s.refresh_now()
        dn, a = self.s.people(["givenName"])[victim["user_id"]]
        self.assertNotIn("givenName", a)

    def test_new_user_gets_next_uidnumber_never_reused(self):
        before = ids(self.s)
        top = max(int(v[2]) for v in before.values())
        gone = self.users.pop(0)
        self.save(self.users)
        r = self.s.refresh_now()
        self.assertEqual(r["deleted"], 1)
        self.assertNotIn(gone["user_id"], ids(self.s))
        self.users.append({"user_id": "auth0|newcomer", "email": "new@example.com",
                           "identities": [{"connection": oracle.connection(self.users[0])}]})
        self.save(self.users)
        self.s.refresh_now()
        after = ids(self.s)
        self.assertEqual(int(after["auth0|newcomer"][2]), top + 1)


class DeleteGuard(Base):
    def test_mass_deletion_refused_then_forced(self):
        before = ids(self.s)
        self.save(self.users[:3])
        r = self.s.refresh_now()
        self.assertEqual(r["deleted"] + r["added"] + r["modified"], 0)
        self.assertIn("more than auth0-max-delete 10% allows", self.s.log_text())
        self.assertEqual(set(ids(self.s)), set(before))
        self.s.config_set("olcAuth0ForceDelete", "TRUE")
        r = self.s.refresh_now()
        self.assertEqual(r["deleted"], len(before) - 3)
        self.assertEqual(len(ids(self.s)), 3)

    def test_force_delete_read_at_start_is_ignored(self):
        before = ids(self.s)
        self.s.stop()
        self.save(self.users[:3])
        self.s.directives["auth0-force-delete"] = "TRUE"
        self.s.write_conf()
        self.s.start()
        r = self.s.wait_refresh(2)
        self.assertEqual(r["deleted"], 0)
        self.assertIn("auth0-force-delete is ignored at start", self.s.log_text())
        self.assertEqual(set(ids(self.s)), set(before))

    def test_raised_limit_allows(self):
        self.save(self.users[: len(self.users) // 2])
        self.s.config_set("olcAuth0MaxDelete", "60%")
        r = self.s.refresh_now()
        self.assertEqual(r["deleted"], len(self.users) - len(self.users) // 2)


class BadInput(Base):
    def test_malformed_line_skipped_and_nothing_deleted(self):
        before = ids(self.s)
        with open(self.path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        lines[4] = lines[4][: len(lines[4]) // 2]       # truncated object
        lines.insert(7, "this is not json")
        changed = json.loads(lines[0])
        changed["name"] = "Changed Name"
        lines[0] = json.dumps(changed)
        with open(self.path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        self.s.refresh_now()
        log = self.s.log_text()
        self.assertIn("users.ndjson line 5: malformed JSON, line skipped", log)
        self.assertIn("users.ndjson line 8: malformed JSON, line skipped", log)
        after = ids(self.s)
        self.assertEqual(set(after), set(before))     # the truncated user stays
        dn, a = self.s.people(["cn"])[changed["user_id"]]
        self.assertEqual(first(a, "cn"), "Changed Name")  # the rest is applied

    def test_missing_snapshot_keeps_data(self):
        before = ids(self.s)
        shutil.rmtree(self.s.snap)
        n = len(self.s.refreshes())
        self.s.config_set("olcAuth0RefreshNow", "TRUE")
        self.s.wait_refresh(n + 1)
        self.assertIn("refresh of dc=example,dc=com failed, stored data kept: cannot open", self.s.log_text())
        self.assertEqual(ids(self.s), before)


if __name__ == "__main__":
    unittest.main()


SKIP = "nothing to compare"


class UnchangedSource(Base):
    """A snapshot refresh that starts from what the last clean one applied
    stops after fingerprinting the files; anything else compares in full."""

    def skipped(self):
        return self.s.log_text().count(SKIP)

    def test_same_snapshot_skips_compare_and_writes_nothing(self):
        before = ids(self.s)
        r = self.s.refresh_now()
        self.assertEqual(self.skipped(), 1)
        self.assertEqual(r["unchanged"], len(before))
        self.assertEqual(r["added"] + r["modified"] + r["renamed"] + r["deleted"], 0)
        self.assertEqual(ids(self.s), before)

    def test_changed_byte_compares_in_full(self):
        self.s.refresh_now()
        victim = next(u for u in self.users if u.get("name"))
        victim["name"] += "."
        self.save(self.users)
        r = self.s.refresh_now()
        self.assertEqual(self.skipped(), 1)        # only the first one
        self.assertEqual(r["modified"], 1)
        r = self.s.refresh_now()                   # now that change is applied
        self.assertEqual(self.skipped(), 2)
        self.assertEqual(r["modified"], 0)

    def test_settings_and_force_compare_in_full(self):
        self.s.config_set("olcAuth0UidRange", "20000-29999")
        self.s.refresh_now()
        self.assertEqual(self.skipped(), 0)
        self.s.config_set("olcAuth0ForceDelete", "TRUE")
        r = self.s.refresh_now()
        self.assertEqual(self.skipped(), 0)
        self.assertEqual(r["added"] + r["modified"] + r["deleted"], 0)

    def test_after_restart_compares_in_full(self):
        self.s.stop()
        self.s.start()
        r = self.s.wait_refresh(2)
        self.assertEqual(self.skipped(), 0)
        self.assertEqual(r["added"] + r["modified"] + r["deleted"], 0)

    def test_unclean_run_is_not_trusted(self):
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("{not json\n")
        self.s.refresh_now()
        self.s.refresh_now()            # the same bad file: compared again
        self.assertEqual(self.skipped(), 0)
