"""An installed (non-editable) spicebar carries its model files."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_every_model_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path)], check=True,
                   capture_output=True, timeout=300)
    wheel, = tmp_path.glob("spicebar-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for card in (p for p in (ROOT / "models").rglob("*") if p.is_file()):
        rel = card.relative_to(ROOT / "models").as_posix()
        assert f"spicebar/_models/{rel}" in names, rel
    assert "spicebar/engines/ngspice/worker.py" in names
    # the packages are found, not listed: every module of every subpackage ships
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "spicebar").rglob("*.py")}
    assert sources <= names, sorted(sources - names)


def test_an_installed_copy_finds_its_model_files(tmp_path):
    """The package looks beside itself (spicebar/_models) when there is no checkout."""
    import shutil
    package = tmp_path / "spicebar"
    shutil.copytree(ROOT / "spicebar", package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "models", package / "_models")
    out = subprocess.run([sys.executable, "-c", "import spicebar.circuit.readout as r; "
                          "print(r.OPAMP_LIBRARY)"], cwd=tmp_path, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(tmp_path)})
    assert Path(out.stdout.strip()) == package / "_models" / "opamp.lib"
