"""
poetry: a deterministic in-memory protocol test harness for Twisted
(L{poetry.testing}), shipped with the poetry servers and clients it was built
to test (L{poetry.server}, L{poetry.client}, L{poetry.transform},
L{poetry.proxy}).
"""

__version__ = "0.1.0"
