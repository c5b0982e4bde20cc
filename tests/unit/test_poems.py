"""
Tests for L{poetry.poems}: the bundled poems, read as bytes.
"""

from __future__ import annotations

from twisted.trial.unittest import SynchronousTestCase

from poetry import poems


class PoemsTests(SynchronousTestCase):
    """
    Tests for L{poems.names} and L{poems.load}.
    """

    def test_atLeastThree(self) -> None:
        """
        At least three poems are bundled, listed sorted and without their
        file suffix.
        """
        names = poems.names()
        self.assertGreaterEqual(len(names), 3)
        self.assertEqual(names, sorted(names))
        for name in names:
            self.assertNotIn(".", name)

    def test_loadReturnsBytes(self) -> None:
        """
        Every poem loads as non-empty L{bytes}.
        """
        for name in poems.names():
            poem = poems.load(name)
            self.assertIsInstance(poem, bytes)
            self.assertTrue(poem.strip(), name)

    def test_allUTF8(self) -> None:
        """
        Every poem decodes as UTF-8.
        """
        for name in poems.names():
            poem = poems.load(name)
            self.assertEqual(poem.decode("utf-8").encode("utf-8"), poem)

    def test_oneMultibyte(self) -> None:
        """
        At least one poem contains multi-byte UTF-8 characters: it has fewer
        characters than bytes.
        """
        multibyte = [
            name
            for name in poems.names()
            if len(poems.load(name).decode("utf-8")) < len(poems.load(name))
        ]
        self.assertNotEqual(multibyte, [])

    def test_distinct(self) -> None:
        """
        The bundled poems are different poems.
        """
        texts = [poems.load(name) for name in poems.names()]
        self.assertEqual(len(set(texts)), len(texts))

    def test_unknownPoem(self) -> None:
        """
        An unknown name raises L{poems.UnknownPoem}, a L{LookupError} that
        names the poem and lists the known ones.
        """
        error = self.assertRaises(poems.UnknownPoem, poems.load, "no-such-poem")
        self.assertIsInstance(error, LookupError)
        self.assertEqual(error.name, "no-such-poem")
        for name in poems.names():
            self.assertIn(name, str(error))

    def test_onlyPoemsAreLoadable(self) -> None:
        """
        Only the listed poems can be loaded: not the package's other files,
        a name with the suffix, or a path outside the package.
        """
        for name in ("__init__", "__init__.py", "../server", "/etc/passwd", ""):
            self.assertRaises(poems.UnknownPoem, poems.load, name)
        first = poems.names()[0]
        self.assertRaises(poems.UnknownPoem, poems.load, first + ".txt")
