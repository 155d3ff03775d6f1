#!/usr/bin/python3
"""ldap_paged_search.py - read a whole subtree of a back-auth0 directory
page by page with the Simple Paged Results control (RFC 2696), as sync
tools, Nextcloud or Keycloak do.  Debian: apt-get install python3-ldap.

    ldap_paged_search.py --uri ldap://ldap.example.com \\
        --bind-dn cn=reader,ou=services,dc=example,dc=com \\
        --password-file /etc/ldap-reader.secret --starttls \\
        --base ou=people,dc=example,dc=com --page-size 100 \\
        --attr uid --attr mail --json > people.jsonl

Each entry is printed as it arrives: its DN, or with --json one JSON
object per line {"dn": ..., "attributes": {name: [values]}} (values as
UTF-8 text, base64 for binary values, marked "name;binary").  The last
line on stderr counts entries and pages.  The password is only read from
a file.  Exit status 0, or 1 with the LDAP error on stderr.
"""
import argparse
import base64
import json
import sys

import ldap
from ldap.controls import SimplePagedResultsControl

SCOPES = {"base": ldap.SCOPE_BASE, "one": ldap.SCOPE_ONELEVEL, "sub": ldap.SCOPE_SUBTREE}


def connect(uri, bind_dn=None, password=None, starttls=False, ca_file=None, timeout=30):
    """An LDAPv3 connection, StartTLS with certificate checks if asked, bound
    as bind_dn (anonymous without one)."""
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, timeout)
    if starttls or uri.lower().startswith("ldaps:"):
        conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
        if ca_file:
            conn.set_option(ldap.OPT_X_TLS_CACERTFILE, ca_file)
        conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)      # apply the TLS options above
    if starttls:
        conn.start_tls_s()
    if bind_dn:
        conn.simple_bind_s(bind_dn, password or "")
    return conn


def paged_search(conn, base, filterstr="(objectClass=*)", attrs=None, page_size=100,
                 scope=ldap.SCOPE_SUBTREE):
    """Yields one list of (dn, attributes) per page the server returns.

    The control is sent as critical: a server without paged results must
    refuse (unavailableCriticalExtension) rather than answer everything at
    once.  The search is over when the server's cookie comes back empty."""
    control = SimplePagedResultsControl(criticality=True, size=page_size, cookie=b"")
    while True:
        msgid = conn.search_ext(base, scope, filterstr, attrs, serverctrls=[control])
        _, entries, _, ctrls = conn.result3(msgid)
        yield [(dn, a) for dn, a in entries if dn is not None]      # no referrals
        cookie = next((c.cookie for c in ctrls if c.controlType == SimplePagedResultsControl.controlType), None)
        if cookie is None:
            raise ldap.PROTOCOL_ERROR({"desc": "the server sent no paged results control back"})
        if not cookie:
            return
        control.cookie = cookie


def as_json(dn, attrs):
    out = {}
    for name, values in attrs.items():
        try:
            out[name] = [v.decode("utf-8") for v in values]
        except UnicodeDecodeError:
            out[name + ";binary"] = [base64.b64encode(v).decode("ascii") for v in values]
    return json.dumps({"dn": dn, "attributes": out}, ensure_ascii=False, sort_keys=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uri", required=True, help="ldap://host[:port] or ldaps://...")
    ap.add_argument("--base", default="ou=people,dc=example,dc=com")
    ap.add_argument("--scope", choices=SCOPES, default="sub")
    ap.add_argument("--filter", default="(objectClass=inetOrgPerson)")
    ap.add_argument("--attr", action="append", help="attribute to return (repeatable; default: all)")
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--bind-dn", help="bind as this DN (default: anonymous)")
    ap.add_argument("--password-file", help="the bind password, first line of this file")
    ap.add_argument("--starttls", action="store_true")
    ap.add_argument("--ca-file", help="CA certificate(s) for TLS (default: the system's)")
    ap.add_argument("--json", action="store_true", help="one JSON object per entry")
    args = ap.parse_args(argv)
    if args.page_size < 1:
        ap.error("--page-size must be at least 1")
    password = None
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")
    try:
        conn = connect(args.uri, args.bind_dn, password, args.starttls, args.ca_file)
        entries = pages = 0
        for page in paged_search(conn, args.base, args.filter, args.attr, args.page_size, SCOPES[args.scope]):
            pages += 1
            for dn, attrs in page:
                entries += 1
                print(as_json(dn, attrs) if args.json else dn)
        conn.unbind_s()
    except ldap.LDAPError as e:
        info = e.args[0] if e.args and isinstance(e.args[0], dict) else {"desc": str(e)}
        print("ldap_paged_search: %s%s" % (info.get("desc", e), (": " + info["info"]) if info.get("info") else ""),
              file=sys.stderr)
        return 1
    print("%d entries in %d pages of at most %d" % (entries, pages, args.page_size), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
