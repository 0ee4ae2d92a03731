"""The engines: ``ideal`` (V @ G), ``nodal`` (exact sparse solve), ``ngspice`` (SPICE)."""
