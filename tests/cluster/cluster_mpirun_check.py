#!/usr/bin/env python3
"""The apps across hosts: a simulated 2-host cluster (slurm/cluster/lab: network namespaces, MPI
over TCP), against the same runs on one host:

1. heat at 2 and 4 ranks spread over both hosts: final field bit-identical (h5diff), and the
   run's provenance reports 2 hosts;
2. pi, fib and wordcount across hosts: the same results as on one host;
3. a crawl of a site served on h1 (python's http.server) with workers on both hosts: the same
   pages and links as a crawl from h1 alone, and the server saw requests from both hosts;
4. proof that the traffic crossed hosts: restricted to shared memory (btl vader,self) the run
   fails to connect; with TCP only (btl tcp,self) it works;
5. the lab comes down and leaves no namespace, interface or process behind.

Exits 77 (skipped, saying why) without root or without iproute2/nsenter.

  cluster_check.py SOURCE_DIR BIN_DIR MPIEXEC SCRATCH_DIR
"""
import json
import os
import subprocess
import sys
import time

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lab_tools import Lab, skip_unless_lab_possible  # noqa: E402


def crawl_table(path):
    with h5py.File(path) as f:
        p = f["pages"]
        urls = [u.decode() for u in p["url"][()]]
        pages = {u: (int(s), int(d), t.decode(), int(b)) for u, s, d, t, b in
                 zip(urls, p["status"][()], p["depth"][()], p["title"][()], p["bytes"][()])}
        links = sorted((urls[a], urls[b]) for a, b in zip(f["links/src"][()], f["links/dst"][()]))
    return pages, links


def main():
    source, bin_dir, mpiexec, scratch = sys.argv[1:5]
    skip_unless_lab_possible()
    lab = Lab.fresh(source, scratch)
    app = lambda name: os.path.join(bin_dir, f"spmd-{name}")

    def local(ranks, *args):
        return subprocess.run([mpiexec, "--oversubscribe", "-n", str(ranks), *args],
                              capture_output=True, text=True, timeout=180)

    across = lab.mpirun

    def ok(result, what):
        if result.returncode != 0:
            sys.exit(f"FAIL {what}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
        return result

    with lab.session(hosts=2):
        # 1. heat over two hosts.
        heat = ["--nx", "40", "--ny", "30", "--steps", "60", "--every", "20", "--quiet"]
        reference = os.path.join(scratch, "heat-1.h5")
        ok(local(1, app("heat"), *heat, "--output", reference), "heat on one host")
        for ranks in (2, 4):
            out = os.path.join(scratch, f"heat-across-{ranks}.h5")
            ok(across(ranks, app("heat"), *heat, "--output", out), f"heat at {ranks} ranks across hosts")
            diff = subprocess.run(["h5diff", reference, out, "/fields/T", "/fields/T"],
                                  capture_output=True, text=True)
            if diff.returncode != 0:
                sys.exit(f"FAIL heat at {ranks} ranks across hosts differs:\n{diff.stdout}")
            with h5py.File(out) as f:
                hosts = int(f.attrs["host_count"])
            if hosts != 2:
                sys.exit(f"FAIL heat at {ranks} ranks: provenance says {hosts} host(s)")
            print(f"heat at {ranks} ranks over 2 hosts: bit-identical to one host; provenance: 2 hosts")

        # 2. pi, fib, wordcount across hosts.
        pi_local = json.loads(ok(local(2, app("pi"), "--samples", "300001", "--json", "--output",
                                       os.path.join(scratch, "pi-1.h5")), "pi").stdout.splitlines()[-1])
        pi_across = json.loads(ok(across(2, app("pi"), "--samples", "300001", "--json", "--output",
                                         os.path.join(scratch, "pi-2.h5")), "pi across").stdout.splitlines()[-1])
        if pi_local["estimate_hex"] != pi_across["estimate_hex"] or pi_across["ranks"] != 2:
            sys.exit(f"FAIL pi across hosts: {pi_local} vs {pi_across}")
        fib_args = ["--random", "200", "--max-n", "20000", "--seed", "2", "--no-journal"]
        ok(local(1, app("fib"), *fib_args, "--output", os.path.join(scratch, "fib-1.h5")), "fib")
        ok(across(3, app("fib"), *fib_args, "--output", os.path.join(scratch, "fib-3.h5")), "fib across")
        with h5py.File(os.path.join(scratch, "fib-1.h5")) as a, h5py.File(os.path.join(scratch, "fib-3.h5")) as b:
            for column in ("n", "digits", "mod1e18", "leading"):
                if not np.array_equal(a["tasks"][column][()], b["tasks"][column][()]):
                    sys.exit(f"FAIL fib across hosts: column {column} differs")
            workers = set(int(w) for w in b["tasks/worker"][()])
        corpus = [os.path.join(source, "README.md"), os.path.join(source, "docs")]
        ok(local(1, app("wordcount"), *corpus, "--output", os.path.join(scratch, "w-1.h5")), "wordcount")
        ok(across(4, app("wordcount"), *corpus, "--output", os.path.join(scratch, "w-4.h5")), "wordcount across")
        with h5py.File(os.path.join(scratch, "w-1.h5")) as a, h5py.File(os.path.join(scratch, "w-4.h5")) as b:
            if not (np.array_equal(a["words/word"][()], b["words/word"][()]) and
                    np.array_equal(a["words/count"][()], b["words/count"][()])):
                sys.exit("FAIL wordcount across hosts differs")
        print(f"pi, fib (workers {sorted(workers)} on both hosts) and wordcount across hosts: "
              "the same results as on one host")

        # 2b. spmd-farm: commands run on both hosts (each says where it ran), and --host-tag
        # sends the tasks tagged big to the ranks on h2 only.
        tasks = os.path.join(scratch, "farm-tasks.jsonl")
        with open(tasks, "w") as f:
            for i in range(24):
                task = {"cmd": "sleep 0.05; hostname", "key": f"t{i}"}
                if i % 4 == 0:
                    task["tags"] = ["big"]
                f.write(json.dumps(task) + "\n")
        farm_out = os.path.join(scratch, "farm-across.h5")
        ok(across(4, app("farm"), tasks, "--host-tag", "big=h2", "--slots", "2", "--no-journal",
                  "--output", farm_out), "farm across hosts")
        with h5py.File(farm_out) as f:
            hosts = [h.decode() for h in f["tasks/host"][()]]
            offsets, lengths = f["tasks/stdout_offset"][()], f["tasks/stdout_length"][()]
            tails = f["tails/stdout/bytes"][()].tobytes()
            ok_column = f["tasks/ok"][()]
        said = [tails[o:o + n].decode().strip() for o, n in zip(offsets, lengths)]
        if set(hosts) != {"h1", "h2"} or said != hosts or not ok_column.all():
            sys.exit(f"FAIL farm across hosts: hosts {hosts}, commands said {said}")
        if {hosts[i] for i in range(0, 24, 4)} != {"h2"}:
            sys.exit(f"FAIL farm across hosts: tasks tagged big ran on {hosts[::4]}")
        print("farm across hosts: commands ran on both hosts (each said where), tagged ones on h2")

        # 3. A crawl with workers on both hosts of a site served on h1.
        site = os.path.join(scratch, "site")
        subprocess.run([sys.executable, os.path.join(source, "scripts", "demo_site.py"), site],
                       check=True, capture_output=True)
        server_log = os.path.join(scratch, "server.log")
        with open(server_log, "w") as log:
            server = subprocess.Popen([lab.script, "run", "h1", sys.executable, "-u", "-m",
                                       "http.server", "--bind", "10.250.0.2", "--directory", site,
                                       "8080"], env=lab.env, stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                if "Serving HTTP" in open(server_log).read():
                    break
                time.sleep(0.1)
            crawl = [app("crawl"), "http://h1:8080/index.html", "--max-depth", "3", "--no-journal"]
            one = os.path.join(scratch, "crawl-h1.h5")
            ok(lab.run("h1", mpiexec, "--oversubscribe", "-n", "2", *crawl, "--output", one),
               "crawl from h1 alone")
            served_before = open(server_log).read().count("GET ")
            three = os.path.join(scratch, "crawl-across.h5")
            ok(across(3, *crawl, "--output", three), "crawl across hosts")
            requests = open(server_log).read().splitlines()
        finally:
            server.terminate()
            server.wait(timeout=10)
        if crawl_table(one) != crawl_table(three):
            sys.exit("FAIL crawl across hosts: pages or links differ from the crawl from h1 alone")
        clients = {line.split()[0] for line in requests[served_before:] if "GET " in line}
        if clients != {"10.250.0.2", "10.250.0.3"}:
            sys.exit(f"FAIL crawl across hosts: requests came from {clients}, not both hosts")
        pages = len(crawl_table(three)[0])
        print(f"crawl of a site on h1: {pages} pages and their links equal to a crawl from h1 "
              f"alone; requests came from both hosts ({', '.join(sorted(clients))})")

        # 4. The traffic crosses hosts: shared memory alone cannot connect them; TCP does.
        # (Open MPI may wait rather than fail at once: mpirun --timeout ends it.)
        shm = across(2, app("pi"), "--samples", "1000", "--quiet", "--output",
                     os.path.join(scratch, "pi-shm.h5"),
                     mca=("--timeout", "20", "--mca", "btl", "vader,self"))
        if shm.returncode == 0 or os.path.exists(os.path.join(scratch, "pi-shm.h5")):
            sys.exit("FAIL: the run across hosts worked with shared memory only")
        ok(across(2, app("pi"), "--samples", "1000", "--quiet", "--output",
                  os.path.join(scratch, "pi-tcp.h5"), mca=("--mca", "btl", "tcp,self")), "TCP only")
        reason = "unable to reach each other" if "unable to reach" in shm.stdout + shm.stderr else \
            f"exit {shm.returncode}"
        print(f"across hosts: shared memory only fails ({reason}), TCP only works")


if __name__ == "__main__":
    main()
