"""Self-test of scripts/cog-integration-tests.py (the testscript dialect; no cog, no registry, a second or two):

    python3 -m unittest discover -s scripts -p 'test_cog_integration_runner.py'     (or: make cog-integration-selftest)
"""

import importlib.util
import os
import shutil
import tempfile
import time
import unittest
import urllib.error
import urllib.request

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
        self.assertIsNone(runner.skip_reason("webhook-server-start\nupload-server-start\n", []))
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

    def test_receivers_on_the_host(self):
        """upload-server-* and webhook-server-* as Cog's harness answers them (reached here over 127.0.0.1)."""
        work = tempfile.mkdtemp(prefix="cog-integration-selftest-")
        hosts = harness.Harness(None, work, os.path.dirname(HERE), runner.go_expand)
        ts = runner.TestScript("receivers", "", [], work, {"WORK": work, "PATH": os.environ["PATH"]}, hosts,
                               time.monotonic() + 60, False, lambda line: None)

        def call(method, url, body, headers=None):
            port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)[1]
            local = "http://127.0.0.1:" + port + "/" + url.split("//", 1)[1].split("/", 1)[1]
            request = urllib.request.Request(local, data=body, method=method, headers=headers or {})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    return response.status, dict(response.headers), response.read()
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers), error.read()

        try:
            ts.run_line(1, "upload-server-start")
            url = ts.getenv("UPLOAD_SERVER_URL")
            self.assertRegex(url, r"^http://host\.docker\.internal:\d+/$")
            status, headers, _ = call("PUT", url + "out%20put.png?X-Sig=1", b"png", {"Content-Type": "image/png"})
            self.assertEqual(status, 200)
            self.assertEqual(headers["Location"], url + "out put.png")
            self.assertEqual(call("POST", url + "x", b"")[0], 405)
            ts.run_line(2, "upload-server-count 1")
            ts.run_line(3, "! upload-server-count 2")
            with self.assertRaisesRegex(harness.Fatal, "expected 2 uploads but got 1"):
                ts.run_line(4, "upload-server-count 2")
            with self.assertRaisesRegex(harness.Fatal, "already running"):
                ts.run_line(5, "upload-server-start")

            ts.run_line(6, "webhook-server-start")
            url = ts.getenv("WEBHOOK_URL")
            self.assertRegex(url, r"^http://host\.docker\.internal:\d+/webhook$")
            with self.assertRaisesRegex(harness.Fatal, r"timed out after 100ms waiting for terminal webhook"):
                ts.run_line(7, "webhook-server-wait 100ms")
            self.assertEqual(call("GET", url, None)[0], 405)
            self.assertEqual(call("POST", url, b"{not json")[0], 400)
            self.assertEqual(call("POST", url, b'{"status":"processing","output":"x"}')[0], 200)
            payload = (b'{"id":"p","Status":"failed","output":["a", "b"],"error":"boom <x> & \xc3\xa9\\n",'
                       b'"metrics": {"predict_time": 1.50, "note": "a<b"}}')
            self.assertEqual(call("POST", url, payload)[0], 200)
            self.assertEqual(call("POST", url, b'{"status":"succeeded","output":"zz"}')[0], 200)  # first one kept
            ts.run_line(8, "webhook-server-wait 5s")
            self.assertEqual(ts.stdout, '{"status":"failed","output_size":10,"has_error":true,'
                                        '"error_message":"boom \\u003cx\\u003e \\u0026 \u00e9\\n",'
                                        '"metrics":{"predict_time":1.50,"note":"a\\u003cb"}}\n')
            ts.run_line(9, "stdout '\"status\":\"failed\"'")
        finally:
            hosts.cleanup(ts)
            shutil.rmtree(work)
        self.assertEqual((hosts.upload_servers, hosts.webhook_servers), ({}, {}))

    def test_webhook_summary_as_go_writes_it(self):
        server = harness.WebhookServer()
        try:
            for body, want in [
                (b'{"status":"succeeded","output":"\u00e9\u00e9"}',
                 '{"status":"succeeded","output_size":4,"has_error":false}'),
                (b'{"status":"canceled","output":null,"error":null,"metrics":null}',
                 '{"status":"canceled","output_size":0,"has_error":false,"metrics":null}'),
            ]:
                server.result = None
                server.handle(type("R", (), {"reply": lambda *a: None})(), "POST", "/webhook", body)
                self.assertEqual(server.result_json(), want)
        finally:
            server.close()
        self.assertEqual(harness.go_parse_duration("1m30s"), 90 * 10**9)
        self.assertEqual(harness.go_parse_duration(".5s"), 5 * 10**8)
        self.assertIsNone(harness.go_parse_duration("30"))
        self.assertEqual(harness.go_duration_string(120 * 10**9), "2m0s")
        self.assertEqual(harness.go_duration_string(3600 * 10**9 + 1500 * 10**6), "1h0m1.5s")

    def test_docker_inspect_template(self):
        config = {"config": {"Labels": {"run.cog.version": "0.22.0"}}, "rootfs": {"diff_ids": ["sha256:a"]}}
        self.assertEqual(harness.render('{{index .Config.Labels "run.cog.version"}}', config), "0.22.0")
        self.assertEqual(harness.render('{{index .Config.Labels "nope"}}', config), "")
        self.assertEqual(harness.render("{{json .RootFS.Layers}}", config), '["sha256:a"]')


if __name__ == "__main__":
    unittest.main()
