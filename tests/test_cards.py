"""The card guard (spicebar/netlist/cards.py): user SPICE files are parsed against an
allow-list and rebuilt, never copied; everything else is refused with the file, the
line and why, before a netlist is written. End to end through the CLI and sweeps."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from spicebar import SpecError
from spicebar.circuit.cells import TransistorCell
from spicebar.circuit.iv_models import MODELS_DIR, read_model_card
from spicebar.netlist.cards import comment_text, parse_cards, read_card_file, spice_number
from spicebar.sweeps.definition import parse_sweep

from .test_bad_inputs import run_main

CARD = ".model mine nmos (level=1 vto=0.5 kp=387e-6 gamma=0.4 phi=0.8 lambda=0.1)\n"

#: (id, text, allow_subckt, fragment of the refusal)
REFUSED = [
    ("control block", CARD + ".control\nshell touch {d}/pwned\n.endc\n", False, ".control"),
    ("shell at top", CARD + "shell touch {d}/pwned\n", False, "shell"),
    ("include", CARD + ".include /etc/passwd\n", False, "include"),
    ("lib", ".lib /usr/share/x.lib tt\n" + CARD, False, ".lib"),
    ("temp", CARD + ".temp 80\n", False, ".temp"),
    ("options", CARD + ".options rshunt=100\n", False, ".options"),
    ("end", CARD + ".end\n", False, ".end"),
    ("func", ".func f(x) = x\n" + CARD, False, ".func"),
    ("top-level resistor", CARD + "rx in_0 0 1\n", False, "outside a subcircuit"),
    ("top-level source", CARD + "vx wl_0_0 0 dc 1\n", False, "outside a subcircuit"),
    ("continuation first", "+ level=1\n" + CARD, False, "continuation"),
    ("xspice code model", ".model src filesource (amploffset=0)\n", False, "filesource"),
    ("code model type", ".model t table2d (offset=0)\n", False, "table2d"),
    ("double quote", '.model m nmos (level=1 vto="0.5")\n', False, '\'"\''),
    ("backslash", ".model m nmos (level=1 vto=0.5\\)\n", False, "\\\\"),
    ("non-ascii", ".model m nmos (level=1 vto=0.5\u00b5)\n", False, "\u00b5"),
    ("param with a file word", ".param file = 1\n" + CARD, False, "file"),
    ("bad model parameter", ".model m nmos (level=1 vto)\n", False, "name=value"),
    ("model name with a quote", ".model m' nmos (level=1)\n", False, "plain name"),
    ("subckt without opt-in", ".subckt s a b\nr1 a b 1\n.ends\n", False, "subcircuit"),
    ("control inside subckt", ".subckt s a b\n.control\n.endc\n.ends\n", True, ".control"),
    ("include inside subckt", ".subckt s a b\n.include x\n.ends\n", True, "include"),
    ("A element inside subckt", ".subckt s a b\na1 a b m\n.ends\n", True, "not an element"),
    ("nested subckt", ".subckt s a b\n.subckt t c\n.ends\n.ends\n", True, "no nesting"),
    ("unclosed subckt", ".subckt s a b\nr1 a b 1\n", True, "no .ends"),
    ("ends of another", ".subckt s a b\nr1 a b 1\n.ends t\n", True, "not 's'"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_file_line_and_why(tmp_path, case):
    name, text, subckt, fragment = case
    path = tmp_path / "card.lib"
    path.write_text(text.replace("{d}", str(tmp_path)))
    with pytest.raises(SpecError) as err:
        read_card_file(path, "--mos-model", allow_subckt=subckt)
    msg = str(err.value)
    assert msg.startswith("--mos-model: ") and "card.lib line " in msg, msg
    assert fragment.strip("'") in msg or fragment in msg, msg
    assert not (tmp_path / "pwned").exists()


def test_accepted_cards_are_rebuilt_not_copied():
    text = ("* a comment with .control in it\n"
            ".MODEL Mine NMOS ( LEVEL = 1 VTO=0.5 $ trailing comment\n"
            "+ KP=20u ; another\n"
            "+ )\n"
            ".param vdd = 1.8 w2 = {2*vdd}\n")
    cf = parse_cards(text, "x.lib")
    assert cf.cards == (".model mine nmos (level=1 vto=0.5 kp=20u)", ".param vdd = 1.8 w2 = {2*vdd}")
    assert cf.models[0].numbers() == {"level": 1.0, "vto": 0.5, "kp": pytest.approx(20e-6, rel=1e-15)}
    assert cf.params == ("vdd", "w2")
    assert cf.netlist_lines()[0] == "* cards parsed from x.lib"


def test_subcircuits_with_element_lines_only():
    text = (".subckt amp inp inn out params: a0=1e5\n"
            "g1 0 p1 inp inn 1\n"
            "rp1 p1 0 {a0}\n"
            "b1 o1 0 v = max(v(p1), 0)\n"
            "+ - 1\n"
            ".model dd d (is=1e-14)\n"
            "x1 o1 out buf\n"
            ".ends amp\n")
    cf = parse_cards(text, "amp.lib", allow_subckt=True)
    assert cf.subckts == ("amp",)
    assert "b1 o1 0 v = max(v(p1), 0) - 1" in cf.cards and cf.cards[-1] == ".ends amp"
    # the shipped op-amp library passes the same guard
    assert read_card_file(MODELS_DIR / "opamp.lib", allow_subckt=True).subckts == (
        "spicebar_opamp_vcvs", "spicebar_opamp")


def test_shipped_cards_pass_and_read_the_same():
    for lib in ("nmos_level1.lib", "nmos_bsim4.lib"):
        cf = read_card_file(MODELS_DIR / lib)
        assert len(cf.models) == 1 and cf.models[0].type == "nmos"
    name, params = read_model_card(str(MODELS_DIR / "nmos_level1.lib"))
    assert name == "nmos_l1" and params["kp"] == 387e-6 and params["lambda"] == 0.1


def test_spice_numbers():
    assert spice_number("1.5meg") == 1.5e6 and spice_number("20u") == 20e-6
    assert spice_number("3mil") == pytest.approx(76.2e-6, rel=1e-12)  # exact up to rounding
    assert spice_number("{x}") is None and spice_number("abc") is None


def test_comment_text_escapes_what_could_start_a_card():
    assert comment_text("evil\n.control\nshell rm -rf ~\n") == "evil%0A.control%0Ashell rm -rf ~%0A"
    assert comment_text("a\rb\x00c%\\d\u00e9") == "a%0Db%00c%25%5Cd%E9"
    assert comment_text("tile 3 (rev B)") == "tile 3 (rev B)"


def test_a_pmos_card_is_refused_for_the_access_transistor(tmp_path):
    (tmp_path / "p.lib").write_text(".model pm pmos (level=1 vto=-0.5 kp=1e-4)\n")
    with pytest.raises(SpecError, match="nmos"):
        TransistorCell(vg_on_volt=1.8, model=str(tmp_path / "p.lib"))


def _arrays(d: Path):
    np.save(d / "G.npy", np.full((2, 2), 1e-4))
    np.save(d / "V.npy", np.full((1, 2), 0.1))


@pytest.mark.parametrize("command", ["simulate", "generate"])
def test_cli_refuses_a_model_file_with_a_control_block(tmp_path, command):
    _arrays(tmp_path)
    (tmp_path / "card.lib").write_text(CARD + f".control\nshell touch {tmp_path}/pwned\n.endc\n")
    out = tmp_path / ("o.npz" if command == "simulate" else "o.cir")
    argv = [command, "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
            "--cell", "1t1r", "--vg-on", "1.8", "--mos-model", str(tmp_path / "card.lib"),
            "-o", str(out)] + (["--engine", "ngspice"] if command == "simulate" else [])
    code, _, err = run_main(argv)
    assert code == 2 and "card.lib line 2" in err and ".control" in err, err
    assert not out.exists() and not (tmp_path / "pwned").exists()


@pytest.mark.ngspice
def test_a_model_file_name_with_newlines_stays_a_comment(ngspice_ready, tmp_path):
    _arrays(tmp_path)
    evil = tmp_path / "x\n.control\nshell touch pwned\n.endc\n.lib"
    evil.write_text(CARD)
    code, _, err = run_main(["generate", "-G", str(tmp_path / "G.npy"), "--cell", "1t1r",
                             "--vg-on", "1.8", "--mos-model", str(evil), "-o", str(tmp_path / "o.cir")])
    assert code == 0, err
    text = (tmp_path / "o.cir").read_text()
    # the one control block is spicebar's own (it writes the job's answers): the file name's
    # ".control" stays inside a comment
    own = text.replace("%0A.control", "")
    assert own.count(".control") == 1 and "\nshell" not in text
    assert own.index(".control") > own.index(".dc ")  # after the array, before .end
    code, _, err = run_main(["simulate", "-G", str(tmp_path / "G.npy"), "-V", str(tmp_path / "V.npy"),
                             "--cell", "1t1r", "--vg-on", "1.8", "--mos-model", str(evil),
                             "--engine", "ngspice", "-o", str(tmp_path / "r.npz")])
    assert code == 0, err
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


SWEEP_WITH_CARDS = """
[sweep]
models = ["ideal"]
reference = "nodal"
[fixed]
size = 2
netlist_cards = [".control", "shell touch /tmp/x", ".endc"]
"""


def test_sweep_netlist_cards_need_trust():
    with pytest.raises(SpecError) as err:
        parse_sweep(tomllib.loads(SWEEP_WITH_CARDS))
    assert "netlist_cards" in str(err.value) and "trust_netlist_cards" in str(err.value)
    assert parse_sweep(tomllib.loads(SWEEP_WITH_CARDS), trust_netlist_cards=True).options.trust_netlist_cards
    trusted = SWEEP_WITH_CARDS.replace('reference = "nodal"', 'reference = "nodal"\ntrust_netlist_cards = true')
    assert len(parse_sweep(tomllib.loads(trusted)).points) == 1
    with pytest.raises(SpecError, match="one netlist line"):
        parse_sweep(tomllib.loads(trusted.replace('"shell touch /tmp/x"', '"a\\nb"')))


def test_sweep_model_files_pass_the_guard(tmp_path):
    (tmp_path / "card.lib").write_text(CARD + ".include /etc/passwd\n")
    text = ('[sweep]\nmodels = ["ideal"]\nreference = "nodal"\n[fixed]\nsize = 2\n'
            'cell = {kind = "1t1r", vg_on_volt = 1.8, model = "{here}/card.lib"}\n')
    with pytest.raises(SpecError) as err:
        parse_sweep(tomllib.loads(text), tmp_path)
    assert "card.lib line 2" in str(err.value) and "include" in str(err.value)


def test_cli_sweep_flag_trusts_cards(tmp_path):
    (tmp_path / "s.toml").write_text(SWEEP_WITH_CARDS)
    code, _, err = run_main(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "o")])
    assert code == 2 and "trust" in err and not (tmp_path / "o").exists()
