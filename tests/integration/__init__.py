"""
Integration tests: the real reactor, C{listenTCP(0, interface="127.0.0.1")},
everything cleaned up so that trial's dirty-reactor check means something.
"""
