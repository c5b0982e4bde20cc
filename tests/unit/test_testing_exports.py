"""
The public surface of L{poetry.testing}: what C{__all__} names is what the
package exports, every export is documented, and the implementation stays in
private modules.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

from twisted.trial.unittest import SynchronousTestCase

import poetry.testing

#: The public modules of the package (the rest are private: C{_name}).
PUBLIC_MODULES = ("poetry.testing.pytest_plugin", "poetry.testing.strategies")


def public_attributes(module: types.ModuleType) -> set[str]:
    """
    The names a module shows without an underscore, modules excepted.
    """
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }


class ExportsTests(SynchronousTestCase):
    """
    C{poetry.testing.__all__} and the package's modules.
    """

    def test_allIsWhatThePackageShows(self) -> None:
        """
        C{__all__} names each public attribute of the package exactly once,
        and only those.
        """
        exported = poetry.testing.__all__
        self.assertEqual(len(exported), len(set(exported)))
        self.assertEqual(set(exported), public_attributes(poetry.testing))

    def test_everyExportDocumented(self) -> None:
        """
        Every exported class and function has a docstring (pydoctor builds the
        API reference from them).
        """
        undocumented = [
            name
            for name in poetry.testing.__all__
            if (
                inspect.isclass(value := getattr(poetry.testing, name))
                or inspect.isfunction(value)
            )
            and not (value.__doc__ or "").strip()
        ]
        self.assertEqual(undocumented, [])

    def test_everyExportInTheGuide(self) -> None:
        """
        The guide, C{docs/testing.md}, names every export, so that a reader
        of the guide meets the whole public API.
        """
        guide = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text(
            "utf-8"
        )
        missing = [
            name
            for name in poetry.testing.__all__
            if not re.search(rf"\b{re.escape(name)}\b", guide)
        ]
        self.assertEqual(missing, [])

    def test_implementationInPrivateModules(self) -> None:
        """
        Every exported class and function is defined in a private module of
        the package (the package's C{__init__} only re-exports), and every
        module of the package but the public ones is private.
        """
        misplaced = [
            f"{name} ({value.__module__})"
            for name in poetry.testing.__all__
            if (
                inspect.isclass(value := getattr(poetry.testing, name))
                or inspect.isfunction(value)
            )
            and not value.__module__.startswith("poetry.testing._")
        ]
        self.assertEqual(misplaced, [])
        modules = {
            f"poetry.testing.{info.name}"
            for info in pkgutil.iter_modules(poetry.testing.__path__)
        }
        public = {
            name for name in modules if not name.rsplit(".", 1)[1].startswith("_")
        }
        self.assertEqual(public, set(PUBLIC_MODULES))

    def test_publicModulesDeclareAll(self) -> None:
        """
        The public modules each have an C{__all__} that names only what they
        have, and every class and function they define without an
        underscore, each documented.
        """
        for name in PUBLIC_MODULES:
            module = importlib.import_module(name)
            exported = list(module.__all__)
            self.assertEqual(len(exported), len(set(exported)), name)
            self.assertEqual([a for a in exported if not hasattr(module, a)], [], name)
            defined = {
                attribute
                for attribute in public_attributes(module)
                if (
                    inspect.isclass(value := getattr(module, attribute))
                    or inspect.isfunction(value)
                )
                and value.__module__ == name
            }
            self.assertEqual(defined - set(exported), set(), name)
            for attribute in exported:
                value = getattr(module, attribute)
                if inspect.isclass(value) or inspect.isfunction(value):
                    self.assertTrue((value.__doc__ or "").strip(), attribute)
