#!/usr/bin/env python3
"""spmd-crawl of a file:// site never reads a file outside the seed's directory, however a link
spells its way out: "../", "%2e%2e/", "..%2f", "%2E%2E%2F", an absolute path, a symbolic link to
the parent or to "/", at 1 and 3 ranks. Files inside are all crawled.

  crawl_scope_check.py MPIEXEC SPMD_CRAWL SCRATCH
"""
import os
import shutil
import subprocess
import sys

import h5py

SECRET = "secret-outside-the-site"


def main():
    mpiexec, crawl, scratch = sys.argv[1:4]
    shutil.rmtree(scratch, ignore_errors=True)
    site = os.path.join(scratch, "site")
    os.makedirs(os.path.join(site, "sub"))
    with open(os.path.join(scratch, "secret.html"), "w") as f:
        f.write(f"<html><title>{SECRET}</title><a href='site/index.html'>in</a></html>")
    os.symlink("..", os.path.join(site, "up"))
    os.symlink(os.path.join(scratch, "secret.html"), os.path.join(site, "linked.html"))
    escapes = ["../secret.html", "%2e%2e/secret.html", "..%2fsecret.html", "%2E%2E%2Fsecret.html",
               "sub/../../secret.html", "sub/%2e%2e/%2e%2e/secret.html",
               os.path.join(scratch, "secret.html"), "up/secret.html", "linked.html",
               "sub/..%2f..%2fsecret.html"]
    links = "".join(f"<a href='{href}'>x</a>" for href in escapes)
    with open(os.path.join(site, "index.html"), "w") as f:
        f.write(f"<html><title>index</title>{links}<a href='sub/page.html'>in</a></html>")
    with open(os.path.join(site, "sub", "page.html"), "w") as f:
        f.write("<html><title>inside</title><a href='../index.html'>back</a></html>")
    problems = []
    for ranks in (1, 3):
        out = os.path.join(scratch, f"crawl-{ranks}.h5")
        done = subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), crawl,
                               os.path.join(site, "index.html"), "--no-journal", "-q", "-o", out],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            problems.append(f"{ranks} ranks: exit {done.returncode}: {done.stderr[-500:]}")
            continue
        with h5py.File(out, "r") as f:
            rows = list(zip([u.decode() for u in f["pages/url"][()]], f["pages/status"][()],
                            [t.decode() for t in f["pages/title"][()]]))
        fetched = {url: title for url, status, title in rows if status > 0}
        if any(title == SECRET for title in fetched.values()):
            problems.append(f"{ranks} ranks: a file outside the site was read: {fetched}")
        if not any(title == "inside" for title in fetched.values()):
            problems.append(f"{ranks} ranks: sub/page.html inside the site was not crawled: {rows}")
        outside = [url for url, status, _ in rows if status == -10]
        if len(outside) < 5:
            problems.append(f"{ranks} ranks: only {len(outside)} links marked outside: {rows}")
    for p in problems:
        print("FAIL:", p)
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
