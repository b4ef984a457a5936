"""A cluster of worker processes on this machine (127.0.0.1), to try, test and measure multi-worker training
without a second machine: free ports, one `TF_CONFIG` per worker, optional CPU pinning, every process reaped."""

import json
import os
import signal
import socket
import subprocess
import sys
import time


def free_ports(count):
    """Ports the system has just handed out as free (held together, so that they differ from one another)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for held in sockets:
            held.bind(("127.0.0.1", 0))
        return [held.getsockname()[1] for held in sockets]
    finally:
        for held in sockets:
            held.close()


def pinned_to(cpu):
    """A `preexec_fn` that keeps a child process, and so TensorFlow's thread pools, on one CPU core."""
    return lambda: os.sched_setaffinity(0, {cpu})


class LocalCluster:
    """`workers` processes that each run the same command with their own `TF_CONFIG` task (worker 0 is the chief).

    Use it as a context manager: on leaving, any process still running is killed with its process group and
    waited for, whatever happened. `cpus` pins worker `i` to core `cpus[i]`; `cwd` is where the workers start.
    """

    def __init__(self, workers, log_dir, env=None, cpus=None, cwd=None):
        self.addresses = [f"127.0.0.1:{port}" for port in free_ports(workers)]
        self.log_dir = log_dir
        self.env = {**os.environ, **(env or {})}
        self.cpus = cpus
        self.cwd = cwd
        self.processes = [None] * workers
        self.starts = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        for process in self.processes:
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def start(self, *args):
        """Starts every worker on `python *args` (again, after a failure: as a cluster manager restarts a job)."""
        self.starts += 1
        for index in range(len(self.processes)):
            tf_config = {"cluster": {"worker": self.addresses}, "task": {"type": "worker", "index": index}}
            with open(self.log_path(index), "w") as log:
                self.processes[index] = subprocess.Popen(
                    [sys.executable, *map(str, args)], cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                    env={**self.env, "TF_CONFIG": json.dumps(tf_config)}, start_new_session=True,
                    preexec_fn=pinned_to(self.cpus[index]) if self.cpus else None,
                )

    def log_path(self, index):
        return self.log_dir / f"worker-{index}.start-{self.starts}.log"

    def log(self, index):
        return self.log_path(index).read_text()

    def kill(self, index):
        os.killpg(self.processes[index].pid, signal.SIGKILL)
        self.processes[index].wait()

    def wait(self, *indices, timeout):
        """The exit statuses of the workers `indices` (all by default), once they have all exited."""
        deadline = time.monotonic() + timeout
        return [self.processes[index].wait(timeout=max(deadline - time.monotonic(), 0.1))
                for index in indices or range(len(self.processes))]
