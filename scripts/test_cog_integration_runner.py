"""Self-test of scripts/cog-integration-tests.py (the testscript dialect; no cog, no registry, a second or two):

    python3 -m unittest discover -s scripts -p 'test_cog_integration_runner.py'     (or: make cog-integration-selftest)
"""

import importlib.util
import os
import shutil
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(os.path.dirname(HERE), "testdata", "cog-integration", "dialect.txtar")
spec = importlib.util.spec_from_file_location("runner", os.path.join(HERE, "cog-integration-tests.py"))
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
harness = runner.sys.modules["cog_integration_harness"]


class NoHarness:
    def command(self, name):
        return None

    def cleanup(self, ts):
        pass


class DialectTests(unittest.TestCase):
    def test_txtar_splits_script_and_files(self):
        script, files = runner.parse_txtar("# c\nexec true\n-- a.txt --\nA\n-- d/b.txt --\nB\n\n")
        self.assertEqual(script, "# c\nexec true\n")
        self.assertEqual(files, [("a.txt", "A\n"), ("d/b.txt", "B\n\n")])

    def test_words_as_testscript_splits_them(self):
        env = {"X": "ex", "WORK": "/w.v"}.get
        parse = lambda line: runner.parse_line(line, lambda k: env(k) or "")  # noqa: E731
        self.assertEqual(parse("exec echo 'a b' c # d"), ["exec", "echo", "a b", "c"])
        self.assertEqual(parse("stdout 'it''s'"), ["stdout", "it's"])
        self.assertEqual(parse("env A=$X '$X' ${X}y"), ["env", "A=ex", "$X", "exy"])
        self.assertEqual(parse("exec echo ''"), ["exec", "echo", ""])
        self.assertEqual(parse("stdout ${WORK@R}/x.y"), ["stdout", r"/w\.v/x.y"])
        self.assertEqual(parse("   "), [])
        with self.assertRaises(harness.Fatal):
            parse("exec 'open")

    def test_go_expand_edge_cases(self):
        get = {"A": "1"}.get
        expand = lambda s: runner.go_expand(s, lambda k: get(k) or "")  # noqa: E731
        self.assertEqual(expand("$A-${A}-$"), "1-1-$")
        self.assertEqual(expand("x${}y"), "xy")
        self.assertEqual(expand("a$ b"), "a$ b")
        self.assertEqual(expand('{"k":"$A"}'), '{"k":"1"}')

    def test_go_regexp(self):
        self.assertTrue(runner.go_regexp(r"^b$").search("a\nb\nc"))
        self.assertTrue(runner.go_regexp(r"[[:digit:]]+\z").search("ab12"))

    def test_skip_reasons(self):
        gpu = [("cog.yaml", "build:\n  gpu: true\n")]
        self.assertIn("gpu", runner.skip_reason("cog build -t $TEST_IMAGE\n", gpu))
        self.assertIsNone(runner.skip_reason("! cog build -t $TEST_IMAGE\n", gpu))
        self.assertIn("webhook", runner.skip_reason("webhook-server-start\n", []))
        self.assertIn("Docker", runner.skip_reason("docker-run $TEST_IMAGE true\n", []))
        self.assertIsNone(runner.skip_reason("# docker-run in a comment\ncog build\n", []))

    def test_fixture_runs(self):
        with open(FIXTURE) as handle:
            script, files = runner.parse_txtar(handle.read())
        work = tempfile.mkdtemp(prefix="cog-integration-selftest-")
        try:
            env = {"WORK": work, "PATH": os.environ["PATH"], "HOME": work}
            lines = []
            ts = runner.TestScript("dialect", script, files, work, env, NoHarness(), time.monotonic() + 60, False,
                                   lines.append)
            ts.run()
            self.assertEqual(ts.cd, work)
            # Each assertion failing is a failure of the script, named as testscript names it.
            ts.stdout = "x"
            with self.assertRaisesRegex(harness.Fatal, "no match for `y` found in stdout"):
                ts.run_line(1, "stdout y")
            with self.assertRaisesRegex(harness.Fatal, "unexpected command success"):
                ts.run_line(1, "! exec true")
            with self.assertRaisesRegex(harness.Fatal, "unknown command"):
                ts.run_line(1, "frobnicate")
            with self.assertRaises(harness.Skip):
                ts.run_line(1, "[linux] skip 'why'")
        finally:
            shutil.rmtree(work)

    def test_docker_inspect_template(self):
        config = {"config": {"Labels": {"run.cog.version": "0.22.0"}}, "rootfs": {"diff_ids": ["sha256:a"]}}
        self.assertEqual(harness.render('{{index .Config.Labels "run.cog.version"}}', config), "0.22.0")
        self.assertEqual(harness.render('{{index .Config.Labels "nope"}}', config), "")
        self.assertEqual(harness.render("{{json .RootFS.Layers}}", config), '["sha256:a"]')


if __name__ == "__main__":
    unittest.main()
