"""Readings of other processes from /proc (Linux), for the benchmarks that run newsingest as a process:
its resident memory, its CPU time, and the processes below it (extraction workers are not its direct
children). Reads /proc only."""

from __future__ import annotations

import os


def status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                found += kids
                stack += kids
        except OSError:
            continue
    return found


def cpu_times(pid: int) -> tuple[float, float]:
    """CPU seconds of the process itself (utime + stime) and of its children it has reaped (cutime +
    cstime, which hold what those children had reaped in turn); (0, 0) when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rpartition(")")[2].split()
    except OSError:
        return 0.0, 0.0
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, (int(fields[13]) + int(fields[14])) / tick


def memory_kib(pid: int) -> tuple[int, int | None]:
    """Resident and proportional set size (RSS, PSS) in KiB; PSS None when smaps_rollup cannot be read.
    PSS shares each page among the processes mapping it, so a sum over processes counts it once."""
    rss = status_kib(pid, "VmRSS")
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return rss, int(line.split()[1])
    except OSError:
        pass
    return rss, None


def children(pid: int) -> list[int]:
    """Direct children of a process (of each of its threads)."""
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(k) for k in fh.read().split()]
    except OSError:
        pass
    return found


def become_subreaper() -> bool:
    """Make the processes orphaned below this one its children instead of init's (Linux prctl), so that
    their CPU time reaches this process's rusage when it reaps them; False where that is not possible."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False
