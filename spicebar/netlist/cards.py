"""The one guard for user text that reaches a netlist: cards parsed, never copied.

Every SPICE file a user names (a ``--mos-model`` card, a model in a sweep file, a
device's subcircuit library) goes through :func:`read_card_file` (or
:func:`parse_cards` for text in hand); the netlist writers emit only what it returns,
rebuilt from the parsed cards (:meth:`CardFile.netlist_lines`), never the file's
own lines. Every other piece of user text that lands in a netlist (labels, file
names, paths in comments) goes through :func:`comment_text`.

The rules (anything else is refused with the file, the line number and why, as a
:class:`~spicebar.errors.SpecError` naming the parameter, before a netlist is written):

* **Top level**: blank lines; comment lines (``*``; ``$`` and ``;`` end-of-line
  comments are dropped); ``.model NAME TYPE (param=value ...)`` with TYPE one of the
  built-in SPICE device types (:data:`MODEL_TYPES`: no XSPICE code models, some of
  which read files); ``.param name = value ...``; continuation lines (``+``) of the
  card before them.
* **With** ``allow_subckt=True`` also ``.subckt NAME node ... [params: k=v ...]``
  ... ``.ends [NAME]``, whose bodies hold only element lines of the kinds in
  :data:`ELEMENT_LETTERS` (R C L D M Q J N X B E G F H V I), ``.model``/``.param``
  cards, comments and continuations. No nested ``.subckt``.
* **Refused everywhere**: every other dot-command (``.control``/``.endc``, ``.include``,
  ``.lib``, ``.temp``, ``.options``, ``.end``, ``.func``, ``.op``, ...), ngspice's
  commands (``shell``, ``source``, ...), element lines at the top level (they would
  change the circuit ngspice solves and not the one the nodal engine solves), and on
  any line: double quotes, backslashes, backticks, control and non-ASCII characters,
  and the words ``file``, ``include`` and ``shell``.

``netlist_cards`` of a sweep are the one exception: raw lines the user declared as
trusted (``trust_netlist_cards = true``; they run as code in ngspice), checked only by
:func:`trusted_card_lines` to be single lines.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import SpecError
from ..io import MAX_TEXT_FILE_BYTES, read_text_file, regular_file

#: First letters of the element lines a subcircuit body may hold.
ELEMENT_LETTERS = frozenset("rcldmqjnxbegfhvi")

#: Built-in SPICE model types a ``.model`` card may name (ngspice's, no XSPICE code models).
MODEL_TYPES = frozenset({"r", "res", "c", "l", "sw", "csw", "urc", "ltra", "d", "npn", "pnp",
                         "njf", "pjf", "nmos", "pmos", "nmf", "pmf", "vdmos"})

#: Characters a card may hold (after end-of-line comments are dropped).
CARD_CHARS = re.compile(r"[A-Za-z0-9_ \t.,=+\-*/(){}<>!&|?:^%'@\[\]#~]*")
#: Names of models, subcircuits, elements, nodes and parameters.
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-+#]*")
NODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-+#]*")
#: Words refused anywhere in a card (file access and shell escapes).
FORBIDDEN_WORDS = re.compile(r"\b(file|include|shell|system)\b", re.IGNORECASE)
#: A model parameter's value: a number or name, or one ``{expression}`` without spaces.
#: Largest magnitude of a number in a model card: device parameters span about 1e-30
#: (areas in m^2 times small factors) to 1e27 (doping in m^-3); 1e300 (``kp = 1e300``) made
#: every current overflow, reported as a singular matrix.
MAX_MODEL_NUMBER = 1e30
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.+\-]+")
BRACED = re.compile(r"\{[^{}\s=']+\}")
#: Longest logical card (continuations joined), characters.
MAX_CARD_CHARS = 20000


@dataclass(frozen=True)
class ModelCard:
    """One ``.model`` card: name and type lower case, parameters as written (lower case).

    ``params`` maps each parameter to its value text; :meth:`numbers` gives the numeric ones.
    """

    name: str
    type: str
    params: tuple[tuple[str, str], ...]
    line: int

    def numbers(self) -> dict[str, float]:
        """``{parameter: value}`` for every plain number (SI suffixes read: ``20u`` = 2e-5)."""
        out = {}
        for k, text in self.params:
            x = spice_number(text)
            if x is not None:
                out[k] = x
        return out

    def format(self) -> str:
        return f".model {self.name} {self.type} (" + " ".join(f"{k}={v}" for k, v in self.params) + ")"


@dataclass(frozen=True)
class CardFile:
    """The parsed content of a card file: what may reach a netlist, in file order."""

    source: str
    cards: tuple[str, ...]                  # rebuilt logical cards, one line each
    models: tuple[ModelCard, ...] = ()
    subckts: tuple[str, ...] = ()           # subcircuit names
    params: tuple[str, ...] = field(default=())  # .param names

    def netlist_lines(self) -> list[str]:
        """The lines to write into a netlist: a comment naming the source, then the cards."""
        return [f"* cards parsed from {comment_text(Path(self.source).name)}", *self.cards]

    def model(self, name: str | None = None) -> ModelCard:
        """The model called ``name`` (lower case), or the first one."""
        for m in self.models:
            if name is None or m.name == name.lower():
                return m
        raise SpecError("model", f"{self.source} has no .model card"
                        + (f" named {name!r}" if name else ""), "a file with a .model card")


_SUFFIX = {"t": 12, "g": 9, "meg": 6, "k": 3, "m": -3, "u": -6, "n": -9, "p": -12, "f": -15,
           "a": -18}  # powers of ten
_NUMBER = re.compile(r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)(meg|mil|[tgkmunpfa])?[a-z]*")


def spice_number(text: str) -> float | None:
    """A SPICE number (``1e-6``, ``20u``, ``1.5meg``, trailing unit letters ignored), or None."""
    m = _NUMBER.fullmatch(text.strip().lower())
    if m is None:
        return None
    number, suffix = m.group(1), m.group(2) or ""
    if suffix == "mil":
        return float(number) * 25.4e-6
    if "e" in number:
        return float(number) * 10.0 ** _SUFFIX.get(suffix, 0)
    return float(f"{number}e{_SUFFIX.get(suffix, 0)}")  # 20u -> 2e-05 exactly rounded


def comment_text(text: str) -> str:
    """``text`` made safe for a netlist comment line: printable ASCII is kept, and every
    other character (newline, carriage return, tab and other control characters,
    non-ASCII) and ``%`` and ``\\`` become ``%XX`` (the code point in hex), so nothing in
    it can end the comment or start a card."""
    return "".join(c if 32 <= ord(c) <= 126 and c not in "%\\" else f"%{ord(c):02X}"
                   for c in str(text))


def trusted_card_lines(parameter: str, lines) -> tuple[str, ...]:
    """Raw netlist lines the user has declared trusted: each must be one line of text
    (no newline or NUL), at most :data:`MAX_CARD_CHARS` characters. Not parsed: they run
    in ngspice as given."""
    if not isinstance(lines, (list, tuple)) or not all(isinstance(c, str) for c in lines):
        raise SpecError(parameter, f"is {lines!r}", "a list of netlist lines (strings)")
    for k, c in enumerate(lines):
        if any(ch in c for ch in "\r\n\x00") or len(c) > MAX_CARD_CHARS:
            raise SpecError(parameter, f"entry {k} is not one line of at most {MAX_CARD_CHARS} "
                            "characters", "one netlist line per entry")
    return tuple(lines)


def read_card_file(path: str | Path, parameter: str = "model", *,
                   allow_subckt: bool = False) -> CardFile:
    """Parse the card file at ``path`` (a regular UTF-8 file of at most
    :data:`~spicebar.io.MAX_TEXT_FILE_BYTES`) under the module's rules; SpecError naming
    ``parameter``, the file and the line otherwise. A file parsed before and unchanged
    since (same size and modification time) is not parsed again."""
    p = regular_file(path, parameter, MAX_TEXT_FILE_BYTES)
    st = os.stat(p)
    return _parse_file(str(p), parameter, allow_subckt, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=64)
def _parse_file(path: str, parameter: str, allow_subckt: bool, mtime_ns: int, size: int) -> CardFile:
    text = read_text_file(path, parameter, MAX_TEXT_FILE_BYTES)
    return parse_cards(text, path, parameter, allow_subckt=allow_subckt)


def _strip_comment(line: str) -> str:
    """Drop ``;`` and `` $`` end-of-line comments (ngspice's own rule)."""
    line = line.split(";", 1)[0]
    m = re.search(r"(^|\s)\$", line)
    return line[:m.start()] if m else line


def parse_cards(text: str, source: str = "<text>", parameter: str = "model", *,
                allow_subckt: bool = False) -> CardFile:
    """Parse card text (see the module docstring for the rules)."""
    where = comment_text(source)

    def refuse(number: int, why: str, allowed: str | None = None) -> SpecError:
        allowed = allowed or ".model, .param, comments and continuation lines" + (
            ", .subckt ... .ends with element lines only" if allow_subckt else "")
        return SpecError(parameter, f"{where} line {number}: {why}", allowed)

    logical: list[list] = []  # [first line number, text]
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("*"):
            continue  # comments are dropped, never copied
        body = _strip_comment(stripped).strip()
        if not body:
            continue
        bad = next((c for c in body if (ord(c) < 32 and c != "\t") or ord(c) > 126), None)
        if bad is not None:
            raise refuse(number, f"has the character {bad!r}")
        if body.startswith("+"):
            if not logical:
                raise refuse(number, "is a continuation line with no card before it")
            logical[-1][1] += " " + body[1:].strip()
            continue
        logical.append([number, body])

    cards, models, subckts, params = [], [], [], []
    inside: str | None = None
    opened = 0
    for number, card in logical:
        if len(card) > MAX_CARD_CHARS:
            raise refuse(number, f"is a card of {len(card)} characters (at most {MAX_CARD_CHARS})")
        if not CARD_CHARS.fullmatch(card):
            bad = next(c for c in card if not CARD_CHARS.fullmatch(c))
            raise refuse(number, f"has the character {bad!r}")
        if FORBIDDEN_WORDS.search(card):
            raise refuse(number, f"uses {FORBIDDEN_WORDS.search(card).group(0)!r}")
        tokens = card.split()
        head = tokens[0].lower()
        if head == ".model":
            model = _model_card(tokens, number, refuse)
            models.append(model)
            cards.append(model.format())
        elif head == ".param":
            params.extend(_param_names(card, number, refuse))
            cards.append(" ".join(tokens))
        elif head == ".subckt":
            if not allow_subckt:
                raise refuse(number, "is a subcircuit, not allowed in this file")
            if inside is not None:
                raise refuse(number, f"opens a subcircuit inside {inside!r} (no nesting)")
            inside, opened = _subckt_header(tokens, number, refuse), number
            subckts.append(inside)
            cards.append(" ".join(tokens))
        elif head == ".ends":
            if inside is None:
                raise refuse(number, ".ends without .subckt")
            if len(tokens) > 2 or (len(tokens) == 2 and tokens[1].lower() != inside):
                raise refuse(number, f"ends {' '.join(tokens[1:])!r}, not {inside!r}")
            cards.append(f".ends {inside}")
            inside = None
        elif head.startswith("."):
            raise refuse(number, f"{tokens[0]} is not allowed (only .model, .param"
                         + (", .subckt/.ends" if allow_subckt else "") + ")")
        elif inside is None:
            raise refuse(number, f"{tokens[0]!r} is an element or command outside a "
                         "subcircuit: it would change the circuit ngspice solves")
        else:
            if head[0] not in ELEMENT_LETTERS:
                raise refuse(number, f"{tokens[0]!r} is not an element line "
                             f"({' '.join(sorted(ELEMENT_LETTERS)).upper()})")
            if not NAME.fullmatch(tokens[0]) or len(tokens) < 3:
                raise refuse(number, f"{tokens[0]!r} is not a well-formed element line")
            cards.append(" ".join(tokens))
    if inside is not None:
        raise SpecError(parameter, f"{where} line {opened}: subcircuit {inside!r} has no .ends",
                        "a closed .subckt")
    return CardFile(source, tuple(cards), tuple(models), tuple(subckts), tuple(params))


def _model_card(tokens: list[str], number: int, refuse) -> ModelCard:
    if len(tokens) < 3:
        raise refuse(number, ".model needs a name and a type")
    name, rest = tokens[1].lower(), " ".join(tokens[2:]).lower()
    if not NAME.fullmatch(name):
        raise refuse(number, f"model name {tokens[1]!r} is not a plain name")
    m = re.fullmatch(r"([a-z][a-z0-9_]*)\s*(.*)", rest)
    mtype = m.group(1) if m else ""
    if mtype not in MODEL_TYPES:
        raise refuse(number, f"model type {mtype or rest!r} is not a built-in device type "
                     f"({', '.join(sorted(MODEL_TYPES))})")
    body = m.group(2).strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    body = re.sub(r"\s*=\s*", "=", body.replace(",", " ")).strip()
    pairs = []
    for item in body.split():
        k, eq, v = item.partition("=")
        if not eq or not NAME.fullmatch(k) or not (PLAIN_VALUE.fullmatch(v) or BRACED.fullmatch(v)):
            raise refuse(number, f"model parameter {item!r} is not name=value")
        x = spice_number(v) if PLAIN_VALUE.fullmatch(v) else None
        if x is not None and not (math.isfinite(x) and abs(x) <= MAX_MODEL_NUMBER):
            raise refuse(number, f"model parameter {k} = {v} is out of range",
                         f"finite numbers of magnitude <= {MAX_MODEL_NUMBER:g} (no device "
                         "parameter needs more; beyond, the device equations overflow float64)")
        pairs.append((k, v))
    return ModelCard(name, mtype, tuple(pairs), number)


def _param_names(card: str, number: int, refuse) -> list[str]:
    body = card.split(None, 1)[1] if len(card.split(None, 1)) > 1 else ""
    names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*=", body)
    if not names or not re.match(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=", body):
        raise refuse(number, ".param needs name = value")
    return [n.lower() for n in names]


def _subckt_header(tokens: list[str], number: int, refuse) -> str:
    if len(tokens) < 3 or not NAME.fullmatch(tokens[1]):
        raise refuse(number, ".subckt needs a plain name and at least one node")
    for t in tokens[2:]:
        if t.lower() == "params:":
            break
        if not NODE.fullmatch(t):
            raise refuse(number, f"subcircuit node {t!r} is not a plain name")
    return tokens[1].lower()


__all__ = ["CardFile", "ModelCard", "read_card_file", "parse_cards", "comment_text",
           "trusted_card_lines", "spice_number", "ELEMENT_LETTERS", "MODEL_TYPES"]
