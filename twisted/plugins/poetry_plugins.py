"""
twistd plugins for poetry: C{twistd -n poetry-server}, C{poetry-transform}
and C{poetry-proxy}.

This module is scanned by Twisted's plugin system every time C{twistd} looks
for plugins, so it stays small: the options and services live in
L{poetry._services} and are imported only when the plugin is used.  It is an
entry point, so it is where the global reactor is imported (inside
C{makeService}, once twistd has installed it).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from twisted.application.service import IService, IServiceMaker
from twisted.plugin import IPlugin
from twisted.python import usage
from zope.interface import implementer


@implementer(IServiceMaker, IPlugin)
class _PoetryServiceMaker:
    """
    A twistd plugin whose options and service come from L{poetry._services}.
    """

    def __init__(self, tapname: str, description: str, options: str, make: str) -> None:
        self.tapname = tapname
        self.description = description
        self._options = options
        self._make = make

    @property
    def options(self) -> type[usage.Options]:
        options: type[usage.Options] = getattr(
            import_module("poetry._services"), self._options
        )
        return options

    def makeService(self, options: usage.Options) -> IService:
        from twisted.internet import reactor

        make: Any = getattr(import_module("poetry._services"), self._make)
        service: IService = make(options, reactor)
        return service


poetry_server = _PoetryServiceMaker(
    "poetry-server",
    "A poetry server: serves a poem (fast, or slowly with --slow).",
    "ServerOptions",
    "make_server_service",
)
poetry_transform = _PoetryServiceMaker(
    "poetry-transform",
    "The poetry transform service (netstring requests NAME.POEM).",
    "TransformOptions",
    "make_transform_service",
)
poetry_proxy = _PoetryServiceMaker(
    "poetry-proxy",
    "A caching proxy for a poetry server, optionally transforming poems.",
    "ProxyOptions",
    "make_proxy_service",
)
