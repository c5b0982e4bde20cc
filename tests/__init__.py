"""
Tests for poetry: C{tests.unit} (no sockets, no global reactor, no real time)
and C{tests.integration} (the real reactor on 127.0.0.1, port 0).
"""
