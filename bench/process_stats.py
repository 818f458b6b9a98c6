"""What `make load` (bench/load.py) reads from /proc: Sextant's memory and the CPU time of the processes
involved. Linux only, as the stack is."""

from __future__ import annotations

import os
import threading
from pathlib import Path


class ProcessWatch:
    """Resident memory of one process, sampled twice a second: the peak since `reset`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _status_mb(self, field_name: str) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
        return 0.0

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.peak_mb = max(self.peak_mb, self._status_mb("VmRSS"))
            except OSError:
                return

    def reset(self) -> None:
        self.peak_mb = self._status_mb("VmRSS")

    def lifetime_peak_mb(self) -> float:
        """The kernel's high-water mark: catches a peak between two samples."""
        return self._status_mb("VmHWM")

    def stop(self) -> None:
        self._stop.set()


CPU_LABELS = {
    "sextant": "Sextant",
    "browser": "Chromium, Playwright and this script",
    "backends": "the stack's Prometheus, OpenSearch and Jaeger",
    "others": "everything else (other people's work)",
    "machine": "the whole machine",
}


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`."""
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in map(int, (task / "children").read_text().split()):
                found += [child, *descendants(child)]
    except OSError:
        pass  # it ended meanwhile
    return found


def cpu_seconds(sextant_pid: int) -> dict[str, float]:
    """CPU seconds used so far per CPU_LABELS group (a group whose processes are unknown is left out).

    A process's count includes its waited-for children, so a browser tab closed meanwhile still counts.
    """
    tick = os.sysconf("SC_CLK_TCK")

    def used(pids: list[int], children: bool = True) -> float:
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(f) for f in fields[11 : 15 if children else 13])
        return total / tick

    sextant = [sextant_pid, *descendants(sextant_pid)]
    browser = [pid for pid in descendants(os.getpid()) if pid not in sextant]
    groups = {"sextant": used(sextant), "browser": used(browser) + used([os.getpid()], children=False)}
    if backends := backend_pids():
        groups["backends"] = used(backends)
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    groups["machine"] = (user + nice + system + irq + softirq + steal) / tick
    groups["others"] = groups["machine"] - sum(v for k, v in groups.items() if k != "machine")
    return groups


def backend_pids() -> list[int]:
    """The stack's Prometheus, OpenSearch and Jaeger, from its PID files (stack/lib.sh); [] when unknown."""
    cache = Path(
        os.environ.get("SEXTANT_CACHE")
        or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sextant"
    )
    run = Path(os.environ.get("SEXTANT_RUN") or cache / "run")
    pids = []
    for name in ("prometheus", "opensearch", "jaeger"):
        try:
            pids.append(int((run / "pids" / f"{name}.pid").read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def streamlit_pid() -> int:
    """The Streamlit server that `served_app` started: our child process running `streamlit run`."""
    me = os.getpid()
    for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
        if b"streamlit" in Path(f"/proc/{child}/cmdline").read_bytes():
            return int(child)
    raise RuntimeError("the Streamlit server process was not found among this process's children")
