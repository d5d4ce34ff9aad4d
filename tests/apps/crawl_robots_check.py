#!/usr/bin/env python3
"""spmd-crawl reads robots.txt as RFC 9309 2.3.1 says, at 1 and 3 ranks, against four sites on
127.0.0.1: a robots.txt behind a redirect is followed (its Disallow holds); one slower than
--timeout is unreachable, so nothing of that site is fetched (its pages record the time-out); one that redirects to another host
is not followed there (never requested) and counts as unreachable; one that redirects more than
five times is unavailable, so everything is allowed.

  crawl_robots_check.py MPIEXEC SPMD_CRAWL SCRATCH
"""
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time

import h5py

REQUESTS = []


class Site(http.server.BaseHTTPRequestHandler):
    kind = "redirected"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "text/html" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler gave up waiting (the slow site): as intended

    def do_GET(self):
        REQUESTS.append((self.kind, self.headers.get("Host"), self.path))
        if self.path.startswith("/robots.txt") or self.path.startswith("/hop"):
            if self.kind == "redirected":
                if self.path == "/robots.txt":
                    return self.send(301, headers=[("Location", "/real-robots.txt")])
            elif self.kind == "slow":
                time.sleep(3)
                return self.send(200, b"User-agent: *\nAllow: /\n")
            elif self.kind == "elsewhere":
                port = self.server.server_address[1]
                return self.send(302, headers=[("Location", f"http://localhost:{port}/robots.txt")])
            elif self.kind == "loop":
                hop = int(self.path[4:] or 0) if self.path.startswith("/hop") else 0
                return self.send(302, headers=[("Location", f"/hop{hop + 1}")])
        if self.path == "/real-robots.txt":
            return self.send(200, b"User-agent: *\nDisallow: /private/\n")
        if self.path == "/index.html":
            return self.send(200, b"<html><title>index</title><a href='/private/x.html'>p</a>"
                                  b"<a href='/public.html'>q</a></html>")
        if self.path in ("/public.html", "/private/x.html"):
            return self.send(200, b"<html><title>page</title></html>")
        return self.send(404, b"no")


def serve(kind):
    handler = type(f"Site_{kind}", (Site,), {"kind": kind})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    mpiexec, crawl, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    servers = {kind: serve(kind) for kind in ("redirected", "slow", "elsewhere", "loop")}
    base = {kind: f"http://127.0.0.1:{s.server_address[1]}" for kind, s in servers.items()}
    problems = []
    for ranks in (1, 3):
        REQUESTS.clear()
        out = os.path.join(scratch, f"robots-{ranks}.h5")
        done = subprocess.run(
            [mpiexec, "--oversubscribe", "-n", str(ranks), crawl, "--allow-host", "127.0.0.1",
             "--timeout", "1", "--retries", "0", "--no-journal", "-q", "-o", out]
            + [base[kind] + "/index.html" for kind in base],
            capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            problems.append(f"{ranks} ranks: exit {done.returncode}: {done.stderr[-400:]}")
            continue
        with h5py.File(out, "r") as f:
            status = {u.decode(): int(s) for u, s in zip(f["pages/url"][()], f["pages/status"][()])}
        expect = {
            base["redirected"] + "/index.html": 200, base["redirected"] + "/public.html": 200,
            base["redirected"] + "/private/x.html": -13,
            base["slow"] + "/index.html": -2,  # robots.txt timed out: page not fetched
            base["elsewhere"] + "/index.html": -13,
            base["loop"] + "/index.html": 200, base["loop"] + "/private/x.html": 200,
        }
        for url, want in expect.items():
            if status.get(url) != want:
                problems.append(f"{ranks} ranks: {url}: status {status.get(url)}, expected {want}")
        for kind, host, path in REQUESTS:
            if not host.startswith("127.0.0.1"):
                problems.append(f"{ranks} ranks: requested host {host} ({kind} {path})")
            if kind in ("slow", "elsewhere") and not path.startswith("/robots.txt"):
                problems.append(f"{ranks} ranks: fetched {path} of the {kind} site")
            if kind == "redirected" and path.startswith("/private/"):
                problems.append(f"{ranks} ranks: fetched a disallowed page {path}")
    for server in servers.values():
        server.shutdown()
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
