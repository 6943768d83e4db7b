"""CPU seconds and memory of a process tree (a container's PID 1 and every descendant), from /proc.

    container_stats.py PID          # one JSON line: cpu_s, rss_mib, pss_mib, processes

cpu_s is user+sys of every live process of the tree plus what its exited, reaped children used
(cutime/cstime), so it is the tree's CPU since PID started. rss_mib adds up each process's RSS (shared
pages counted once per process, as a memory limit does not); pss_mib shares them out (what the tree
really holds). Standard library only: image_smoke.sh runs it on the host against the container's
PID, which podman reports, so it works whatever cgroup layout the host has.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PROC = Path("/proc")


def children_map(proc: Path = PROC) -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int, tree: dict[int, list[int]]) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def cpu_seconds(pid: int, proc: Path = PROC) -> float:
    """user+sys of ``pid`` and its reaped children (fields 14-17 of /proc/PID/stat), in seconds."""
    fields = (proc / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    # after the ")": state is field 3, so utime (14) is index 11
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_kib(pid: int, proc: Path = PROC) -> tuple[int, int]:
    """(RSS, PSS) of ``pid`` in KiB from smaps_rollup (RSS from status when that is unreadable)."""
    rss = pss = 0
    try:
        for line in (proc / str(pid) / "smaps_rollup").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key == "Rss":
                rss = int(rest.split()[0])
            elif key == "Pss":
                pss = int(rest.split()[0])
    except OSError:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = pss = int(line.split()[1])
    return rss, pss


def stats(pid: int, proc: Path = PROC) -> dict[str, float | int]:
    tree = descendants(pid, children_map(proc))
    cpu = rss = pss = 0.0
    alive = 0
    for member in tree:
        try:
            cpu += cpu_seconds(member, proc)
            member_rss, member_pss = memory_kib(member, proc)
        except (OSError, IndexError):  # exited while we looked
            continue
        rss += member_rss
        pss += member_pss
        alive += 1
    return {"cpu_s": round(cpu, 2), "rss_mib": round(rss / 1024, 1), "pss_mib": round(pss / 1024, 1),
            "processes": alive}


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit(__doc__)
    print(json.dumps(stats(int(sys.argv[1]))))
