"""test_tenant.py - checks the test tenants themselves.

The bundled sample tenant (tests/data/sample-tenant) and tenants written by
scripts/gen-tenant must be valid snapshot directories (DESIGN.md section 2):
every file parses, every id that one record gives refers to an existing
record, and the generator is deterministic.  For the sample, the edge cases
that tests/data/README.md promises are asserted here too (uids, nesting
depth, the cycle, the diamond, the mappings), with an independent statement
of the flattening rules of DESIGN.md section 3.

Standard library only:  python3 tests/data/test_tenant.py
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SAMPLE = os.path.join(HERE, "sample-tenant")
GEN = os.path.join(TOP, "scripts", "gen-tenant")
FILES = ("users.ndjson", "roles.json", "clients.json", "connections.json", "authz.json", "sim-users.json")
NATIVE_FILES = ("groups.json", "organizations.json")     # optional (DESIGN.md 8.3)
GRP = re.compile(r"^grp_[1-9A-HJ-NP-Za-km-z]{14,22}$")
ORG = re.compile(r"^org_[A-Za-z0-9]{16}$")

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALNUM = re.compile(r"^[A-Za-z0-9]+$")


# -- reading ------------------------------------------------------------------
class Tenant:
    def __init__(self, path):
        self.path = path
        self.users = []
        with open(os.path.join(path, "users.ndjson"), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.endswith("\n"):
                    raise AssertionError("users.ndjson line %d: no final newline" % n)
                self.users.append(json.loads(line))
        self.roles = self.load("roles.json")
        self.clients = self.load("clients.json")
        self.connections = self.load("connections.json")
        self.authz = self.load("authz.json")
        self.sim = self.load("sim-users.json")
        self.native = self.load("groups.json") if os.path.exists(os.path.join(path, "groups.json")) else []
        self.orgs = (self.load("organizations.json")
                     if os.path.exists(os.path.join(path, "organizations.json")) else [])
        self.user_ids = [u["user_id"] for u in self.users]
        self.by_id = {u["user_id"]: u for u in self.users}
        self.client_ids = {c["client_id"] for c in self.clients}
        self.conn_by_name = {c["name"]: c for c in self.connections}
        self.groups = self.authz.get("groups", [])
        self.group_by_id = {g["_id"]: g for g in self.groups}
        self.group_by_name = {g["name"]: g for g in self.groups}
        self.aroles = {r["_id"]: r for r in self.authz.get("roles", [])}
        self.perms = {p["_id"]: p for p in self.authz.get("permissions", [])}

    def load(self, name):
        with open(os.path.join(self.path, name), encoding="utf-8") as f:
            return json.load(f)


def connection(user):
    ids = user.get("identities") or []
    return ids[0].get("connection") if ids else user.get("connection")


# -- DESIGN.md section 3, stated independently ---------------------------------
def fold(s):
    return " ".join(s.casefold().split())


def uids(users):
    """{user_id: uid}: username, else email, else user_id; the lower user_id
    (bytewise) keeps a uid wanted twice, the other falls back to its user_id."""
    taken, out = set(), {}
    for u in sorted(users, key=lambda u: u["user_id"].encode()):
        want = u.get("username") or u.get("email") or u["user_id"]
        if fold(want) in taken:
            want = u["user_id"]
        taken.add(fold(want))
        out[u["user_id"]] = want
    return out


def mapped(t, group):
    """Users placed in group by its mappings: the user's connection is the
    mapping's connectionName and the IdP group (top-level "groups" of the
    profile, compared exactly, as the extension does) is its groupName."""
    out = set()
    for m in group.get("mappings") or []:
        for u in t.users:
            if connection(u) == m["connectionName"] and m["groupName"] in (u.get("groups") or []):
                out.add(u["user_id"])
    return out


def effective_members(t, gid):
    """Direct + mapped members of the group and of every group nested below
    it, at any depth; each group is visited once (cycles end)."""
    seen, stack, out = set(), [gid], set()
    while stack:
        g = t.group_by_id[stack.pop()]
        if g["_id"] in seen:
            continue
        seen.add(g["_id"])
        out |= set(g.get("members") or []) | mapped(t, g)
        stack.extend(g.get("nested") or [])
    return out


def role_users(t, rid):
    """Users holding an extension role directly or through any group."""
    out = set(t.aroles[rid].get("users") or [])
    for g in t.groups:
        if rid in (g.get("roles") or []):
            out |= effective_members(t, g["_id"])
    return out


def app_users(t, client_id):
    out = set()
    for rid, r in t.aroles.items():
        if r.get("applicationId") == client_id:
            out |= role_users(t, rid)
    return out


def longest_chain(t):
    """Length (in groups) of the longest nesting chain without repeats."""
    best = 0

    def walk(gid, path):
        nonlocal best
        best = max(best, len(path))
        for c in t.group_by_id[gid].get("nested") or []:
            if c not in path:
                walk(c, path + [c])
    for g in t.groups:
        walk(g["_id"], [g["_id"]])
    return best


def cycles(t):
    """Groups that can reach themselves through nesting."""
    out = []
    for g in t.groups:
        seen, stack = set(), list(g.get("nested") or [])
        while stack:
            c = stack.pop()
            if c == g["_id"]:
                out.append(g["name"])
                break
            if c not in seen:
                seen.add(c)
                stack.extend(t.group_by_id[c].get("nested") or [])
    return out


def parents(t):
    p = {}
    for g in t.groups:
        for c in g.get("nested") or []:
            p.setdefault(c, []).append(g["_id"])
    return p


# -- integrity ----------------------------------------------------------------
def problems(t):
    """Every broken rule of the snapshot format, as readable strings."""
    bad = []
    err = bad.append
    ids = set()
    for n, u in enumerate(t.users, 1):
        uid = u.get("user_id")
        where = "users.ndjson line %d (%s)" % (n, uid)
        if not isinstance(uid, str) or "|" not in uid:
            err(where + ": user_id missing or without provider")
            continue
        if uid in ids:
            err(where + ": duplicate user_id")
        ids.add(uid)
        idents = u.get("identities")
        if not idents:
            err(where + ": no identities")
            continue
        first = idents[0]
        if "%s|%s" % (first.get("provider"), first.get("user_id")) != uid:
            err(where + ": user_id is not identities[0].provider|user_id")
        conn = t.conn_by_name.get(first.get("connection"))
        if conn is None:
            err(where + ": connection %r not in connections.json" % first.get("connection"))
            continue
        strategy = conn["strategy"]
        if strategy == "auth0" and not re.match(r"^auth0\|[0-9a-f]{24}$", uid):
            err(where + ": database user_id is not auth0|<24 hex>")
        if strategy == "google-oauth2" and not re.match(r"^google-oauth2\|\d{21}$", uid):
            err(where + ": google user_id is not google-oauth2|<21 digits>")
        if strategy == "samlp" and not uid.startswith("samlp|%s|" % conn["name"]):
            err(where + ": SAML user_id is not samlp|<connection>|<NameID>")
        if first.get("isSocial") != (strategy not in ("auth0", "samlp")):
            err(where + ": isSocial does not match the strategy")
        for key in ("created_at", "updated_at", "last_login"):
            if key in u and not ISO.match(u[key]):
                err(where + ": %s is not ISO-8601 with milliseconds and Z" % key)
        if "groups" in u and not isinstance(u["groups"], list):
            err(where + ": groups is not an array")
        for key in ("app_metadata", "user_metadata"):
            if key in u and not isinstance(u[key], dict):
                err(where + ": %s is not an object" % key)

    for c in t.clients:
        if not (isinstance(c.get("client_id"), str) and len(c["client_id"]) == 32 and ALNUM.match(c["client_id"])):
            err("clients.json %s: client_id is not 32 alphanumerics" % c.get("name"))
        if c.get("app_type") not in ("regular_web", "spa", "non_interactive", "native"):
            err("clients.json %s: unexpected app_type %r" % (c.get("name"), c.get("app_type")))
    if len(t.client_ids) != len(t.clients):
        err("clients.json: duplicate client_id")

    if len(t.conn_by_name) != len(t.connections):
        err("connections.json: duplicate name")
    for c in t.connections:
        if not re.match(r"^con_[A-Za-z0-9]{16}$", c.get("id", "")):
            err("connections.json %s: id is not con_<16 alphanumerics>" % c.get("name"))
        for cid in c.get("enabled_clients") or []:
            if cid not in t.client_ids:
                err("connections.json %s: enabled client %s not in clients.json" % (c["name"], cid))

    names = set()
    for r in t.roles:
        if not re.match(r"^rol_[A-Za-z0-9]{16}$", r.get("id", "")):
            err("roles.json %s: id is not rol_<16 alphanumerics>" % r.get("name"))
        if r.get("name") in names:
            err("roles.json: role name %r twice" % r.get("name"))
        names.add(r.get("name"))
        members = r.get("members") or []
        if len(set(members)) != len(members):
            err("roles.json %s: duplicate member" % r["name"])
        for m in members:
            if m not in ids:
                err("roles.json %s: member %s is not a user" % (r["name"], m))
        for p in r.get("permissions") or []:
            if not (p.get("permission_name") and p.get("resource_server_identifier")):
                err("roles.json %s: permission without name or resource server" % r["name"])

    a = t.authz
    for key in ("configuration", "groups", "roles", "permissions"):
        if not isinstance(a.get(key), list):
            err("authz.json: %s is not an array" % key)
    for kind, items in (("groups", t.groups), ("roles", list(t.aroles.values())),
                        ("permissions", list(t.perms.values()))):
        seen = set()
        for x in items:
            if not GUID.match(x.get("_id", "")):
                err("authz.json %s %s: _id is not a GUID" % (kind, x.get("name")))
            if x["_id"] in seen:
                err("authz.json %s: duplicate _id %s" % (kind, x["_id"]))
            seen.add(x["_id"])
            if not 1 <= len(x.get("name", "")) <= (100 if kind == "permissions" else 50):
                err("authz.json %s %s: name length out of range" % (kind, x.get("name")))
    if len(t.group_by_name) != len(t.groups):
        err("authz.json: two groups share a name")
    for g in t.groups:
        where = "authz.json group %s" % g["name"]
        members = g.get("members") or []
        if len(set(members)) != len(members):
            err(where + ": duplicate member")
        for m in members:
            if m not in ids:
                err(where + ": member %s is not a user" % m)
        for c in g.get("nested") or []:
            if c not in t.group_by_id:
                err(where + ": nested group %s does not exist" % c)
            if c == g["_id"]:
                err(where + ": nests itself")
        for r in g.get("roles") or []:
            if r not in t.aroles:
                err(where + ": role %s does not exist" % r)
        for m in g.get("mappings") or []:
            if not GUID.match(m.get("_id", "")):
                err(where + ": mapping _id is not a GUID")
            if m.get("connectionName") not in t.conn_by_name:
                err(where + ": mapping connection %r does not exist" % m.get("connectionName"))
            if not m.get("groupName"):
                err(where + ": mapping without groupName")
    for r in t.aroles.values():
        where = "authz.json role %s" % r["name"]
        if r.get("applicationType") != "client" or r.get("applicationId") not in t.client_ids:
            err(where + ": applicationId %s is not a client" % r.get("applicationId"))
        for p in r.get("permissions") or []:
            if p not in t.perms:
                err(where + ": permission %s does not exist" % p)
            elif t.perms[p].get("applicationId") != r.get("applicationId"):
                err(where + ": permission %s belongs to another application" % t.perms[p]["name"])
        for u in r.get("users") or []:
            if u not in ids:
                err(where + ": user %s is not a user" % u)
    for p in t.perms.values():
        if p.get("applicationType") != "client" or p.get("applicationId") not in t.client_ids:
            err("authz.json permission %s: applicationId is not a client" % p["name"])

    db = {u["user_id"] for u in t.users if t.conn_by_name.get(connection(u), {}).get("strategy") == "auth0"}
    for uid, e in t.sim.items():
        if uid not in db:
            err("sim-users.json: %s is not a database-connection user" % uid)
        if not (isinstance(e, dict) and isinstance(e.get("password"), str) and e["password"]):
            err("sim-users.json: %s has no password" % uid)
        if e.get("mfa") and not re.match(r"^\d{6}$", str(e.get("otp", ""))):
            err("sim-users.json: %s has mfa but no 6-digit otp" % uid)
        unknown = set(e) - {"password", "mfa", "otp", "password_leaked", "too_many_attempts"}
        if unknown:
            err("sim-users.json: %s has unknown keys %s" % (uid, sorted(unknown)))
    for uid in sorted(db - set(t.sim)):
        err("sim-users.json: database user %s has no password" % uid)
    native_problems(t, err)
    return bad


def native_problems(t, err):
    """groups.json and organizations.json (auth0-api.md section 10 and 6)."""
    gids = {g.get("id") for g in t.native}
    conns = {c["id"] for c in t.connections}
    roles = {r["id"]: r["name"] for r in t.roles}
    names = set()
    for g in t.native:
        where = "groups.json %s" % g.get("name")
        if not GRP.match(g.get("id", "")):
            err(where + ": id is not grp_<14-22 base58>")
        if not (1 <= len(g.get("name", "")) <= 128 and g["name"].isascii() and g["name"].isprintable()):
            err(where + ": name is not 1-128 printable ASCII")
        if (g.get("connection_id"), g.get("name")) in names:
            err(where + ": name twice in one connection")
        names.add((g.get("connection_id"), g.get("name")))
        if g.get("connection_id") and g["connection_id"] not in conns:
            err(where + ": connection_id not in connections.json")
        for m in g.get("members") or []:
            if m.get("member_type") == "user" and m.get("id") not in t.by_id:
                err(where + ": member %s is not a user" % m.get("id"))
            elif m.get("member_type") == "group" and m.get("id") not in gids:
                err(where + ": member %s is not a group" % m.get("id"))
            elif m.get("member_type") not in ("user", "group"):
                err(where + ": member_type %r" % m.get("member_type"))
        for r in g.get("roles") or []:
            if r not in roles:
                err(where + ": role %s not in roles.json" % r)
    if len(gids) != len(t.native):
        err("groups.json: duplicate id")
    if len({o.get("name") for o in t.orgs}) != len(t.orgs):
        err("organizations.json: duplicate name")
    for o in t.orgs:
        where = "organizations.json %s" % o.get("name")
        if not ORG.match(o.get("id", "")):
            err(where + ": id is not org_<16 alphanumerics>")
        if not re.match(r"^[a-z0-9][a-z0-9_-]{0,49}$", o.get("name", "")):
            err(where + ": name is not lower case letters, digits, - and _")
        for m in o.get("members") or []:
            if m.get("user_id") not in t.by_id:
                err(where + ": member %s is not a user" % m.get("user_id"))
            for r in m.get("roles") or []:
                if roles.get(r.get("id")) != r.get("name"):
                    err(where + ": role %r is not a role of roles.json" % r)


def generate(out, *args):
    subprocess.run([sys.executable, GEN, "--out", out] + [str(a) for a in args], check=True)


def read_all(d):
    out = {}
    for name in FILES:
        with open(os.path.join(d, name), "rb") as f:
            out[name] = f.read()
    return out


# -- the sample tenant --------------------------------------------------------
class SampleTenant(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.t = Tenant(SAMPLE)
        cls.uids = uids(cls.t.users)

    def uid_of(self, uid):
        return self.uids[uid]

    def find(self, **kw):
        for u in self.t.users:
            if all(u.get(k) == v for k, v in kw.items()):
                return u["user_id"]
        raise AssertionError("no user with %r" % kw)

    def test_integrity(self):
        self.assertEqual(problems(self.t), [])

    def test_json_files_pretty_printed(self):
        for name in FILES[1:] + NATIVE_FILES:
            with open(os.path.join(SAMPLE, name), encoding="utf-8") as f:
                text = f.read()
            self.assertEqual(text, json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", name)

    def test_size_and_connections(self):
        self.assertGreaterEqual(len(self.t.users), 40)
        strategies = {c["name"]: c["strategy"] for c in self.t.connections}
        self.assertEqual(strategies, {"Username-Password-Authentication": "auth0",
                                      "google-oauth2": "google-oauth2", "acme-saml": "samlp"})
        used = {connection(u) for u in self.t.users}
        self.assertEqual(used, set(strategies))
        self.assertIn("jane", {u.get("username") for u in self.t.users})   # scripts/demo searches uid=jane*

    def test_dn_special_characters_in_usernames(self):
        names = [u.get("username") or "" for u in self.t.users]
        for ch in ',+"\\<>;=':
            self.assertTrue(any(ch in n for n in names), ch)
        self.assertTrue(any(n.startswith("#") for n in names))
        self.assertTrue(any(n.startswith(" ") and n.endswith(" ") for n in names))
        self.assertTrue(any(not n.isascii() for n in names))

    def test_uid_choices_of_edge_users(self):
        expect = {
            "auth0|622729203f9a1c7e52004b1c": "doe, carlos",
            "auth0|62865f033f9a1c7e52004b24": "dev+ops=team;lead",
            "auth0|62c266b43f9a1c7e52004b40": 'ACME\\sam "ops"',
            "auth0|630e03f03f9a1c7e52004b4d": "<bob>",
            "auth0|6343ef823f9a1c7e52004b6a": "#hanna",
            "auth0|63885f003f9a1c7e52004b88": " lee ",
            "auth0|63d9ab7f3f9a1c7e52004b98": '#edge,case+"all"\\<chars>;x=y ',
            "auth0|5ee203023f9a1c7e52004a86": "zoë",
            # no username: the e-mail
            "auth0|607b26d03f9a1c7e52004aa8": "bjork@example.is",
            "auth0|6731e64f3f9a1c7e52004c3c": "oyvind.as@example.no",
            # neither username nor e-mail: the user_id
            "samlp|acme-saml|ext-00417": "samlp|acme-saml|ext-00417",
            # collisions: the lower user_id keeps the uid, the other gets its user_id
            "auth0|5d5a88383f9a1c7e52004a34": "tom.baker@example.com",
            "google-oauth2|105544801423623248543": "google-oauth2|105544801423623248543",
            "auth0|5e468bed3f9a1c7e52004a75": "kim.lee@example.org",
            "auth0|64a7b99b3f9a1c7e52004bdb": "auth0|64a7b99b3f9a1c7e52004bdb",
            "google-oauth2|106239025689781735296": "priya.patel@acme.example",
            "samlp|acme-saml|Priya.Patel@acme.example": "samlp|acme-saml|Priya.Patel@acme.example",
        }
        for uid, want in expect.items():
            self.assertEqual(self.uids[uid], want, uid)
        fallbacks = sorted(u for u, v in self.uids.items()
                           if v == u and (self.t.by_id[u].get("username") or self.t.by_id[u].get("email")))
        self.assertEqual(fallbacks, ["auth0|64a7b99b3f9a1c7e52004bdb", "google-oauth2|105544801423623248543",
                                     "samlp|acme-saml|Priya.Patel@acme.example"])
        self.assertEqual(len({fold(v) for v in self.uids.values()}), len(self.uids))

    def test_profile_edge_cases(self):
        blocked = [u["user_id"] for u in self.t.users if u.get("blocked") is True]
        self.assertEqual(blocked, ["auth0|61dc367c3f9a1c7e52004aec"])
        no_family = sorted(u["user_id"] for u in self.t.users if "family_name" not in u and u.get("name"))
        self.assertEqual(no_family, ["auth0|607b26d03f9a1c7e52004aa8", "google-oauth2|101268472706136846392"])
        nameless = self.t.by_id["samlp|acme-saml|ext-00417"]
        self.assertFalse({"name", "email", "username", "given_name", "family_name"} & set(nameless))
        with_uidnumber = sorted(u["user_id"] for u in self.t.users if "uid_number" in u.get("app_metadata", {}))
        self.assertEqual(len(with_uidnumber), 2)
        never = [u for u in self.t.users if "last_login" not in u]
        self.assertEqual([u["logins_count"] for u in never], [0])
        self.assertTrue(any(len(u.get("app_metadata", {}).get("ssh_keys", [])) == 2 for u in self.t.users))
        self.assertTrue(any("phone_number" in u for u in self.t.users))

    def test_sim_users(self):
        db = [u["user_id"] for u in self.t.users if connection(u) == "Username-Password-Authentication"]
        self.assertEqual(sorted(self.t.sim), sorted(db))
        mfa = {k: v for k, v in self.t.sim.items() if v.get("mfa")}
        self.assertEqual(list(mfa), ["auth0|5dc12ae93f9a1c7e52004a4c"])
        self.assertEqual(mfa["auth0|5dc12ae93f9a1c7e52004a4c"]["otp"], "123456")
        self.assertEqual(self.t.by_id["auth0|5dc12ae93f9a1c7e52004a4c"].get("multifactor"), ["guardian"])
        self.assertTrue(all(v["password"].startswith("Passw0rd-") for v in self.t.sim.values()))
        leaked = [k for k, v in self.t.sim.items() if v.get("password_leaked")]
        self.assertEqual(leaked, ["auth0|60d19a683f9a1c7e52004ad0"])
        throttled = [k for k, v in self.t.sim.items() if v.get("too_many_attempts")]
        self.assertEqual(throttled, ["auth0|668148c03f9a1c7e52004c29"])

    def test_group_tree_shape(self):
        self.assertGreaterEqual(len(self.t.groups), 8)
        self.assertGreaterEqual(longest_chain(self.t), 5)    # Acme Corp > Engineering > Platform > SRE > On-Call
        self.assertEqual(sorted(cycles(self.t)), ["Auditors", "Compliance"])
        p = parents(self.t)
        data = self.t.group_by_name["Data"]["_id"]
        self.assertEqual(sorted(self.t.group_by_id[x]["name"] for x in p[data]), ["Finance", "Platform"])
        alumni = self.t.group_by_name["Alumni"]
        self.assertEqual(set(alumni), {"_id", "name", "description"})
        self.assertNotIn("members", self.t.group_by_name["Acme Corp"])

    def test_mappings(self):
        g = self.t.group_by_name
        names = lambda ids: sorted(self.uids[i] for i in ids)
        self.assertEqual(names(mapped(self.t, g["SRE"])),
                         ["aoife.kelly@acme.example", "olu.adeyemi@acme.example",
                          "samlp|acme-saml|Priya.Patel@acme.example"])
        # SG-Finance (other case) does not match sg-finance
        self.assertEqual(names(mapped(self.t, g["Finance"])),
                         ["mei.tanaka@acme.example", "sven.eriksson@acme.example"])
        # the On-Call mapping is for google-oauth2: the SAML user carrying sg-oncall is not placed
        self.assertEqual(mapped(self.t, g["On-Call"]), set())
        # app_metadata.groups are not IdP groups
        fnovak = self.find(username="fnovak")
        self.assertNotIn(fnovak, effective_members(self.t, g["SRE"]["_id"]))

    def test_flattened_membership(self):
        g = self.t.group_by_name
        eff = lambda name: sorted(self.uids[i] for i in effective_members(self.t, g[name]["_id"]))
        self.assertEqual(eff("On-Call"), ['#edge,case+"all"\\<chars>;x=y ', "mrossi"])
        self.assertEqual(eff("Auditors"), eff("Compliance"))      # the cycle: same members
        self.assertEqual(eff("Auditors"), [" lee ", "lzolc", "mei.tanaka@acme.example",
                                           "pierre.martin@acme.example", "siobhan"])
        data = set(eff("Data"))
        self.assertTrue(data <= set(eff("Platform")) and data <= set(eff("Finance")))   # the diamond
        self.assertEqual(eff("SRE"), ['#edge,case+"all"\\<chars>;x=y ', "aoife.kelly@acme.example", "doe, carlos",
                                      "jane", "mrossi", "olu.adeyemi@acme.example",
                                      "samlp|acme-saml|Priya.Patel@acme.example", "yamada.taro"])
        self.assertEqual(eff("Finance"), [" lee ", "auth0|64a7b99b3f9a1c7e52004bdb", "chenwei.dev@gmail.com",
                                          "jmueller", "lzolc", "mei.tanaka@acme.example", "oyvind.as@example.no",
                                          "pierre.martin@acme.example", "siobhan", "sven.eriksson@acme.example",
                                          "zoë"])
        acme = eff("Acme Corp")
        self.assertEqual(len(acme), 29)
        for who in ("mrossi", "olu.adeyemi@acme.example", "siobhan", "zoë", "samlp|acme-saml|ext-00417"):
            self.assertIn(who, acme)
        self.assertEqual(eff("Alumni"), [])

    def test_roles_and_applications(self):
        t = self.t
        rbac = {r["name"] for r in t.roles}
        authz = [r["name"] for r in t.aroles.values()]
        self.assertIn("Admin", rbac)
        self.assertIn("Admin", authz)          # same name in both role sources
        self.assertEqual([r["name"] for r in t.roles if not r["members"]], ["Release Manager"])
        apps = {c["name"]: c["client_id"] for c in t.clients}
        self.assertEqual(sorted(c["app_type"] for c in t.clients),
                         ["native", "non_interactive", "regular_web", "regular_web", "spa"])
        scoped = {t.aroles[r]["applicationId"] for r in t.aroles}
        self.assertEqual(scoped, {apps["Jenkins"], apps["Grafana"], apps["Expense Tracker"]})
        unused = [p["name"] for p in t.perms.values()
                  if not any(p["_id"] in r["permissions"] for r in t.aroles.values())]
        self.assertEqual(unused, ["delete:expenses"])
        direct = [r for r in t.aroles.values() if r.get("users")]
        self.assertEqual([r["name"] for r in direct], ["Expense User"])
        self.assertEqual(app_users(t, apps["Acme Field App"]), set())
        self.assertEqual(app_users(t, apps["LDAP Bridge"]), set())
        grafana_admins = sorted(self.uids[u] for u in role_users(t, next(
            r for r, x in t.aroles.items() if x["name"] == "Admin")))
        self.assertEqual(grafana_admins, ['#edge,case+"all"\\<chars>;x=y ', "aoife.kelly@acme.example",
                                          "doe, carlos", "jane", "mrossi", "olu.adeyemi@acme.example",
                                          "samlp|acme-saml|Priya.Patel@acme.example", "yamada.taro"])


    def test_native_groups_and_organizations(self):
        """The promises of the README's section on groups.json and
        organizations.json, with an independent flattening."""
        t = self.t
        by_name = {}
        for g in t.native:
            by_name.setdefault(g["name"], []).append(g)
        byid = {g["id"]: g for g in t.native}

        def flat(gid, seen=()):
            out = set()
            for m in byid[gid]["members"]:
                if m["member_type"] == "user":
                    out.add(m["id"])
                elif m["id"] not in seen:
                    out |= flat(m["id"], seen + (gid,))
            return out
        workforce = by_name["Workforce"][0]
        self.assertEqual(sorted(self.uids[u] for u in flat(workforce["id"])),
                         ["anunez", "lzolc", "mei.tanaka@acme.example",
                          "olu.adeyemi@acme.example", "rkumar", "sven.eriksson@acme.example"])
        self.assertNotIn("connection_id", workforce)
        staff = by_name["Engineering Staff"][0]
        developer = next(r for r in t.roles if r["name"] == "Developer")
        self.assertEqual(staff["roles"], [developer["id"]])
        self.assertEqual(len(flat(staff["id"]) - set(developer["members"])), 4)
        # the clash: one Finance in each source
        self.assertIn("Finance", t.group_by_name)
        self.assertEqual(by_name["Finance"][0]["id"], "grp_9Fs4Jh7Dk2Lq6Pz8Xc")
        orgs = {o["name"]: o for o in t.orgs}
        self.assertEqual(sorted(orgs), ["globex", "initech"])
        held = {(o, r["name"]) for o, x in orgs.items() for m in x["members"] for r in m["roles"]}
        self.assertEqual(held, {("globex", "Admin"), ("globex", "Developer"), ("globex", "Read Only"),
                                ("initech", "Support Agent")})


# -- generated tenants --------------------------------------------------------
class GeneratedTenant(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gen-tenant-")
        cls.a = os.path.join(cls.tmp, "a")
        generate(cls.a, "--users", 2000)
        cls.t = Tenant(cls.a)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_integrity(self):
        self.assertEqual(problems(self.t)[:20], [])

    def test_counts_and_shape(self):
        t = self.t
        self.assertEqual(len(t.users), 2000)
        strategies = [c["strategy"] for c in t.connections]
        self.assertEqual(strategies, ["auth0", "google-oauth2", "samlp", "auth0"])
        per_conn = {}
        for u in t.users:
            per_conn[connection(u)] = per_conn.get(connection(u), 0) + 1
        self.assertEqual(set(per_conn), set(t.conn_by_name))
        self.assertGreaterEqual(longest_chain(t), 4)
        self.assertTrue(cycles(t))
        self.assertTrue(any(len(v) > 1 for v in parents(t).values()))
        self.assertTrue(any(u.get("blocked") is True for u in t.users))
        self.assertTrue(any(v.get("mfa") for v in t.sim.values()))
        self.assertTrue(any(u.get("username") for u in t.users))
        self.assertTrue(any("uid_number" in u.get("app_metadata", {}) for u in t.users))
        # some SAML users are placed in groups by mappings
        self.assertTrue(any(mapped(t, g) for g in t.groups))
        # uids are assignable and some collide (same person on Google and in a database)
        u = uids(t.users)
        self.assertTrue(any(v == k and t.by_id[k].get("email") for k, v in u.items()))

    def test_json_files_pretty_printed(self):
        for name in ("roles.json", "clients.json", "connections.json", "authz.json"):
            with open(os.path.join(self.a, name), encoding="utf-8") as f:
                text = f.read()
            self.assertEqual(text, json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n", name)

    def test_passwords_derived_from_seed_and_user_id(self):
        import hashlib
        for uid, e in self.t.sim.items():
            h = hashlib.blake2b(("1:" + uid).encode(), digest_size=6)
            self.assertEqual(e["password"], "Passw0rd-" + h.hexdigest())
            self.assertEqual(e.get("password_leaked", False), h.digest()[0] == 0)
            self.assertEqual(e.get("too_many_attempts", False), h.digest()[0] == 1)

    def test_deterministic(self):
        b = os.path.join(self.tmp, "b")
        generate(b, "--users", 2000)
        self.assertEqual(read_all(self.a), read_all(b))

    def test_seed_changes_output(self):
        c = os.path.join(self.tmp, "c")
        generate(c, "--users", 2000, "--seed", 2)
        self.assertNotEqual(read_all(self.a)["users.ndjson"], read_all(c)["users.ndjson"])
        self.assertEqual(problems(Tenant(c))[:20], [])

    def test_more_connections(self):
        d = os.path.join(self.tmp, "d")
        generate(d, "--users", 500, "--connections", 7, "--seed", "x")
        t = Tenant(d)
        self.assertEqual(problems(t)[:20], [])
        self.assertEqual(len(t.connections), 7)
        self.assertEqual(sum(c["strategy"] == "samlp" for c in t.connections), 2)
        self.assertTrue(any(isinstance(u["identities"][0]["user_id"], int) for u in t.users))   # github

    def test_native_groups_and_organizations(self):
        d = os.path.join(self.tmp, "native")
        generate(d, "--users", 500, "--native", "--organizations", 2)
        t = Tenant(d)
        self.assertEqual(problems(t), [])
        self.assertGreater(len(t.native), 40)
        self.assertTrue(any(m["member_type"] == "group" for g in t.native for m in g["members"]))
        self.assertTrue(any(g["roles"] for g in t.native))
        self.assertEqual([o["name"] for o in t.orgs], ["customer-001", "customer-002"])
        self.assertTrue(any(m["roles"] for o in t.orgs for m in o["members"]))
        # the other files do not change with them
        plain = os.path.join(self.tmp, "plain500")
        generate(plain, "--users", 500)
        self.assertEqual(read_all(d), read_all(plain))

    def test_zero_users(self):
        e = os.path.join(self.tmp, "e")
        generate(e, "--users", 0)
        t = Tenant(e)
        self.assertEqual((t.users, t.sim), ([], {}))
        self.assertEqual(problems(t), [])

    def test_bad_arguments(self):
        for args in (["--users", "-1"], ["--users", "5", "--connections", "2"], ["--users", "x"]):
            p = subprocess.run([sys.executable, GEN, "--out", os.path.join(self.tmp, "bad")] + args,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(p.returncode, 2, args)


if __name__ == "__main__":
    unittest.main()
