#!/usr/bin/env python3
"""spmd-crawl against a hostile site on 127.0.0.1, at 1 and 3 ranks: every run ends in seconds
and its output stays bounded.

- a link flood: a page with 30,000 distinct links and one link of 20,000 bytes; only the first
  --max-links are followed (rows), the rest and the long one are counted in links_cut (before
  the bound every link was a row as wide as the longest URL: a 600 MB file);
- an endless body (chunked, never ends) and a huge one (50 MB announced): cut at --max-bytes;
- a server that drips one byte every 0.2 s (1000 bytes): a time-out (-2), not a hang;
- a 10 KB Content-Type and a 100 KB title: stored cut (256 and 200 bytes).

  crawl_hostile_check.py MPIEXEC SPMD_CRAWL SCRATCH
"""
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time

import h5py

FLOOD = 30000
MAX_LINKS = 1000
MAX_BYTES = 1 << 20  # the default; the flood page (0.9 MB) fits
# Per request. The six hostile pages are fetched at once (--slots), sharing this one-process
# Python server and the cores: 2 s was not enough for the endless and huge bodies to reach
# --max-bytes under AddressSanitizer and a loaded CI machine (both failed with a time-out).
# Any value far below the drip's 200 s still tests that the drip ends in a time-out.
TIMEOUT = 8


class Site(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def head(self, status, content_type="text/html", length=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def body(self, status, data, content_type="text/html"):
        self.head(status, content_type, len(data))
        self.wfile.write(data)

    def do_GET(self):
        try:
            self.answer()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler stopped reading: as intended

    def answer(self):
        if self.path == "/robots.txt":
            return self.body(404, b"none", "text/plain")
        if self.path == "/index.html":
            links = "".join(f"<a href='/{p}'>x</a>" for p in
                            ("flood.html", "endless.html", "huge.html", "drip.html", "header.html",
                             "title.html"))
            return self.body(200, f"<html><title>index</title>{links}</html>".encode())
        if self.path == "/flood.html":
            long_link = "<a href='/" + "l" * 20000 + "'>long</a>"
            links = "".join(f"<a href=/f/{i}>{i}</a>" for i in range(FLOOD))
            return self.body(200, f"<html><title>flood</title>{long_link}{links}</html>".encode())
        if self.path == "/endless.html":
            self.head(200)
            chunk = b"<p>" + b"endless " * 8000 + b"</p>"
            while True:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        if self.path == "/huge.html":
            self.head(200, length=50 << 20)
            block = b"<p>huge</p>" * 6000
            for _ in range((50 << 20) // len(block)):
                self.wfile.write(block)
            return None
        if self.path == "/drip.html":
            self.head(200, length=1000)
            for _ in range(1000):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
            return None
        if self.path == "/header.html":
            return self.body(200, b"<html></html>", "text/html; x=" + "y" * 10000)
        if self.path == "/title.html":
            return self.body(200, b"<html><title>" + "\u00e9".encode() * 50000 + b"</title></html>")
        return self.body(404, b"no", "text/plain")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # connections the crawler cut (endless, huge, drip bodies): as intended


def main():
    mpiexec, crawl, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    server = Server(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    problems = []
    for ranks in (1, 3):
        out = os.path.join(scratch, f"hostile-{ranks}.h5")
        started = time.monotonic()
        done = subprocess.run(
            [mpiexec, "--oversubscribe", "-n", str(ranks), crawl, base + "/index.html",
             "--max-depth", "1", "--max-links", str(MAX_LINKS), "--max-bytes", str(MAX_BYTES),
             "--timeout", str(TIMEOUT), "--retries", "0", "--no-journal", "-q", "--json", "-o", out],
            capture_output=True, text=True, timeout=120)
        seconds = time.monotonic() - started
        if done.returncode != 0:
            problems.append(f"{ranks} ranks: exit {done.returncode}: {done.stderr[-400:]}")
            continue
        if seconds > 60:
            problems.append(f"{ranks} ranks: took {seconds:.0f} s")
        size = os.path.getsize(out)
        if size > 4 << 20:
            problems.append(f"{ranks} ranks: the output is {size} bytes")
        with h5py.File(out, "r") as f:
            pages = f["pages"]
            rows = {u.decode(): i for i, u in enumerate(pages["url"][()])}
            status, cut = pages["status"][()], pages["links_cut"][()]
            truncated, nbytes = pages["truncated"][()], pages["bytes"][()]
            if len(rows) > MAX_LINKS + 10:
                problems.append(f"{ranks} ranks: {len(rows)} rows")
            flood = rows.get(base + "/flood.html")
            if flood is None or cut[flood] != FLOOD - MAX_LINKS + 1:
                problems.append(f"{ranks} ranks: flood links_cut "
                                f"{None if flood is None else cut[flood]}, expected {FLOOD - MAX_LINKS + 1}")
            if any(len(u) > 8000 for u in rows):
                problems.append(f"{ranks} ranks: a URL longer than 8000 bytes is a row")
            for name in ("endless", "huge"):
                i = rows.get(f"{base}/{name}.html")
                if i is None or status[i] != 200 or truncated[i] != 1 or nbytes[i] != MAX_BYTES:
                    problems.append(f"{ranks} ranks: {name}: status/truncated/bytes "
                                    f"{None if i is None else (status[i], truncated[i], nbytes[i])}")
            i = rows.get(base + "/drip.html")
            if i is None or status[i] != -2:
                problems.append(f"{ranks} ranks: drip: status {None if i is None else status[i]}, expected -2")
            i = rows.get(base + "/header.html")
            if i is None or len(pages["content_type"][i]) > 256:
                problems.append(f"{ranks} ranks: the 10 KB Content-Type is not cut")
            i = rows.get(base + "/title.html")
            if i is None or not 0 < len(pages["title"][i]) <= 200:
                problems.append(f"{ranks} ranks: the 100 KB title is not cut")
            else:
                pages["title"][i].decode("utf-8")  # cut between characters, never inside one
    server.shutdown()
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
