"""The module's layering (DESIGN.md section 1, README "Where things are").

back-auth0/ has three folders whose calls only go down: core/ (slapd-free)
<- auth0/ (the Auth0 clients) <- slapd/ (the overlay).  These tests read the
sources' #include lines and the built objects' symbol tables (nm), so a
call that goes up, or two files calling each other, fails here.
"""
import collections
import glob
import os
import re
import subprocess
import unittest

from harness import MODULE, TOP

SRC = os.path.join(TOP, "back-auth0")
LAYERS = ("core", "auth0", "slapd")
# slapd's and OpenLDAP's internal headers: only slapd/ may include them
# (libldap's public <ldap.h>, for DN escaping, is a library like any other)
SLAPD_HEADERS = re.compile(r'#include\s+[<"](slap\.h|slap-config\.h|portable\.h|ldap_rq\.h|'
                           r'back-monitor/|ac/|ldap_pvt|lutil)')
INCLUDE = re.compile(r'#include\s+"([^"]+)"')


def sources(layer):
    return sorted(glob.glob(os.path.join(SRC, layer, "*.[ch]")))


def includes(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text, INCLUDE.findall(text)


def object_graph():
    """{file.c: {file.c it calls}} from the objects next to the module."""
    objdir = os.path.dirname(os.path.dirname(os.path.dirname(MODULE)))
    objs = [o for o in glob.glob(os.path.join(objdir, "back-auth0", "*", ".libs", "*.o"))
            if "vtest" not in os.path.basename(o)]
    defs, uses = {}, collections.defaultdict(set)
    for o in objs:
        name = os.path.basename(o).split("_la-", 1)[-1][:-2] + ".c"
        out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in "TDBR":
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == "U":
                uses[name].add(p[1])
    graph = collections.defaultdict(set)
    for f, used in uses.items():
        for sym in used:
            if sym in defs and defs[sym] != f:
                graph[f].add(defs[sym])
    return graph


def cycles(graph):
    """Strongly connected components of more than one file (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


class Layout(unittest.TestCase):
    def test_every_source_is_in_a_layer(self):
        loose = [f for f in os.listdir(SRC) if f.endswith((".c", ".h"))]
        self.assertEqual(loose, [], "sources outside core/, auth0/, slapd/")
        for layer in LAYERS:
            self.assertTrue(sources(layer), layer)

    def test_core_includes_only_core(self):
        core = {os.path.basename(p) for p in sources("core")}
        for path in sources("core"):
            text, incs = includes(path)
            self.assertIsNone(SLAPD_HEADERS.search(text), path)
            self.assertEqual([i for i in incs if i not in core], [], path)

    def test_auth0_clients_never_see_entries_or_slapd(self):
        allowed = {os.path.basename(p) for p in sources("auth0")} | {"model.h"}
        for path in sources("auth0"):
            text, incs = includes(path)
            self.assertIsNone(SLAPD_HEADERS.search(text), path)
            self.assertEqual([i for i in incs if i not in allowed], [], path)

    def test_no_file_cycles(self):
        graph = object_graph()
        self.assertTrue(graph, "no objects found beside " + MODULE)
        self.assertEqual(cycles(graph), [])

    def test_calls_only_go_down(self):
        layer_of = {os.path.basename(p)[:-2] + ".c": layer
                    for layer in LAYERS for p in sources(layer)}
        rank = {layer: n for n, layer in enumerate(LAYERS)}
        graph = object_graph()
        up = [(a, b) for a in graph for b in graph[a]
              if a in layer_of and b in layer_of and rank[layer_of[b]] > rank[layer_of[a]]]
        self.assertEqual(up, [])

    def test_nothing_calls_up_into_the_refresh_task(self):
        graph = object_graph()
        callers = sorted(a for a in graph if "refresh.c" in graph[a])
        self.assertEqual(callers, ["config.c", "init.c"])


if __name__ == "__main__":
    unittest.main()
