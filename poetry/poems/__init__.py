"""
The poems bundled with poetry: original verse written for this project.

Poems are package data, read as L{bytes} exactly as stored (UTF-8 text); decode
only at the edges.
"""

from __future__ import annotations

from importlib import resources

__all__ = ["UnknownPoem", "load", "names"]

_SUFFIX = ".txt"


class UnknownPoem(LookupError):
    """
    No bundled poem has the requested name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(
            f"no bundled poem named {name!r}; known poems: {', '.join(names())}"
        )
        self.name = name


def names() -> list[str]:
    """
    Return the names of the bundled poems, sorted.
    """
    return sorted(
        entry.name[: -len(_SUFFIX)]
        for entry in resources.files(__name__).iterdir()
        if entry.name.endswith(_SUFFIX)
    )


def load(name: str) -> bytes:
    """
    Return the bytes of the bundled poem C{name}.

    @raise UnknownPoem: if there is no such poem.
    """
    if name not in names():
        raise UnknownPoem(name)
    return resources.files(__name__).joinpath(name + _SUFFIX).read_bytes()
