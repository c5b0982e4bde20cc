"""
The files a release is made from: the license the metadata declares, and a
changelog whose news fragments towncrier can gather.
"""

from __future__ import annotations

import re
from pathlib import Path

import tomli
from twisted.trial.unittest import SynchronousTestCase

ROOT = Path(__file__).resolve().parents[2]

_FRAGMENT = re.compile(r"^(\d+|\+[\w-]+)\.(feature|bugfix|doc|removal|misc)(\.\d+)?$")


class ReleaseFileTests(SynchronousTestCase):
    """
    LICENSE, CHANGELOG.md and newsfragments/ agree with pyproject.toml.
    """

    def setUp(self) -> None:
        with (ROOT / "pyproject.toml").open("rb") as file:
            self.pyproject = tomli.load(file)

    def test_license(self) -> None:
        """
        The declared license is MIT, and LICENSE (shipped in both
        distributions) is the MIT license's text.
        """
        project = self.pyproject["project"]
        self.assertEqual(project["license"], "MIT")
        self.assertEqual(project["license-files"], ["LICENSE"])
        text = (ROOT / "LICENSE").read_text("utf-8")
        self.assertTrue(text.startswith("MIT License\n"), text[:40])
        self.assertIn("Permission is hereby granted, free of charge", text)

    def test_news_fragments(self) -> None:
        """
        Every file in newsfragments/ (but its README) is named
        C{ISSUE.TYPE} or C{ISSUE.TYPE.N} with a type towncrier knows, and
        holds some text.
        """
        towncrier = self.pyproject["tool"]["towncrier"]
        directory = ROOT / towncrier["directory"]
        fragments = [
            p for p in directory.iterdir() if p.name not in towncrier["ignore"]
        ]
        for fragment in fragments:
            self.assertRegex(fragment.name, _FRAGMENT)
            self.assertTrue(fragment.read_text("utf-8").strip(), fragment.name)

    def test_changelog(self) -> None:
        """
        The changelog has the marker towncrier writes each release under.
        """
        towncrier = self.pyproject["tool"]["towncrier"]
        text = (ROOT / towncrier["filename"]).read_text("utf-8")
        self.assertIn(towncrier["start_string"], text)
