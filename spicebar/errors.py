"""Exceptions raised by spicebar.

Every error a user can cause is a :class:`SpicebarError`; bad input is a
:class:`SpecError` (also a :class:`ValueError`) that names the parameter and the
allowed range, raised before any netlist is written.
"""

from __future__ import annotations


class SpicebarError(Exception):
    """Base class of every error spicebar raises on purpose."""


class SpecError(SpicebarError, ValueError):
    """Bad input: names the parameter, what was given and what is allowed."""

    def __init__(self, parameter: str, problem: str, allowed: str | None = None):
        self.parameter = parameter
        self.problem = problem
        self.allowed = allowed
        text = f"{parameter}: {problem}"
        if allowed:
            text += f" (allowed: {allowed})"
        super().__init__(text)


class InputFileError(SpecError):
    """A file given for a parameter cannot be read or has the wrong content."""


class SimulatorSetupError(SpicebarError):
    """ngspice (or its shared library, or its KLU solver) is missing or unusable."""


class SimulationError(SpicebarError):
    """ngspice failed on a netlist: carries the netlist path and ngspice's own words."""

    def __init__(self, summary: str, netlist_path: str | None = None,
                 ngspice_messages: list[str] | None = None, cause: list[str] | None = None):
        self.summary = summary
        self.netlist_path = netlist_path
        self.ngspice_messages = list(ngspice_messages or [])
        #: ngspice's first error lines (the cause; the tail is often a dump of node values).
        self.cause = list(cause or [])
        text = summary
        if netlist_path:
            text += f"\n  netlist: {netlist_path}"
        if self.cause:
            text += "\n  ngspice's first errors:\n" + "\n".join(f"    {m}" for m in self.cause)
        if self.ngspice_messages:
            text += ("\n  ngspice's last lines:\n" if self.cause else "\n  ngspice said:\n") + \
                "\n".join(f"    {m}" for m in self.last_lines(20))
        super().__init__(text)

    def last_lines(self, without_cause: int) -> list[str]:
        """ngspice's last lines worth quoting: 5 beside a known cause, else ``without_cause``."""
        return self.ngspice_messages[-(5 if self.cause else without_cause):]


class SimulationTimeout(SimulationError):
    """ngspice did not finish within its time limit and was killed."""


class SimulatorCrashed(SimulationError):
    """The ngspice process died (killed, segfault) before it reported a result."""


class NetlistRejected(SimulationError):
    """ngspice refused the netlist text (a parse or model error)."""


class ConvergenceError(SimulationError):
    """ngspice found no operating point: Newton, gmin and source stepping all failed."""


class SolverError(SpicebarError):
    """The nodal solver could not solve the system (singular or not converged)."""


class ReadoutWarning(UserWarning):
    """A readout that will run but not as designed (saturating windows, a short reset)."""


class AccountInitWarning(UserWarning):
    """ngspice will read the account's own ``~/.spiceinit``, which spicebar cannot stop."""
