"""What the engines' answers mean: engine comparison tables, sneak-path decomposition,
read margins, idealised models and their scores against the exact engines, error
budgets.

May import: ``spicebar.engines``, ``spicebar.circuit`` and the base (it runs engines;
it never writes netlists itself). Used by hardware, sweeps, plots and the CLI.
"""
