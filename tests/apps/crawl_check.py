#!/usr/bin/env python3
"""spmd-crawl against a generated site served on 127.0.0.1, at 1-4 ranks and 1 or 16 pages in
flight per rank (--slots; --per-host bounds the requests the server sees at once).

The site has cycles, relative and absolute links, fragments, redirects (one to a new page, two
that loop), a 404, a connection that is refused, an off-host link (localhost is a different host
from 127.0.0.1: it must never be requested), a robots.txt exclusion, a non-HTML file, malformed
HTML, a body over --max-bytes, a page slower than --timeout, a page failing once with 503 (then
retried), a UTF-8 title and a chain deeper than --max-depth. The expected page set, statuses,
depths and link graph come from an independent breadth-first walk over the site description
below (Python's urllib for URL resolution). Every rank count and --slots must give identical
tables.

  crawl_check.py MPIEXEC SPMD_CRAWL SCRATCH_DIR [--file]    (--file: crawl the files via file://)
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

import h5py

MAX_DEPTH = 3
MAX_BYTES = 20000
BIG_FILLER = "<p>" + "filler " * 6000 + "</p>"  # ~42 kB: cut at MAX_BYTES

# path -> (title, hrefs, body extra). Served as text/html; also written to disk for file://.
PAGES = {
    "/index.html": ("Home", ["a.html", "b.html#section", "/c/", "./a.html", "OFFHOST/secret.html",
                             "mailto:someone@example.org", "/old", "/loop-a", "/missing.html",
                             "/data.txt", "/big.html", "/broken.html", "/private/x.html",
                             "/slow.html", "/flaky.html", "REFUSED/", "javascript:void(0)"], ""),
    "/a.html": ("Page A", ["index.html", "deep1.html", "#top"], ""),
    "/b.html": ("Page B", ["../a.html", "SELF/b.html", "c/page.html?x=1&y=2"], ""),
    "/c/index.html": ("Section C", ["../index.html", "page.html"], ""),
    "/c/page.html": ("Ünïcödé ✓ page", ["/a.html"], ""),
    "/deep1.html": ("Deep 1", ["deep2.html"], ""),
    "/deep2.html": ("Deep 2", ["deep3.html"], ""),
    "/deep3.html": ("Deep 3", ["deep4.html"], ""),
    "/deep4.html": ("Deep 4", ["deep5.html"], ""),
    "/new.html": ("New", [], ""),
    "/secret.html": ("Secret", [], ""),
    "/private/x.html": ("Private", [], ""),
    "/flaky.html": ("Flaky", [], ""),
    "/slow.html": ("Slow", [], ""),
    "/big.html": ("Big", ["early.html"], BIG_FILLER + '<a href="late.html">late</a>'),
    "/early.html": ("Early", [], ""),
    "/late.html": ("Late", [], ""),
}
BROKEN = ('<html><head><title>Broken <b>markup</title></head><body><a href="a.html">unclosed'
          '<a href=\'c/page.html\'><div></p></span><table><tr><td><a href="new.html">x</td>'
          '</body>')
REDIRECTS = {"/old": (301, "/new.html"), "/loop-a": (302, "/loop-b"), "/loop-b": (302, "/loop-a")}
DATA = "plain text, not HTML <a href='a.html'>not a link</a>\n"
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def html_of(path):
    title, hrefs, extra = PAGES[path]
    links = "".join(f'<a href="{h}">{h}</a>\n' for h in hrefs)
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body>{links}{extra}</body></html>"


def expand(href, port):
    return (href.replace("OFFHOST", f"http://localhost:{port}")
                .replace("SELF", f"HTTP://127.0.0.1:{port}")
                .replace("REFUSED", "http://127.0.0.1:1"))


class Site(http.server.BaseHTTPRequestHandler):
    requests = []
    flaky_served = 0
    lock = threading.Lock()
    in_flight = 0
    most_in_flight = 0  # requests being answered at once, at most (--per-host bounds it)

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", content_type="text/html; charset=utf-8", headers=()):
        self.leave()  # before the answer: once the client has it, it may send the next request
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler cut the body (--max-bytes) or gave up (--timeout)

    def do_GET(self):
        # In flight from its arrival to the start of its answer. /slow.html outlives the
        # crawler's --timeout (it moves on): not counted.
        self.counted = not self.path.startswith("/slow.html")
        with Site.lock:
            Site.in_flight += self.counted
            Site.most_in_flight = max(Site.most_in_flight, Site.in_flight)
        try:
            time.sleep(0.02)  # a server some way off: requests overlap when the crawler lets them
            self.answer()
        finally:
            self.leave()

    def leave(self):
        with Site.lock:
            Site.in_flight -= self.counted
            self.counted = False

    def answer(self):
        Site.requests.append((self.headers.get("Host", ""), self.path))
        path = urlsplit(self.path).path
        port = self.server.server_address[1]
        if path == "/robots.txt":
            return self.send(200, ROBOTS.encode(), "text/plain")
        if path in REDIRECTS:
            code, target = REDIRECTS[path]
            return self.send(code, headers=[("Location", target)])
        if path == "/c/":
            path = "/c/index.html"
        if path == "/slow.html":
            time.sleep(2.5)
        if path == "/flaky.html":
            Site.flaky_served += 1
            if Site.flaky_served == 1:
                return self.send(503, b"try again")
        if path == "/data.txt":
            return self.send(200, DATA.encode(), "text/plain")
        if path == "/broken.html":
            return self.send(200, BROKEN.encode())
        if path in PAGES:
            return self.send(200, expand(html_of(path), port).encode())
        return self.send(404, b"<html><title>Not found</title></html>")


def normalize(href, base):
    url = urldefrag(urljoin(base, href))[0]
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def reference(port):
    """Breadth-first walk of the site description: {url: (status, depth, title, links)}."""
    base = f"http://127.0.0.1:{port}"
    seed = base + "/index.html"
    found = {seed: 0}
    rows = {}
    level = [seed]
    while level:
        following = []
        for url in sorted(level):
            depth = found[url]
            parts = urlsplit(url)
            path = parts.path
            links, title, ctype = [], "", ""
            if parts.scheme not in ("http", "https") or parts.hostname != "127.0.0.1":
                status = -10
            elif depth > MAX_DEPTH:
                status = -11
            elif parts.port == 1:
                status = -1  # its robots.txt is unreachable: the page is not fetched either
            elif path.startswith("/private/"):
                status = -13
            elif path in REDIRECTS:
                status = REDIRECTS[path][0]
                links = [normalize(REDIRECTS[path][1], url)]
            elif path == "/slow.html":
                status = -2
            elif path == "/data.txt":
                status, ctype = 200, "text/plain"
            elif path == "/broken.html":
                status, ctype, title = 200, "text/html", "Broken <b>markup"
                hrefs = ["a.html", "c/page.html", "new.html"]
                links = [normalize(h, url) for h in hrefs]
            elif path in PAGES or path == "/c/":
                key = "/c/index.html" if path == "/c/" else path
                status, ctype, title = 200, "text/html", PAGES[key][0]
                hrefs = [expand(h, port) for h in PAGES[key][1]]
                if key == "/big.html":
                    hrefs = ["early.html"]  # late.html lies beyond --max-bytes
                for h in hrefs:
                    if h.startswith(("mailto:", "javascript:")):
                        continue
                    links.append(normalize(h, url))
            else:
                status, ctype = 404, "text/html"
            unique = []
            for link in links:
                if link not in unique:
                    unique.append(link)
            rows[url] = (status, depth, title, unique)
            for link in unique:
                if link not in found:
                    found[link] = depth + 1
                    following.append(link)
        level = following
    return rows


def read(path):
    with h5py.File(path, "r") as f:
        p = f["pages"]
        cols = {k: p[k][()] for k in ("url", "status", "depth", "title", "truncated", "attempts",
                                      "content_type", "bytes")}
        urls = [u.decode() for u in cols["url"]]
        pages = {}
        for i, u in enumerate(urls):
            pages[u] = dict(status=int(cols["status"][i]), depth=int(cols["depth"][i]),
                            title=cols["title"][i].decode(), truncated=int(cols["truncated"][i]),
                            attempts=int(cols["attempts"][i]),
                            content_type=cols["content_type"][i].decode(),
                            bytes=int(cols["bytes"][i]))
        links = sorted((urls[s], urls[d]) for s, d in zip(f["links/src"][()], f["links/dst"][()]))
        if urls != sorted(urls):
            sys.exit(f"FAIL {path}: /pages is not sorted by URL")
    return pages, links


def deterministic(pages):
    return {u: {k: v for k, v in p.items() if k != "attempts"} for u, p in pages.items()}


def serve():
    Site.requests, Site.flaky_served = [], 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def crawl_budget(mpiexec, crawl, scratch, budget=6):
    """--max-pages: exactly the first pages in breadth-first, URL order, at any rank count."""
    tables = []
    for ranks in (1, 3):
        server, port = serve()
        out = os.path.join(scratch, f"budget-{ranks}.h5")
        run = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), crawl,
                              f"http://127.0.0.1:{port}/index.html", "--max-pages", str(budget),
                              "--timeout", "1", "--retries", "0", "--output", out],
                             capture_output=True, text=True, timeout=120)
        server.shutdown()
        if run.returncode != 0:
            sys.exit(f"FAIL --max-pages at {ranks} ranks: {run.stderr}")
        pages, links = read(out)
        admitted = [u for u, p in pages.items() if p["status"] not in (-10, -11, -12)]
        if len(admitted) != budget:
            sys.exit(f"FAIL --max-pages at {ranks} ranks: {len(admitted)} admitted: {admitted}")
        fetched = {path for _, path in Site.requests if path != "/robots.txt"}
        if len(fetched) > budget:
            sys.exit(f"FAIL --max-pages at {ranks} ranks: {len(fetched)} pages requested")
        tables.append(json.loads(json.dumps((deterministic(pages), links)).replace(str(port), "PORT")))
    if tables[0] != tables[1]:
        sys.exit("FAIL --max-pages: tables differ between rank counts")
    print(f"--max-pages {budget}: the same {budget} pages fetched at 1 and 3 ranks")


def crawl_http(mpiexec, crawl, scratch):
    outputs = []
    # (ranks, --slots: pages in flight per rank, --per-host over all ranks)
    for ranks, slots, per_host in ((1, 1, 8), (1, 16, 6), (2, 16, 8), (3, 1, 8), (4, 16, 4)):
        Site.requests, Site.flaky_served, Site.most_in_flight = [], 0, 0
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
        port = server.server_address[1]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        out = os.path.join(scratch, f"crawl-{ranks}.h5")
        cmd = [mpiexec, "--oversubscribe", "-n", str(ranks), crawl,
               f"http://127.0.0.1:{port}/index.html", "--allow-host", "127.0.0.1",
               "--max-depth", str(MAX_DEPTH), "--max-bytes", str(MAX_BYTES), "--timeout", "1",
               "--retries", "1", "--slots", str(slots), "--per-host", str(per_host), "--json",
               "--output", out]
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        server.shutdown()
        if run.returncode != 0:
            sys.exit(f"FAIL at {ranks} ranks: exit {run.returncode}\n{run.stdout}\n{run.stderr}")
        most = Site.most_in_flight
        allowed = min(ranks * slots, max(per_host // ranks, 1) * ranks)
        if most > allowed or (allowed > ranks and most < 3):
            sys.exit(f"FAIL at {ranks} ranks, --slots {slots}, --per-host {per_host}: {most} "
                     f"requests at once (at most {allowed}, and more than 2 when allowed)")
        summary = json.loads(run.stdout.strip().splitlines()[-1])
        hosts = {host.split(":")[0] for host, _ in Site.requests}
        if hosts != {"127.0.0.1"}:
            sys.exit(f"FAIL at {ranks} ranks: requests to other hosts: {sorted(hosts)}")
        if any(path.startswith("/private/") for _, path in Site.requests):
            sys.exit(f"FAIL at {ranks} ranks: robots.txt was not honoured")
        pages, links = read(out)
        expected = reference(port)
        if set(pages) != set(expected):
            sys.exit(f"FAIL at {ranks} ranks: page set differs\n missing "
                     f"{sorted(set(expected) - set(pages))}\n extra {sorted(set(pages) - set(expected))}")
        for url, (status, depth, title, _) in expected.items():
            got = pages[url]
            if (got["status"], got["depth"], got["title"]) != (status, depth, title):
                sys.exit(f"FAIL at {ranks} ranks: {url}: got {got}, expected status {status} "
                         f"depth {depth} title {title!r}")
        expected_links = sorted((u, v) for u, (_, _, _, ls) in expected.items() for v in ls)
        if links != expected_links:
            sys.exit(f"FAIL at {ranks} ranks: links differ\n got {links}\n expected {expected_links}")
        big = pages[f"http://127.0.0.1:{port}/big.html"]
        if big["truncated"] != 1 or big["bytes"] != MAX_BYTES:
            sys.exit(f"FAIL at {ranks} ranks: big.html not cut at --max-bytes: {big}")
        if pages[f"http://127.0.0.1:{port}/flaky.html"]["attempts"] != 2:
            sys.exit(f"FAIL at {ranks} ranks: the 503 was not retried once")
        if pages[f"http://127.0.0.1:{port}/data.txt"]["content_type"] != "text/plain":
            sys.exit(f"FAIL at {ranks} ranks: content type of data.txt")
        # The port differs per run: compare runs with it taken out.
        outputs.append(json.loads(json.dumps(deterministic(pages)).replace(str(port), "PORT")))
        print(f"{ranks} rank(s), --slots {slots}: {len(pages)} pages, {len(links)} links as "
              f"expected ({summary['fetched']} fetched, up to {most} requests at once)")
    if any(o != outputs[0] for o in outputs[1:]):
        sys.exit("FAIL: tables differ between rank counts or --slots")


def crawl_files(mpiexec, crawl, scratch):
    site = os.path.join(scratch, "site")
    for path in PAGES:
        if path in ("/slow.html", "/flaky.html"):
            continue
        target = os.path.join(site, path.lstrip("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write(expand(html_of(path), 8000))
    with open(os.path.join(site, "broken.html"), "w") as f:
        f.write(BROKEN)
    outside = os.path.join(scratch, "outside.html")
    with open(outside, "w") as f:
        f.write("<title>Outside</title>")
    with open(os.path.join(site, "a.html"), "a") as f:
        f.write(f'<a href="file://{outside}">outside the seed directory</a>'
                '<a href="missing-file.html">missing</a>')
    results = []
    for ranks in (1, 3):
        out = os.path.join(scratch, f"files-{ranks}.h5")
        run = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), crawl,
                              os.path.join(site, "index.html"), "--max-depth", "2", "--json",
                              "--output", out], capture_output=True, text=True, timeout=120)
        if run.returncode != 0:
            sys.exit(f"FAIL file crawl at {ranks} ranks: {run.stderr}")
        pages, links = read(out)
        root = "file://" + os.path.realpath(site)
        a = pages.get(root + "/a.html")
        if not a or a["status"] != 200 or a["title"] != "Page A" or a["content_type"] != "text/html":
            sys.exit(f"FAIL file crawl: a.html {a}")
        if pages.get(root + "/missing-file.html", {}).get("status") != -1:
            sys.exit("FAIL file crawl: a missing file is not a fetch error")
        if pages.get("file://" + outside, {}).get("status") != -10:
            sys.exit("FAIL file crawl: a file outside the seed directory was not refused")
        if pages.get(root + "/c/page.html?x=1&y=2", {}).get("title") != "Ünïcödé ✓ page":
            sys.exit("FAIL file crawl: UTF-8 title")
        results.append((deterministic(pages), links))
        print(f"file:// at {ranks} rank(s): {len(pages)} pages, {len(links)} links")
    if results[0] != results[1]:
        sys.exit("FAIL file crawl: results differ between rank counts")


def main():
    mpiexec, crawl, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    if "--file" in sys.argv:
        crawl_files(mpiexec, crawl, scratch)
    else:
        crawl_http(mpiexec, crawl, scratch)
        crawl_budget(mpiexec, crawl, scratch)


if __name__ == "__main__":
    main()
