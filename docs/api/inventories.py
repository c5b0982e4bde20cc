"""
Write the intersphinx inventories the API docs link through, without the
network (C{tox -e docs} runs this before pydoctor):

  - C{twisted.inv}: Twisted's, made by pydoctor itself from the installed
    Twisted (the tool and layout Twisted's published API docs use, so the
    links resolve at C{https://docs.twisted.org/en/stable/api/}); remade
    only when the installed Twisted's version changes;
  - C{python.inv}: the few standard-library names our docstrings link to,
    listed below, at C{https://docs.python.org/3/}.  A name missing here
    is an unresolved link, which fails the docs build: add it.

Usage: C{python docs/api/inventories.py DIRECTORY}
"""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

import twisted

PYTHON = {
    # name: (role, page and anchor under https://docs.python.org/3/)
    "None": ("py:data", "library/constants.html#None"),
    "True": ("py:data", "library/constants.html#True"),
    "False": ("py:data", "library/constants.html#False"),
    "bool": ("py:class", "library/functions.html#bool"),
    "bytes": ("py:class", "library/stdtypes.html#bytes"),
    "dict": ("py:class", "library/stdtypes.html#dict"),
    "float": ("py:class", "library/functions.html#float"),
    "int": ("py:class", "library/functions.html#int"),
    "list": ("py:class", "library/stdtypes.html#list"),
    "object": ("py:class", "library/functions.html#object"),
    "str": ("py:class", "library/stdtypes.html#str"),
    "tuple": ("py:class", "library/stdtypes.html#tuple"),
    "AssertionError": ("py:exception", "library/exceptions.html#AssertionError"),
    "AttributeError": ("py:exception", "library/exceptions.html#AttributeError"),
    "BrokenPipeError": ("py:exception", "library/exceptions.html#BrokenPipeError"),
    "Exception": ("py:exception", "library/exceptions.html#Exception"),
    "KeyError": ("py:exception", "library/exceptions.html#KeyError"),
    "LookupError": ("py:exception", "library/exceptions.html#LookupError"),
    "NotImplementedError": (
        "py:exception",
        "library/exceptions.html#NotImplementedError",
    ),
    "OSError": ("py:exception", "library/exceptions.html#OSError"),
    "RuntimeError": ("py:exception", "library/exceptions.html#RuntimeError"),
    "SystemExit": ("py:exception", "library/exceptions.html#SystemExit"),
    "TypeError": ("py:exception", "library/exceptions.html#TypeError"),
    "ValueError": ("py:exception", "library/exceptions.html#ValueError"),
    "argparse": ("py:module", "library/argparse.html#module-argparse"),
    "os.environ": ("py:data", "library/os.html#os.environ"),
    "random.Random": ("py:class", "library/random.html#random.Random"),
    "random.SystemRandom": ("py:class", "library/random.html#random.SystemRandom"),
}


def python_inventory() -> bytes:
    """
    The Sphinx (version 2) inventory of L{PYTHON}.
    """
    header = (
        b"# Sphinx inventory version 2\n"
        b"# Project: Python\n"
        b"# Version: 3\n"
        b"# The remainder of this file is compressed using zlib.\n"
    )
    lines = "".join(
        f"{name} {role} 1 {location} -\n"
        for name, (role, location) in sorted(PYTHON.items())
    )
    return header + zlib.compress(lines.encode("utf-8"))


def twisted_inventory(directory: Path) -> Path:
    """
    Make (unless made for this version) the inventory of the installed
    Twisted with pydoctor; return its path.
    """
    inventory = directory / "twisted" / "objects.inv"
    stamp = directory / "twisted" / "version"
    if (
        inventory.exists()
        and stamp.exists()
        and stamp.read_text() == twisted.__version__
    ):
        return inventory
    subprocess.run(
        [
            sys.executable,
            *("-m", "pydoctor", "--make-intersphinx", "--quiet", "--quiet"),
            *("--project-name", "Twisted", "--project-version", twisted.__version__),
            f"--html-output={inventory.parent}",
            str(Path(twisted.__file__).parent),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stamp.write_text(twisted.__version__)
    return inventory


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "python.inv").write_bytes(python_inventory())
    twisted_inventory(directory)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
