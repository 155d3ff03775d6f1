"""model_oracle.py - expected groups, roles, applications and memberships.

An independent reading of the Authorization Extension semantics (a member
of a nested child group is a member of the parent, at any depth; mapped IdP
groups place users; roles on a group apply to its members; roles scoped to
an application give access to it) and of native groups and organizations
(DESIGN.md 8.3: nesting through members of member_type group, Management
API roles inherited through groups, roles held in an organization),
computed from the snapshot files, to compare with what slapd serves.
Membership is by user_id.
"""
import json
import os

import oracle


def load(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return default


class Tenant:
    def __init__(self, snap):
        with open(os.path.join(snap, "users.ndjson"), encoding="utf-8") as f:
            self.users = oracle.selected([json.loads(line) for line in f if line.strip()])
        self.by_id = {u["user_id"]: u for u in self.users}
        self.roles = load(os.path.join(snap, "roles.json"), [])
        self.clients = load(os.path.join(snap, "clients.json"), [])
        authz = load(os.path.join(snap, "authz.json"), {})
        self.groups = {g["_id"]: g for g in authz.get("groups", [])}
        self.authz_roles = {r["_id"]: r for r in authz.get("roles", [])}
        self.permissions = {p["_id"]: p for p in authz.get("permissions", [])}
        self.native = {g["id"]: g for g in load(os.path.join(snap, "groups.json"), [])}
        self.orgs = {o["id"]: o for o in load(os.path.join(snap, "organizations.json"), [])}
        self.connections = load(os.path.join(snap, "connections.json"), [])

    # native groups (DESIGN.md 8.3): nesting through member_type "group"
    def native_children(self, gid):
        return [m["id"] for m in self.native[gid].get("members") or []
                if m.get("member_type") == "group" and m["id"] in self.native]

    def native_members(self, gid):
        seen, todo, out = {gid}, [gid], set()
        while todo:
            g = self.native[todo.pop()]
            out |= {m["id"] for m in g.get("members") or []
                    if m.get("member_type") == "user" and m["id"] in self.by_id}
            for c in self.native_children(g["id"]):
                if c not in seen:
                    seen.add(c)
                    todo.append(c)
        return out

    def native_in_cycle(self, gid):
        seen, todo = set(), list(self.native_children(gid))
        while todo:
            c = todo.pop()
            if c == gid:
                return True
            if c not in seen:
                seen.add(c)
                todo += self.native_children(c)
        return False

    def native_depth(self, gid, seen=()):
        kids = [c for c in self.native_children(gid) if c not in seen]
        return 0 if not kids else 1 + max(self.native_depth(c, seen + (gid,)) for c in kids)

    # organizations: members, and per role held there its holders
    def org_members(self, oid):
        return {m["user_id"] for m in self.orgs[oid].get("members") or [] if m["user_id"] in self.by_id}

    def org_roles(self, oid):
        return {r["id"]: r["name"] for m in self.orgs[oid].get("members") or [] for r in m.get("roles") or []}

    def org_role_members(self, oid, rid):
        return {m["user_id"] for m in self.orgs[oid].get("members") or []
                if m["user_id"] in self.by_id and rid in {r["id"] for r in m.get("roles") or []}}

    def client_connections(self, client_id):
        return {c["name"] for c in self.connections if client_id in (c.get("enabled_clients") or [])}

    def mapped(self, group):
        out = set()
        for m in group.get("mappings") or []:
            for u in self.users:
                conn = oracle.connection(u)
                if m["groupName"] in (u.get("groups") or []) and (
                        m["connectionName"] == conn or m["connectionName"].startswith(conn + " (")):
                    out.add(u["user_id"])
        return out

    def group_members(self, gid):
        seen, todo, out = {gid}, [gid], set()
        while todo:
            g = self.groups[todo.pop()]
            out |= {m for m in g.get("members") or [] if m in self.by_id}
            out |= self.mapped(g)
            for c in g.get("nested") or []:
                if c in self.groups and c not in seen:
                    seen.add(c)
                    todo.append(c)
        return out

    def reachable(self, gid):
        seen, todo = set(), [c for c in self.groups[gid].get("nested") or [] if c in self.groups]
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            todo += [n for n in self.groups[c].get("nested") or [] if n in self.groups]
        return seen

    def in_cycle(self, gid):
        return gid in self.reachable(gid)

    def rbac_members(self, role):
        out = {m for m in role.get("members") or [] if m in self.by_id}
        for gid, g in self.native.items():
            if role["id"] in (g.get("roles") or []):
                out |= self.native_members(gid)
        return out

    def authz_role_members(self, rid):
        out = {m for m in self.authz_roles[rid].get("users") or [] if m in self.by_id}
        for gid, g in self.groups.items():
            if rid in (g.get("roles") or []):
                out |= self.group_members(gid)
        return out

    def client_members(self, client_id):
        out = set()
        for rid, r in self.authz_roles.items():
            if r.get("applicationId") == client_id and r.get("applicationType", "client") == "client":
                out |= self.authz_role_members(rid)
        return out
