"""What each numeric flag of the command line may hold, checked while the line is parsed.

argparse's ``type=float`` takes ``nan``, ``inf`` and any sign; the specs refuse most of
that later, but only for the values they use (``--v0 nan`` with passive cells was
ignored), in their own names (``r_wl`` for ``--r-wl``) and sometimes after work has
started (``mvm --timeout -1`` inside the tile jobs). So every numeric option's type is
replaced, once the parser is built, by a check of its domain (:data:`FLAG_DOMAINS`; a
float flag not listed must at least be finite): a bad value is one ``spicebar: error:``
line naming the flag, exit code 2, before anything is read or written.
"""

from __future__ import annotations

import argparse
import math
from typing import Callable

from .._validate import MAX_TIME_LIMIT_S, plain_path, time_limit_s
from ..errors import SpecError


def _real(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"is {text!r} (allowed: a number)") from None


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"is {text!r} (allowed: an integer)") from None


def _refuse(text: str, allowed: str):
    return argparse.ArgumentTypeError(f"is {text!r} (allowed: {allowed})")


def finite(text: str) -> float:
    x = _real(text)
    if not math.isfinite(x):
        raise _refuse(text, "a finite number")
    return x


def nonnegative(text: str) -> float:
    x = _real(text)
    if not math.isfinite(x) or x < 0:
        raise _refuse(text, "a finite number >= 0")
    return x


def positive(text: str) -> float:
    x = _real(text)
    if not math.isfinite(x) or x <= 0:
        raise _refuse(text, "a finite number > 0")
    return x


def fraction(text: str) -> float:
    x = _real(text)
    if not 0 <= x <= 1:
        raise _refuse(text, "a fraction 0..1")
    return x


def seconds(text: str) -> float:
    """A wall-time limit (``--timeout``): the one check every time limit goes through."""
    try:
        return time_limit_s("--timeout", _real(text))
    except SpecError:
        raise _refuse(text, f"a number of seconds > 0 and <= {MAX_TIME_LIMIT_S:g}") from None


def index(text: str) -> int:
    k = _integer(text)
    if k < 0:
        raise _refuse(text, "an integer >= 0")
    return k


def count(text: str) -> int:
    k = _integer(text)
    if k < 1:
        raise _refuse(text, "an integer >= 1")
    return k


def folder(text: str) -> str:
    """A folder for run files (``--workdir``): no control characters (a newline would split
    the job path handed to the ngspice worker), not an existing file, writable."""
    from .paths import out_folder
    try:
        plain_path("--workdir", text)
        out_folder(text, "--workdir")
    except SpecError as exc:
        raise argparse.ArgumentTypeError(f"{exc.problem} (allowed: {exc.allowed})") from None
    return text


#: Option string -> its domain. Flags of several commands share one meaning.
FLAG_DOMAINS: dict[str, Callable[[str], object]] = {
    "--timeout": seconds,
    "--workdir": folder,
    # resistances, capacitances, times, spreads: physical, zero allowed
    **{f: nonnegative for f in (
        "--r-wl", "--r-bl", "--r-driver", "--r-sense", "--r-wire", "--c-wire", "--t-settle",
        "--t-reset", "--r-reset", "--prog-sigma-rel", "--prog-sigma-abs", "--read-sigma-rel",
        "--read-sigma-abs", "--drift-nu", "--drift-nu-std", "--stuck-on", "--stuck-off",
        "--t0", "--t-read", "--v-read", "--sel-v-read", "--v-fs")},
    # scales that cannot be zero
    **{f: positive for f in (
        "--c-int", "--t-int", "--r-f", "--a0", "--gbw", "--w", "--l", "--v0", "--nonlinearity",
        "--sel-i-read", "--on-off", "--g-max", "--g-min", "--v-max", "--w-max", "--x-max",
        "--adc-full-scale", "--headroom")},
    **{f: fraction for f in ("--g-density",)},
    **{f: index for f in ("--read-row", "--read-col", "--vector", "--seed", "--spot")},
    **{f: count for f in ("--bits", "--adc-bits", "--steps-per-window", "--levels", "--workers",
                          "--processes", "--batch-size", "--batch", "--rows", "--cols", "--size",
                          "--calibration")},
}


def _domain_of(action: argparse.Action) -> Callable[[str], object] | None:
    for flag in action.option_strings:
        if flag in FLAG_DOMAINS:
            return FLAG_DOMAINS[flag]
    return finite if action.type is float else None


def apply_flag_domains(parser: argparse.ArgumentParser) -> None:
    """Give every numeric option of ``parser`` and its sub-commands its domain's check."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                apply_flag_domains(sub)
        elif action.option_strings and (action.type in (float, int)
                                         or any(f in FLAG_DOMAINS for f in action.option_strings)):
            domain = _domain_of(action)
            if domain is not None and action.type in (float, int, None):
                action.type = domain
