"""``spicebar generate``: every input vector, a read, or a readout transient, as one netlist
that ``ngspice -b`` runs as it is and that writes its answers to FILE.dat."""

from __future__ import annotations

import sys

from ..errors import SpecError


def cmd_generate(args, spec_from_args) -> int:
    """``spicebar generate``: the whole job as a netlist ``ngspice -b`` runs (see
    :mod:`spicebar.engines.transient.jobs`); ``spec_from_args`` is the array flags' reader."""
    import numpy as np

    from .paths import out_path
    out = out_path(args.out, (".cir", ".sp", ".spice", ".net"), "--out", args)
    spec, inputs = spec_from_args(args)
    if inputs is not None and args.vector is not None:
        if not 0 <= args.vector < inputs.shape[0]:
            raise SpecError("--vector", f"is {args.vector}", f"0..{inputs.shape[0] - 1}")
        inputs = inputs[args.vector:args.vector + 1]
    elif args.vector not in (None, 0):
        raise SpecError("--vector", "needs --inputs")
    read = args.operation is not None and args.operation.mode == "read"
    if inputs is None and not read:
        print("spicebar: note: no --inputs, so every word-line driver is at 0 V; pass --inputs "
              "V.npy to set them", file=sys.stderr)
        inputs = np.zeros((1, spec.rows))
    encoding = None
    if args.readout != "ideal":
        if read:
            raise SpecError("--readout", f"is {args.readout!r} with --mode read", "ideal with "
                            "--mode read, or --mode vmm")
        from .readout import readout_spec_from_args
        spec, encoding = readout_spec_from_args(args, spec, inputs)
    from ..engines.transient.jobs import write_job
    from ..netlist.readout import TranSettings
    from ..netlist.standalone import data_file_for
    try:
        settings = TranSettings(args.steps_per_window)
    except SpecError as exc:
        raise SpecError("--steps-per-window", exc.problem, exc.allowed) from None
    path = write_job(out, spec, None if read else inputs, encoding=encoding,
                     operation=args.operation, settings=settings)
    what = (f"{spec.readout.kind} readout, {encoding.kind} encoding" if encoding is not None
            else "a read" if read else f"{inputs.shape[0]} input vector(s), DC")
    print(f"wrote {path} ({spec.describe()}; {what}); `cd {path.parent} && ngspice -b "
          f"{path.name}` writes the answers to {data_file_for(path).name}")
    return 0
