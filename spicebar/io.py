"""Reading user files at the CLI's edge: arrays (.npy, .csv) and bounded text files.

Every file a user names is opened only after :func:`regular_file` has checked it: it
exists, is a regular file (not a folder, FIFO, socket or device, so ``-G /dev/zero``
or a named pipe is refused instead of read forever) and is under a size bound.
"""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np

from .errors import InputFileError

READABLE = (".npy", ".csv", ".txt")

#: Largest array file read (bytes): 2 GiB holds a 16384x16384 float64 array. Beyond it
#: an input is refused before it is read (a link to /dev/zero would otherwise fill memory).
MAX_ARRAY_FILE_BYTES = 2 << 30
#: Largest text file read (model cards, sweep files), bytes.
MAX_TEXT_FILE_BYTES = 4 << 20
#: Largest ``.npy`` header (bytes) accepted: numpy's own headers are well under 4 kB;
#: an absurd header is refused before numpy parses it.
MAX_NPY_HEADER_BYTES = 1 << 16
#: Array dtypes read as numbers: bool and datetime/timedelta are not siemens or volts.
NUMERIC_KINDS = "iuf"


def regular_file(path: str | Path, parameter: str, max_bytes: int) -> Path:
    """``path`` as a Path, after checking it is a readable regular file of at most
    ``max_bytes`` bytes; InputFileError naming ``parameter`` otherwise. Symbolic links
    are followed (a link to a device is refused like the device)."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise InputFileError(parameter, f"file {str(p)!r} does not exist") from None
    except OSError as exc:
        raise InputFileError(parameter, f"cannot read {str(p)!r} ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputFileError(parameter, f"{str(p)!r} is a directory", "a regular file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file")
        raise InputFileError(parameter, f"{str(p)!r} is {kind}", "a regular file")
    if st.st_size > max_bytes:
        raise InputFileError(parameter, f"{str(p)!r} has {st.st_size} bytes",
                             f"at most {max_bytes} bytes")
    return p


def read_text_file(path: str | Path, parameter: str, max_bytes: int = MAX_TEXT_FILE_BYTES) -> str:
    """The UTF-8 text of a regular file of at most ``max_bytes`` bytes (see :func:`regular_file`)."""
    p = regular_file(path, parameter, max_bytes)
    try:
        with open(p, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise InputFileError(parameter, f"cannot read {str(p)!r} ({exc.strerror})") from None
    if len(data) > max_bytes:  # it grew after the check
        raise InputFileError(parameter, f"{str(p)!r} has more than {max_bytes} bytes",
                             f"at most {max_bytes} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(parameter, f"{str(p)!r} is not UTF-8 text (byte {exc.start})",
                             "a UTF-8 text file") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode bits of a new output file (what ``open`` would give under this process's umask).
OUTPUT_MODE = 0o666 & ~_umask()


@contextmanager
def atomic_output(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new content into, atomically: it is a temporary
    file in the same folder, flushed to disk and renamed over ``path`` only when the
    block ends without error. A failure (disk full, a kill, an exception) leaves the
    earlier ``path`` as it was and no temporary file behind. The name is used as given:
    no suffix is added (``r.NPZ`` is written as ``r.NPZ``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(fd, OUTPUT_MODE)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_output`; returns the path."""
    with atomic_output(path) as f:
        f.write(text.encode("utf-8"))
    return Path(path)


def _check_npy_header(p: Path, parameter: str) -> None:
    """Refuse a ``.npy`` whose header is absurd, before numpy parses it."""
    with open(p, "rb") as f:
        head = f.read(12)
    if len(head) < 10 or not head.startswith(b"\x93NUMPY"):
        raise InputFileError(parameter, f"{str(p)!r} is not a .npy file (no NUMPY magic)")
    major = head[6]
    size = (int.from_bytes(head[8:10], "little") if major == 1
            else int.from_bytes(head[8:12], "little") if major in (2, 3) and len(head) == 12 else -1)
    if not 0 < size <= MAX_NPY_HEADER_BYTES:
        raise InputFileError(parameter, f"{str(p)!r} has a .npy header of {size} bytes "
                             f"(format {major})", f"a header of at most {MAX_NPY_HEADER_BYTES} bytes")


def load_array(path: str | Path, parameter: str) -> np.ndarray:
    """Read a numeric array from ``.npy`` or ``.csv``/``.txt`` (comma or whitespace separated).

    Raises InputFileError naming ``parameter`` when the file is missing, not a regular
    file, larger than :data:`MAX_ARRAY_FILE_BYTES`, unreadable or not numeric (bool,
    datetime and timedelta arrays are refused: they are not siemens or volts).
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise InputFileError(parameter, f"file {str(p)!r} does not exist")
    if p.is_dir():
        raise InputFileError(parameter, f"{str(p)!r} is a directory", "a .npy or .csv file")
    suffix = p.suffix.lower()
    if suffix not in READABLE:
        raise InputFileError(parameter, f"file {str(p)!r} has suffix {suffix!r}", ", ".join(READABLE))
    regular_file(p, parameter, MAX_ARRAY_FILE_BYTES)
    try:
        if suffix == ".npy":
            _check_npy_header(p, parameter)
            arr = np.load(p, allow_pickle=False)
        else:
            text = read_text_file(p, parameter, MAX_ARRAY_FILE_BYTES)
            delimiter = "," if "," in text else None
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # an empty file is an error, not a warning
                arr = np.loadtxt(text.splitlines(), delimiter=delimiter, ndmin=2, dtype=float)
    except InputFileError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, UserWarning, MemoryError,
            SyntaxError, TypeError, OverflowError) as exc:
        raise InputFileError(parameter, f"cannot read {str(p)!r} ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else 'no detail'})") from None
    if not isinstance(arr, np.ndarray):
        raise InputFileError(parameter, f"{str(p)!r} holds no single array")
    if arr.dtype.kind not in NUMERIC_KINDS:
        raise InputFileError(parameter, f"{str(p)!r} holds {arr.dtype} values",
                             "integer or floating-point numbers")
    return arr


#: Largest ``.npz`` read back (a result file or sweep table), bytes.
MAX_NPZ_FILE_BYTES = 16 << 30


def read_npz(path: str | Path, parameter: str) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` file spicebar wrote, read whole, never unpickled.

    The one loader for result files and sweep tables: a missing, damaged or foreign file
    (text, a zip that is not an ``.npz``, pickled object arrays) is an
    :class:`~spicebar.errors.InputFileError` naming ``parameter`` and the file, never an
    internal error.
    """
    import zipfile
    p = regular_file(path, parameter, MAX_NPZ_FILE_BYTES)
    with open(p, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise InputFileError(parameter, f"{str(p)!r} is not an .npz file (no zip signature)",
                             "a .npz written by spicebar")
    try:
        with np.load(p, allow_pickle=False) as data:
            if not hasattr(data, "files"):
                raise ValueError("it holds a single array, not the arrays of an .npz")
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, MemoryError,
            TypeError, UnicodeDecodeError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "allow_pickle" in detail or "pickle" in detail.lower():
            detail = "it holds pickled Python objects, which spicebar never loads"
        raise InputFileError(parameter, f"{str(p)!r} is not an .npz file spicebar can read "
                             f"({detail})", "a .npz written by spicebar") from None
    bad = next((k for k, a in arrays.items() if a.dtype.kind not in "biufcUS"), None)
    if bad is not None:
        raise InputFileError(parameter, f"{str(p)!r} holds {arrays[bad].dtype} values in "
                             f"{bad!r}", "a .npz written by spicebar (numbers and text)")
    return arrays
