"""
Unit tests: no sockets, no global reactor, no real time.

Importing this package installs the socket guard for the whole unit run.
"""

from tests import socket_guard

socket_guard.install()
