"""What bench/postdissector.sh's measurements share: running the real
tshark from a given HOME (as nobody when root: tshark ignores personal
plugins for root), timing one run (wall, and CPU from wait4), counting its
instructions with callgrind."""
import os
import re
import subprocess
import time

USER = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.getuid() == 0 else []


def tshark(home, capture, *args):
    """The command line of tshark -r CAPTURE ARGS with HOME=home."""
    return USER + ["env", f"HOME={home}", f"XDG_CONFIG_HOME={home}/.config",
                   "tshark", "-r", capture, *args]


def run(cmd):
    """(wall seconds, CPU seconds) of one run, which must succeed."""
    t = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, cmd
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime


def instructions(home, capture, *args):
    """Instructions tshark -r CAPTURE ARGS executes (callgrind): exact, and
    independent of other load on the machine."""
    cmd = USER + ["env", f"HOME={home}", "valgrind", "--tool=callgrind",
                  "--callgrind-out-file=/dev/null", "tshark", "-r", capture, *args]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True).stderr
    return int(re.search(r"Collected : (\d+)", err).group(1))
