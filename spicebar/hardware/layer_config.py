"""Per-layer hardware overrides from a small TOML file (``spicebar network --layer-config``).

    # LAYERS.toml: one table per crossbar layer, by its ONNX node name
    [layer.conv1]
    array = "64x64"      # tile rows x columns
    levels = 32          # conductance levels (>= 2)
    adc_bits = 6         # column ADC bits

Every key is optional; layers not named use the command's flags. Unknown keys, unknown
layer names, booleans where numbers belong and values out of range are refused, naming
the key, before anything runs.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace

from ..errors import InputFileError, SpecError
from ..io import read_text_file
from ..circuit.converters import MAX_BITS
from .mapping import MAX_LEVELS
from .mvm import MVMSpec
from .tiling import parse_array

KEYS = ("array", "levels", "adc_bits")


@dataclass(frozen=True)
class LayerOverride:
    """What one layer changes: tile size ``(rows, cols)``, levels, ADC bits (None: unchanged)."""

    array: tuple | None = None
    levels: int | None = None
    adc_bits: int | None = None

    def apply(self, hardware: MVMSpec) -> MVMSpec:
        """``hardware`` with this layer's changes (validated by :class:`MVMSpec`)."""
        s = hardware
        if self.array is not None:
            s = replace(s, array_rows=self.array[0], array_cols=self.array[1])
        if self.levels is not None:
            s = replace(s, mapping=replace(s.mapping, levels=self.levels))
        if self.adc_bits is not None:
            s = replace(s, adc_bits=self.adc_bits, adc_full_scale_a=None)
        return s


def _int(where: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(where, f"is {value!r}", f"an integer {low}..{high}")
    return value


def parse_layer_config(data: dict, where: str = "--layer-config") -> dict[str, LayerOverride]:
    """``{layer name: LayerOverride}`` from parsed TOML (see the module notes)."""
    stray = sorted(set(data) - {"layer"})
    if stray:
        raise SpecError(f"{where}: {stray[0]}", "is not a known key", "[layer.NAME] tables only")
    layers = data.get("layer", {})
    if not isinstance(layers, dict):
        raise SpecError(f"{where}: layer", "is not a table", "[layer.NAME] tables")
    out = {}
    for name, table in layers.items():
        at = f"{where}: layer.{name}"
        if not isinstance(table, dict):
            raise SpecError(at, "is not a table", "keys " + ", ".join(KEYS))
        unknown = sorted(set(table) - set(KEYS))
        if unknown:
            raise SpecError(f"{at}.{unknown[0]}", "is not a known key", ", ".join(KEYS))
        array = None
        if "array" in table:
            if not isinstance(table["array"], str):
                raise SpecError(f"{at}.array", f"is {table['array']!r}", 'a string "ROWSxCOLS", e.g. "64x64"')
            try:
                array = parse_array(table["array"])
            except SpecError as exc:
                raise SpecError(f"{at}.array", exc.problem, exc.allowed) from None
        levels = _int(f"{at}.levels", table["levels"], 2, MAX_LEVELS) if "levels" in table else None
        bits = _int(f"{at}.adc_bits", table["adc_bits"], 1, MAX_BITS) if "adc_bits" in table else None
        out[name] = LayerOverride(array, levels, bits)
    return out


def load_layer_config(path) -> dict[str, LayerOverride]:
    """Read and validate a layer config file."""
    text = read_text_file(path, "--layer-config")
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InputFileError("--layer-config", f"{str(path)!r} is not valid TOML ({exc})",
                             "a TOML file with [layer.NAME] tables") from None
    return parse_layer_config(data)


def check_layer_names(overrides: dict, names: list[str]) -> None:
    """Refuse a configured layer the model does not have."""
    for name in overrides:
        if name not in names:
            raise SpecError(f"--layer-config: layer.{name}", "names no crossbar layer of the model",
                            "one of " + ", ".join(names))
