"""Size guard: refuse a solve or simulation that would not fit in memory, before it starts.

One guard per solve: :func:`spicebar.engines.simulation.simulate` resolves the limit
once (:meth:`MemoryGuard.resolve`: the caller's ``memory_limit_bytes``, else 80 % of
what is available now) and hands the :class:`MemoryGuard` down; the solver that runs
owns its estimate and asks :meth:`MemoryGuard.require` once, before any work: the
nodal engine's LU (:func:`spicebar.engines.nodal.linear.direct_memory_bytes`) and line
solvers (:func:`spicebar.engines.nodal.grid.grid_memory_bytes`); ``ideal`` and
``ngspice`` use :func:`estimate_bytes` here. ngspice's figures were measured on the
passive default topology (peak resident memory of the child, 1 ohm wires): about
6.1, 6.5 and 7.2 kB per cell at 256x256 (0.4 GB), 512x512 (1.7 GB) and 832x832
(5.0 GB, the largest it runs), rounded up; per
input vector every engine also holds two (rows, cols) voltage maps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .._validate import positive_scalar
from ..errors import SpecError

#: Peak bytes per cell of the run itself, by engine (measured, rounded up).
BYTES_PER_CELL = {"ideal": 16, "ngspice": 7_500}
#: Bytes per cell per input vector: v_wl and v_bl (float64) plus working copies.
BYTES_PER_CELL_PER_VECTOR = 48
#: Fixed cost of an engine (interpreter, libraries, ngspice itself; scipy for the
#: nodal solvers, whose own estimates add it).
BASE_BYTES = {"ideal": 0, "nodal": 150_000_000, "ngspice": 150_000_000}
#: Leave this share of available memory to everything else.
HEADROOM = 0.8


class ResourceError(SpecError):
    """The requested solve would not fit in memory."""


def estimate_bytes(rows: int, cols: int, batch: int, engine: str) -> int:
    """Estimated peak memory of ``engine`` on a ``rows x cols`` array and ``batch`` vectors."""
    cells = rows * cols
    return int(BASE_BYTES[engine] + BYTES_PER_CELL[engine] * cells
               + BYTES_PER_CELL_PER_VECTOR * cells * batch)


#: Where the kernel shows this process's control groups (tests point these elsewhere).
CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"
#: cgroup limits at or above this mean "no limit" (v1 writes 2**63 rounded to a page).
UNLIMITED = 1 << 60


def _read_int(path) -> int | None:
    try:
        text = open(path).read().strip()
    except OSError:
        return None
    if text == "max":
        return None
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value >= UNLIMITED else value


def _inactive_file(stat_path, key: str) -> int:
    """Reclaimable page cache of a group (``inactive_file``), bytes; 0 if unknown."""
    try:
        for line in open(stat_path):
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _group_paths(kind: str) -> list:
    """Folders of this process's cgroup (``kind`` ``v2`` or ``v1``) and of its ancestors,
    innermost first; the root of the mount last (inside a container, where
    ``/proc/self/cgroup`` names a path of the host, the root is the container's group)."""
    from pathlib import Path
    try:
        with open(PROC_CGROUP) as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    base = Path(CGROUP_ROOT) if kind == "v2" else Path(CGROUP_ROOT) / "memory"
    if kind == "v2" and not (base / "cgroup.controllers").exists():
        base = Path(CGROUP_ROOT) / "unified"
    rel = None
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if (kind == "v2" and controllers == "") or (kind == "v1" and "memory" in controllers.split(",")):
            rel = path.strip("/")
    if rel is None:
        return []
    out, parts = [], [p for p in rel.split("/") if p]
    for k in range(len(parts), -1, -1):
        folder = base.joinpath(*parts[:k])
        if folder.is_dir():
            out.append(folder)
    return out


def cgroup_available_bytes() -> int | None:
    """Memory this process may still take under its control group's limit (cgroup v2
    ``memory.max`` - ``memory.current`` + reclaimable cache, or v1 ``memory.limit_in_bytes``
    - ``memory.usage_in_bytes`` + cache), the tightest over the group and its ancestors;
    None when no limit is set or none can be read."""
    best = None
    for kind, limit_name, usage_name, cache_key in (
            ("v2", "memory.max", "memory.current", "inactive_file"),
            ("v1", "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")):
        for folder in _group_paths(kind):
            limit = _read_int(folder / limit_name)
            if limit is None:
                continue
            usage = _read_int(folder / usage_name) or 0
            free = max(0, limit - usage + _inactive_file(folder / "memory.stat", cache_key))
            best = free if best is None else min(best, free)
    return best


def available_bytes() -> int:
    """Memory available to a new allocation now, bytes: ``MemAvailable`` of the machine,
    or less when the process's control group (v1 or v2) holds it to a smaller limit."""
    machine = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    machine = int(line.split()[1]) * 1024
                    break
    except OSError:
        pass
    if machine is None:
        machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    group = cgroup_available_bytes()
    return machine if group is None else min(machine, group)


def memory_limit(limit_bytes: int | None = None) -> tuple[int, str]:
    """The byte limit to hold a run to, and why: the caller's, else 80 % of what is
    available now. Raises SpecError naming ``memory_limit_bytes`` for a bad limit."""
    if limit_bytes is None:
        return int(HEADROOM * available_bytes()), ("80% of the memory available now (the "
                                                    "machine's or the control group's)")
    return int(positive_scalar("memory_limit_bytes", limit_bytes, "bytes")), "the limit you set"


@dataclass(frozen=True)
class MemoryGuard:
    """The byte limit one solve is held to, resolved once.

    Attributes:
        limit_bytes: refuse a solve whose estimated peak exceeds this, bytes.
        why: where the limit comes from (said in the refusal).
    """

    limit_bytes: int
    why: str

    @classmethod
    def resolve(cls, limit: "int | None | MemoryGuard" = None) -> "MemoryGuard":
        """A guard for ``limit``: a ready guard is passed through, ``None`` reads the
        memory available now (once), a number is validated (SpecError naming
        ``memory_limit_bytes``)."""
        if isinstance(limit, MemoryGuard):
            return limit
        return cls(*memory_limit(limit))

    def require(self, need: int, what: str, advice: str) -> int:
        """Raise :class:`ResourceError` (naming the array size) if ``need`` bytes exceed
        the limit; ``what`` needs them, ``advice`` says what to do. Returns ``need``."""
        if need > self.limit_bytes:
            raise ResourceError("array size", f"{what} needs about {need / 1e9:.2f} GB",
                                f"at most {self.limit_bytes / 1e9:.2f} GB ({self.why}); {advice}")
        return need


def require_memory(need: int, what: str, advice: str,
                   limit: "int | None | MemoryGuard" = None) -> int:
    """:meth:`MemoryGuard.require` against ``limit`` (a guard, bytes, or None: 80 % of
    what is available now)."""
    return MemoryGuard.resolve(limit).require(need, what, advice)


def check_memory(rows: int, cols: int, batch: int, engine: str,
                 limit: "int | None | MemoryGuard" = None) -> int:
    """:func:`require_memory` with :func:`estimate_bytes` of ``ideal`` or ``ngspice``."""
    return require_memory(estimate_bytes(rows, cols, batch, engine),
                          f"{engine} on {rows}x{cols} cells with {batch} input vector(s)",
                          "use fewer vectors per call, a smaller array or tiles", limit)
