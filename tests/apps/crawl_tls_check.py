#!/usr/bin/env python3
"""spmd-crawl over HTTPS, against a site served on 127.0.0.1 with a certificate from a private CA
made here (openssl):

1. with --ca-file naming that CA, every page is fetched (status 200, titles and links as served),
   the same at 1 and 3 ranks, and an http:// link to the same host is a different origin, so it
   stays out of scope;
2. without it, the certificate is refused: every page is a fetch error (-1) whose message names
   the certificate, and the run still ends normally (the errors are results);
3. a --ca-file that does not exist is bad input: exit 2, one line, before any fetch.

Exits 77 (skipped, saying why) without the openssl command.

  crawl_tls_check.py MPIEXEC SPMD_CRAWL SCRATCH_DIR
"""
import http.server
import os
import shutil
import ssl
import subprocess
import sys
import threading

import h5py

SKIP = 77
PAGES = {
    "/index.html": ("Secure home", ["a.html", "b/c.html"]),
    "/a.html": ("Secure A", ["index.html", "b/c.html"]),
    "/b/c.html": ("Secure C", ["../a.html", "http://127.0.0.1:1/plain.html"]),
}


class Site(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        page = PAGES.get(self.path)
        if page is None:
            self.send_response(404)
            self.end_headers()
            return
        title, links = page
        body = f"<html><head><title>{title}</title></head><body>" + "".join(
            f'<a href="{href}">{href}</a>' for href in links) + "</body></html>"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_certificates(scratch):
    """A private CA and a server certificate for 127.0.0.1 signed by it."""
    ca_key, ca_cert = os.path.join(scratch, "ca.key"), os.path.join(scratch, "ca.pem")
    key, csr, cert = (os.path.join(scratch, n) for n in ("server.key", "server.csr", "server.pem"))
    ext = os.path.join(scratch, "server.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run = lambda *a: subprocess.run(["openssl", *a], check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca_cert,
        "-days", "2", "-subj", "/CN=spmdkit test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-out",
        cert, "-days", "2", "-extfile", ext)
    return ca_cert, cert, key


def read(path):
    with h5py.File(path) as f:
        p = f["pages"]
        urls = [u.decode() for u in p["url"][()]]
        pages = {u: (int(s), t.decode(), e.decode()) for u, s, t, e in
                 zip(urls, p["status"][()], p["title"][()], p["error"][()])}
        links = sorted((urls[a], urls[b]) for a, b in zip(f["links/src"][()], f["links/dst"][()]))
    return pages, links


def main():
    mpiexec, crawl, scratch = sys.argv[1:4]
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is missing (needed to make a test CA)")
        sys.exit(SKIP)
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    ca_cert, cert, key = make_certificates(scratch)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"https://127.0.0.1:{port}"

    def crawl_run(ranks, out, *extra):
        return subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), crawl,
                               f"{base}/index.html", "--timeout", "5", "--retries", "0",
                               "--no-journal", "--output", out, *extra],
                              capture_output=True, text=True, timeout=120)

    try:
        # 1. Trusting the private CA.
        tables = []
        for ranks in (1, 3):
            out = os.path.join(scratch, f"trusted-{ranks}.h5")
            run = crawl_run(ranks, out, "--ca-file", ca_cert)
            if run.returncode != 0:
                sys.exit(f"FAIL trusted crawl at {ranks} ranks: {run.returncode}\n{run.stderr}")
            tables.append(read(out))
        pages, links = tables[0]
        fetched = {u: t for u, (s, t, _) in pages.items() if s == 200}
        expected = {base + path: title for path, (title, _) in PAGES.items()}
        if fetched != expected:
            sys.exit(f"FAIL trusted crawl: fetched {fetched}, expected {expected}")
        plain = "http://127.0.0.1:1/plain.html"
        if pages.get(plain, (None,))[0] != -10:
            sys.exit(f"FAIL: the http:// link should be out of scope: {pages.get(plain)}")
        if tables[0] != tables[1]:
            sys.exit("FAIL trusted crawl: 1 and 3 ranks differ")
        print(f"https with --ca-file: {len(fetched)} pages fetched, {len(links)} links, the same "
              "at 1 and 3 ranks; the http:// link is another origin (out of scope)")

        # 2. Not trusting it.
        out = os.path.join(scratch, "untrusted.h5")
        run = crawl_run(2, out)
        if run.returncode != 0:
            sys.exit(f"FAIL untrusted crawl should end normally: {run.returncode}\n{run.stderr}")
        pages, _ = read(out)
        seed = pages[f"{base}/index.html"]
        if seed[0] != -1 or "certificate" not in seed[2].lower() or len(pages) != 1:
            sys.exit(f"FAIL untrusted crawl: {pages}")
        print(f"https without the CA: the certificate is refused ({seed[2]!r}), recorded, exit 0")

        # 3. A CA file that is not there.
        run = crawl_run(2, os.path.join(scratch, "missing.h5"), "--ca-file",
                        os.path.join(scratch, "no-such-ca.pem"))
        errors = [l for l in run.stderr.splitlines() if "error" in l]
        if run.returncode != 2 or len(errors) != 1 or "ca-file" not in errors[0]:
            sys.exit(f"FAIL missing --ca-file: exit {run.returncode}\n{run.stderr}")
        print(f"a missing --ca-file: exit 2, {errors[0]}")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
