"""The man page renders cleanly and documents every directive; the
committed cn=config schema matches the .schema it is generated from."""
import os
import re
import subprocess
import unittest

from harness import TOP


class Docs(unittest.TestCase):
    def test_man_page_renders_without_warnings(self):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
        p = subprocess.run(["man", "--warnings", "-l", os.path.join(TOP, "docs/slapo-auth0.5")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr.decode(), "")
        self.assertIn("CONFIGURATION", p.stdout.decode())

    def test_every_directive_documented_in_both_forms(self):
        with open(os.path.join(TOP, "back-auth0/config.c"), encoding="utf-8") as f:
            code = f.read()
        with open(os.path.join(TOP, "docs/slapo-auth0.5"), encoding="utf-8") as f:
            man = f.read().replace("\\-", "-")
        directives = re.findall(r'\{ "(auth0-[a-z0-9-]+)"', code)
        names = [n for n in re.findall(r"NAME '(olcAuth0\w+)'", code) if n != "olcAuth0Config"]
        self.assertGreaterEqual(len(directives), 8)
        self.assertEqual(len(directives), len(names))
        for d in directives + names:
            self.assertIn(d, man, d)

    def test_ldif_schemas_are_generated(self):
        for name in ("auth0", "rfc2307bis"):
            p = subprocess.run([os.path.join(TOP, "scripts/schema2ldif"),
                                os.path.join(TOP, "schema/%s.schema" % name)], stdout=subprocess.PIPE)
            with open(os.path.join(TOP, "schema/%s.ldif" % name), encoding="utf-8") as f:
                self.assertEqual(p.stdout.decode(), f.read(), name)


if __name__ == "__main__":
    unittest.main()
