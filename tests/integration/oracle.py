"""oracle.py - what the imported directory should hold, from the snapshot.

An independent statement of DESIGN.md section 3's user rules, used to check
what slapd serves: which users are selected, which uid each gets (username,
else email, else user_id; on a collision the lower user_id keeps it), the
entryUUID (version 5 UUID of the user_id in back-auth0's namespace).
"""
import uuid

NAMESPACE = uuid.UUID("adca326f-0311-4412-805a-8aa41c380950")


def connection(user):
    ids = user.get("identities") or []
    if ids and isinstance(ids[0], dict) and ids[0].get("connection"):
        return ids[0]["connection"]
    return user.get("connection")


def selected(users, connections=None):
    return [u for u in users
            if isinstance(u, dict) and u.get("user_id")
            and (not connections or connection(u) in connections)]


def fold(s):
    # the uid attribute's equality rule ignores case (and collapses spaces)
    return " ".join(s.casefold().split())


def uids(users):
    """{user_id: uid} for the selected users."""
    taken, out = set(), {}
    for u in sorted(users, key=lambda u: u["user_id"].encode()):
        want = u.get("username") or u.get("email") or u["user_id"]
        if fold(want) in taken:
            want = u["user_id"]
        taken.add(fold(want))
        out[u["user_id"]] = want
    return out


def entry_uuid(user_id):
    return str(uuid.uuid5(NAMESPACE, user_id))


def gentime(iso):
    """2017-06-08T15:30:41.237Z -> 20170608153041.237Z"""
    d, t = iso.rstrip("Z").split("T")
    return d.replace("-", "") + t.replace(":", "") + "Z"
