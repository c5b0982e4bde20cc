"""
Tests for L{tests.socket_guard}: the unit run may not open sockets.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable
from types import GeneratorType
from typing import Any

from twisted.python.failure import Failure
from twisted.trial.reporter import TestResult
from twisted.trial.unittest import SynchronousTestCase

from tests import socket_guard
from tests.socket_guard import SocketForbidden

_ATTEMPTS: dict[str, Callable[[], object]] = {
    "socket.socket()": lambda: socket.socket(),
    "socket.socket(AF_INET, SOCK_STREAM)": lambda: socket.socket(
        socket.AF_INET, socket.SOCK_STREAM
    ),
    "socket.create_connection()": lambda: socket.create_connection(("127.0.0.1", 9)),
    "socket.socketpair()": lambda: socket.socketpair(),
    "socket.fromfd()": lambda: socket.fromfd(0, socket.AF_INET, socket.SOCK_STREAM),
    "socket.create_server()": lambda: socket.create_server(("127.0.0.1", 0)),
}


class SocketGuardTests(SynchronousTestCase):
    """
    The guard installed by C{tests.unit} makes every way of creating a
    socket raise L{SocketForbidden} and log it as an error.
    """

    def test_installedForUnitRun(self) -> None:
        """
        Importing C{tests.unit} installed the guard.
        """
        self.assertTrue(socket_guard.installed())

    def _assertForbidden(self, name: str) -> None:
        error = self.assertRaises(SocketForbidden, _ATTEMPTS[name])
        self.assertIn("must not open sockets", str(error))
        flushed = self.flushLoggedErrors(SocketForbidden)
        self.assertEqual(len(flushed), 1)
        self.assertIs(flushed[0].value, error)

    def test_socket(self) -> None:
        """
        C{socket.socket()} raises L{SocketForbidden}, and the attempt is
        logged as an error (so trial fails the test even if the caller
        swallows the exception).
        """
        self._assertForbidden("socket.socket()")

    def test_socketWithArguments(self) -> None:
        """
        C{socket.socket(AF_INET, SOCK_STREAM)} is forbidden just the same.
        """
        self._assertForbidden("socket.socket(AF_INET, SOCK_STREAM)")

    def test_createConnection(self) -> None:
        """
        C{socket.create_connection} raises L{SocketForbidden} and logs it.
        """
        self._assertForbidden("socket.create_connection()")

    def test_socketpair(self) -> None:
        """
        C{socket.socketpair} raises L{SocketForbidden} and logs it.
        """
        self._assertForbidden("socket.socketpair()")

    def test_fromfd(self) -> None:
        """
        C{socket.fromfd} raises L{SocketForbidden} and logs it.
        """
        self._assertForbidden("socket.fromfd()")

    def test_createServer(self) -> None:
        """
        C{socket.create_server}, which builds its socket through
        C{socket.socket}, is caught too.
        """
        self._assertForbidden("socket.create_server()")

    def test_installIdempotent(self) -> None:
        """
        Installing again changes nothing: the originals remembered are still
        the real constructors, so uninstalling restores them.
        """
        guarded = socket.socket
        socket_guard.install()
        self.assertIs(socket.socket, guarded)
        self.assertTrue(socket_guard.installed())

    def test_uninstallRestores(self) -> None:
        """
        C{uninstall} puts back exactly the constructors that were there, and
        C{install} guards them again.  (No socket is created while the guard
        is down.)
        """
        guarded = {name: getattr(socket, name) for name in _GUARDED}
        for name in _GUARDED:
            self.assertEqual(guarded[name].__module__, "tests.socket_guard", name)
        self.addCleanup(socket_guard.install)
        socket_guard.uninstall()
        self.assertFalse(socket_guard.installed())
        restored = {name: getattr(socket, name) for name in _GUARDED}
        for name in _GUARDED:
            self.assertEqual(restored[name].__module__, "socket", name)
            self.assertEqual(restored[name].__name__, name)
        self.assertTrue(issubclass(restored["socket"], socket.SocketType))
        socket_guard.install()
        self.assertTrue(socket_guard.installed())
        self.assertEqual({name: getattr(socket, name) for name in _GUARDED}, guarded)


_GUARDED = ("socket", "socketpair", "fromfd", "create_connection")


class WhoIsForbiddenTests(SynchronousTestCase):
    """
    The guard forbids a socket when unit-test code is on the stack that
    creates it, and only then, so that integration tests run in the same
    process (C{trial tests}) still get their sockets.
    """

    def test_unitTestOnStack(self) -> None:
        """
        Any frame of a C{tests.unit} module on the stack makes it a unit
        test's socket: the current one, or one further down.
        """
        self.assertTrue(socket_guard._made_by_unit_test(sys._getframe()))
        namespace: dict[str, Any] = {"__name__": "poetry.elsewhere"}
        exec("def call(f):\n    return f()\n", namespace)
        frame = namespace["call"](sys._getframe)
        self.assertEqual(frame.f_globals["__name__"], "poetry.elsewhere")
        self.assertTrue(socket_guard._made_by_unit_test(frame))

    def test_noUnitTestOnStack(self) -> None:
        """
        A stack with no C{tests.unit} frame -- here, a suspended generator's
        frame from another module, which links to no caller -- is not a
        unit test's; neither is a module merely named like the package.
        """
        for name in ("tests.integration.test_x", "tests.unittest_x"):
            namespace: dict[str, Any] = {"__name__": name}
            exec("def gen():\n    yield\n", namespace)
            suspended: GeneratorType[None, None, None] = namespace["gen"]()
            next(suspended)
            frame = suspended.gi_frame
            assert frame is not None
            self.assertIsNone(frame.f_back)
            self.assertFalse(socket_guard._made_by_unit_test(frame))
        self.assertFalse(socket_guard._made_by_unit_test(None))


class _Inner:
    """
    Inner test cases, run by L{GuardFailsTestsTests} under their own
    L{TestResult}.  Nested in a plain class so that trial does not collect
    them as tests of this module.
    """

    class Swallows(SynchronousTestCase):
        def test_swallow(self) -> None:
            try:
                socket.socket()
            except SocketForbidden as e:
                _caught.append(e)

        def test_propagate(self) -> None:
            socket.create_connection(("127.0.0.1", 9))

        def test_noSocket(self) -> None:
            _caught.append(ValueError("no socket here"))


# What the inner tests caught; reset by GuardFailsTestsTests.setUp.
_caught: list[BaseException] = []


class GuardFailsTestsTests(SynchronousTestCase):
    """
    A unit test that tries to open a socket is reported as failed, even if
    it swallows the exception: proven by running tiny inner tests and looking
    at their results.
    """

    def setUp(self) -> None:
        del _caught[:]

    def _runInner(self, method: str) -> TestResult:
        result = TestResult()
        _Inner.Swallows(method).run(result)
        return result

    def test_swallowedAttemptStillErrors(self) -> None:
        """
        A test that catches L{SocketForbidden} and carries on is still
        reported as an error, because the guard logged it.
        """
        result = self._runInner("test_swallow")
        self.assertEqual(len(_caught), 1)
        self.assertIsInstance(_caught[0], SocketForbidden)
        self.assertFalse(result.wasSuccessful())
        self.assertEqual(len(result.errors), 1)
        [(_, failure)] = result.errors
        assert isinstance(failure, Failure)
        self.assertTrue(failure.check(SocketForbidden))
        self.assertEqual(result.successes, 0)

    def test_propagatedAttemptErrors(self) -> None:
        """
        A test that lets L{SocketForbidden} propagate is reported as an
        error, with nothing but L{SocketForbidden} among its errors.
        """
        result = self._runInner("test_propagate")
        self.assertFalse(result.wasSuccessful())
        self.assertGreaterEqual(len(result.errors), 1)
        for _, failure in result.errors:
            assert isinstance(failure, Failure)
            self.assertTrue(failure.check(SocketForbidden))
        self.assertEqual(result.successes, 0)

    def test_innerRunWorks(self) -> None:
        """
        Control: an inner test that opens no socket passes under the same
        harness, so the failures above come from the guard.
        """
        result = self._runInner("test_noSocket")
        self.assertTrue(result.wasSuccessful())
        self.assertEqual((result.successes, result.errors), (1, []))
        self.assertEqual(len(_caught), 1)
