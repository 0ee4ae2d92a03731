"""Reading a spicebar netlist back: cards as data, and the exact text again.

Used to check that emitting is stable (emit -> parse -> re-emit gives the same
text, and every value reads back to the same float64) and to inspect netlists in
tests and scripts. It reads the subset spicebar writes: comments, ``.options``,
two-terminal elements ``name n+ n- [dc] value``, analysis cards and ``.end``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SpecError


@dataclass(frozen=True)
class Element:
    name: str
    node_p: str
    node_n: str
    value: float
    dc: bool = False  # written as "dc value" (sources)

    def format(self) -> str:
        return f"{self.name} {self.node_p} {self.node_n} {'dc ' if self.dc else ''}{self.value!r}"


@dataclass(frozen=True)
class ParsedNetlist:
    """Cards in order: each is an Element or a line kept verbatim (comments, dot cards)."""

    cards: tuple

    @property
    def elements(self) -> dict[str, Element]:
        return {c.name: c for c in self.cards if isinstance(c, Element)}

    def format(self) -> str:
        return "\n".join(c.format() if isinstance(c, Element) else c for c in self.cards) + "\n"


def parse_netlist(text: str) -> ParsedNetlist:
    """Parse spicebar's netlist subset; raises SpecError naming the bad line."""
    cards = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.startswith(("*", ".")):
            cards.append(line)
            continue
        fields = line.split()
        dc = len(fields) == 5 and fields[3].lower() == "dc"
        if len(fields) != (5 if dc else 4):
            raise SpecError("netlist", f"line {number} is not a two-terminal element: {line!r}")
        try:
            value = float(fields[-1])
        except ValueError:
            raise SpecError("netlist", f"line {number} has value {fields[-1]!r}",
                            "a plain number") from None
        cards.append(Element(fields[0], fields[1], fields[2], value, dc))
    return ParsedNetlist(tuple(cards))
