"""The simulated cluster (slurm/cluster/lab) as the cluster tests drive it: a private lab
directory and namespace prefix per test run, so tests never meet each other or a user's lab."""
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "apps"))
from process_tools import kill_everything_mentioning, processes_mentioning  # noqa: E402

SKIP = 77


def skip_unless_lab_possible(slurm=False):
    """Exit 77 with the reason when this machine cannot host the lab (never a silent pass)."""
    if os.geteuid() != 0:
        print("SKIP: the simulated cluster needs root (network namespaces)")
        sys.exit(SKIP)
    tools = ["ip", "nsenter", "unshare"]
    if slurm:
        tools += ["munged", "slurmctld", "slurmd", "sbatch"]
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        hint = ": bash scripts/setup slurm" if slurm else ""
        print(f"SKIP: {', '.join(missing)} missing{hint}")
        sys.exit(SKIP)


class Lab:
    def __init__(self, source, scratch):
        self.script = os.path.join(source, "slurm", "cluster", "lab")
        self.scratch = scratch
        self.env = dict(os.environ, SPMD_LAB_DIR=os.path.join(scratch, "lab"),
                        SPMD_LAB_PREFIX=f"spmdt{os.getpid() % 100000}")
        self.prefix = self.env["SPMD_LAB_PREFIX"]
        self.wait_script = os.path.join(source, "slurm", "local", "cluster")

    @classmethod
    def fresh(cls, source, scratch):
        """A lab in an empty `scratch`. A run that was killed outright (a CTest timeout) left its
        lab up: it is taken down first, by the prefix it recorded."""
        recorded = os.path.join(scratch, "lab", "prefix")
        if os.path.exists(recorded):
            with open(recorded) as f:
                stale = f.read().strip()
            env = dict(os.environ, SPMD_LAB_DIR=os.path.join(scratch, "lab"), SPMD_LAB_PREFIX=stale)
            subprocess.run([os.path.join(source, "slurm", "cluster", "lab"), "down"], env=env,
                           capture_output=True, timeout=120)
            kill_everything_mentioning(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        return cls(source, scratch)

    def sh(self, *args, check=True, timeout=300, env=None):
        result = subprocess.run([self.script, *args], env=env or self.env, capture_output=True,
                                text=True, timeout=timeout, cwd=self.scratch)
        if check and result.returncode != 0:
            sys.exit(f"FAIL lab {' '.join(args[:3])}: exit {result.returncode}\n"
                     f"{result.stdout}\n{result.stderr}")
        return result

    def up(self, hosts=2):
        return self.sh("up", str(hosts)).stdout.strip()

    @contextlib.contextmanager
    def session(self, hosts=2):
        """The lab up for the body, down after it whatever happened; then nothing may be left."""
        try:
            print(self.up(hosts))
            yield self
        finally:
            print(self.down())
        self.assert_nothing_left()
        print("lab down: no namespace, interface or process left")

    def mpirun(self, ranks, *args, mca=(), timeout=180):
        """mpirun across the hosts, ranks placed round-robin by host (rank 0 on h1, 1 on h2...)."""
        return self.sh("mpirun", "-np", str(ranks), "--map-by", "node", "--oversubscribe", *mca,
                       *args, check=False, timeout=timeout)

    def run(self, host, *args, timeout=180):
        return self.sh("run", host, *args, check=False, timeout=timeout)

    # Slurm, every client on the head with the lab's SLURM_CONF.
    def sbatch(self, script, job_env, *options):
        env = dict(self.env, **job_env)
        out = self.sh("client", "sbatch", "--parsable", *options, script, env=env).stdout
        return out.strip().split(";")[0]

    def wait(self, job, limit):
        return self.sh("client", self.wait_script, "wait", job, str(limit), check=False,
                       timeout=limit + 30).stdout.split()

    def job_field(self, job, field):
        info = self.sh("client", "scontrol", "-o", "show", "job", job).stdout
        match = re.search(rf"\b{field}=(\S+)", info)
        return match.group(1) if match else ""

    def job_log(self, name):
        with open(os.path.join(self.scratch, name)) as f:
            return f.read()

    def down(self):
        # Ranks of a failed run may outlive their mpirun: none may outlive the test.
        result = self.sh("down", check=False)
        kill_everything_mentioning(self.scratch)
        return (result.stdout + result.stderr).strip()

    def assert_nothing_left(self):
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        left = [n for n in names.split() if n.startswith(self.prefix + "-")]
        links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
        # The lab's veths carry temporary names "lab<pid>x<host>" in this namespace, briefly.
        left += re.findall(r"^\d+: (lab\d+x\w+)", links, re.M)
        time.sleep(0.2)
        left += [f"process {pid}" for pid in processes_mentioning(self.scratch)]
        if left:
            sys.exit(f"FAIL: left behind by the lab: {left}")
