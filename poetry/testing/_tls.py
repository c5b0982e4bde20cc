"""
TLS on a L{MemoryNetwork}: the same transports, sockets and links, with
Twisted's own TLS protocol (C{twisted.protocols.tls}, pyOpenSSL over memory
BIOs) on top -- a binding of the layers, not a fake TLS.

  - L{listen_ssl} and L{connect_ssl} (the network's C{listenSSL} and
    C{connectSSL}, and a host reactor's through L{ReactorSSL}): as the real
    reactor's C{PosixReactorBase} makes them, a C{TLSMemoryBIOFactory}
    wrapping the application's factory over C{listenTCP}/C{connectTCP} --
    with the network as the factory's C{clock}, so that its write
    aggregation runs on the virtual clock and nothing lands on the global
    reactor;
  - L{start_tls}: C{ITLSTransport.startTLS} of a L{MemoryTransport},
    mirroring C{twisted.internet._newtls.startTLS} step for step (again with
    the network as the clock).  Once TLS is on, the transport's class is
    Twisted's own C{_newtls.ConnectionMixin} over the plain transport class:
    C{write}, C{writeSequence}, C{loseConnection}, C{registerProducer} and
    C{unregisterProducer} go through the TLS protocol, which writes its
    records through Twisted's own C{_BypassTLS} straight into the plain
    transport's buffer -- after any plaintext already buffered, as on the
    real reactor.  A plain connection never pays for any of it: its class has
    no TLS test in C{write};
  - for code that builds a C{TLSMemoryBIOFactory} without a clock
    (C{Agent} over C{https}, C{clientFromString(reactor, "tls:...")}),
    L{route_global_tls_clock<poetry.testing.route_global_tls_clock>} beside
    the global-reactor guard.

TLS needs pyOpenSSL, an optional extra (as Twisted's C{tls} extra): nothing
here imports it until TLS is used, and then a missing pyOpenSSL is an
C{ImportError} naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import TYPE_CHECKING, Any

from twisted.internet.interfaces import IReactorTime, ISSLTransport, ITLSTransport
from zope.interface import classImplements, directlyProvides

from poetry.testing._transport import MemoryTransport, _tls_layer

if TYPE_CHECKING:
    from twisted.internet.interfaces import IConnector, IListeningPort
    from twisted.internet.protocol import ClientFactory

__all__ = [
    "TLS_EXTRA",
    "ReactorSSL",
    "connect_ssl",
    "listen_ssl",
    "start_tls",
    "tls_available",
    "tls_factory",
]

TLS_EXTRA = (
    "TLS on a MemoryNetwork needs pyOpenSSL (Twisted's own TLS runs over the "
    "network): install the 'tls' extra, pip install "
    "'twisted-poetry-harness[tls]' (it brings pyOpenSSL, service-identity and "
    "idna, as Twisted's 'twisted[tls]' does)"
)
"""
The message of the C{ImportError} raised when TLS is used without pyOpenSSL.
"""


def tls_available() -> bool:
    """
    Whether pyOpenSSL can be imported (looked up, not imported).
    """
    return importlib.util.find_spec("OpenSSL") is not None


if tls_available():
    # As tcp.Connection: ITLSTransport where startTLS can work (pyOpenSSL).
    classImplements(MemoryTransport, ITLSTransport)


def _twisted_tls() -> ModuleType:
    """
    C{twisted.protocols.tls}, imported now.

    @raise ImportError: with L{TLS_EXTRA}, if pyOpenSSL is missing.
    """
    try:
        return importlib.import_module("twisted.protocols.tls")
    except ImportError as e:
        raise ImportError(TLS_EXTRA) from e


def tls_factory(
    contextFactory: object, isClient: bool, wrappedFactory: Any, clock: IReactorTime
) -> Any:
    """
    Twisted's L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
    with C{clock} as its clock.

    @raise ImportError: if pyOpenSSL is missing (naming the extra).
    """
    tls = _twisted_tls()
    return tls.TLSMemoryBIOFactory(
        contextFactory, isClient, wrappedFactory, clock=clock
    )


def listen_ssl(
    reactor: Any,
    port: int,
    factory: Any,
    contextFactory: object,
    backlog: int,
    interface: str,
) -> IListeningPort:
    """
    C{reactor.listenSSL}, as the real reactor's C{PosixReactorBase.listenSSL}:
    C{listenTCP} with a server
    L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
    wrapping C{factory} -- with C{reactor} as its clock.

    @raise ImportError: if pyOpenSSL is missing (naming the extra).
    """
    tlsFactory = tls_factory(contextFactory, False, factory, reactor)
    listening: Any = reactor.listenTCP(port, tlsFactory, backlog, interface)
    listening._type = "TLS"
    return listening  # type: ignore[no-any-return]  # listenTCP's result


def connect_ssl(
    reactor: Any,
    host: str,
    port: int,
    factory: Any,
    contextFactory: object,
    timeout: float,
    bindAddress: tuple[str, int] | None,
) -> IConnector:
    """
    C{reactor.connectSSL}, as the real reactor's
    C{PosixReactorBase.connectSSL}: C{connectTCP} with a client
    L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
    wrapping C{factory} -- with C{reactor} as its clock.

    @raise ImportError: if pyOpenSSL is missing (naming the extra).
    """
    tlsFactory = tls_factory(contextFactory, True, factory, reactor)
    connector: IConnector = reactor.connectTCP(
        host, port, tlsFactory, timeout, bindAddress
    )
    return connector


class ReactorSSL:
    """
    L{IReactorSSL<twisted.internet.interfaces.IReactorSSL>} over a
    reactor's own C{listenTCP} and C{connectTCP} (L{listen_ssl},
    L{connect_ssl}), for a reactor class to inherit.
    """

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: object,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """
        Listen on C{port} with TLS on top (see L{listen_ssl}).
        """
        return listen_ssl(self, port, factory, contextFactory, backlog, interface)

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: ClientFactory[Any],
        contextFactory: object,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """
        Connect to C{host}:C{port} with TLS on top (see L{connect_ssl}).
        """
        return connect_ssl(
            self, host, port, factory, contextFactory, timeout, bindAddress
        )


# -- startTLS ------------------------------------------------------------------

# plain transport class -> its class once TLS is on
_TLS_CLASSES: dict[type[MemoryTransport], type[MemoryTransport]] = {}


def _tls_class(plain: type[MemoryTransport]) -> type[MemoryTransport]:
    """
    The class of a C{plain} transport once TLS is on: Twisted's own
    C{_newtls.ConnectionMixin} in front of C{plain}, its C{TLS} flag true.
    """
    cls = _TLS_CLASSES.get(plain)
    if cls is None:
        from twisted.internet._newtls import ConnectionMixin

        cls = type(
            plain.__name__,
            (ConnectionMixin, plain),
            {
                "__slots__": (),
                "__module__": plain.__module__,
                "__qualname__": f"{plain.__qualname__} (TLS)",
                "__doc__": (
                    f"A L{{{plain.__name__}}} after C{{startTLS}}: Twisted's "
                    "C{_newtls.ConnectionMixin} routes the writes, the close "
                    "and the producers through the TLS protocol."
                ),
                "TLS": True,
                "startTLS": plain.startTLS,
                "_tls_plain": plain,
            },
        )
        _TLS_CLASSES[plain] = cls
    return cls


def start_tls(transport: MemoryTransport, contextFactory: object, normal: bool) -> None:
    """
    Add a TLS layer to C{transport}, as C{twisted.internet._newtls.startTLS}
    does on the real reactor, step for step -- with the network as the TLS
    factory's clock:

      1. the TLS side: C{transport}'s own (client end: client) if C{normal},
         else the other;
      2. a registered producer is unregistered (and registered again at the
         end, through the TLS layer);
      3. a L{TLSMemoryBIOFactory<twisted.protocols.tls.TLSMemoryBIOFactory>}
         (C{clock=} the network) builds the TLS protocol around the current
         protocol, which is not told of a new connection;
      4. the TLS protocol becomes C{transport.protocol};
         C{transport.getHandle} and C{getPeerCertificate} become the TLS
         protocol's; C{transport} provides L{ISSLTransport}; its class gains
         C{_newtls.ConnectionMixin} (the C{TLS} flag);
      5. the TLS protocol is connected to a C{_BypassTLS} over the plain
         transport class, so its records go straight into the transport's
         buffer -- after the plaintext already there -- and it starts the
         handshake (a client sends its C{ClientHello} now).

    @raise ImportError: if pyOpenSSL is missing (naming the extra).
    """
    tls = _twisted_tls()
    from twisted.internet._newtls import _BypassTLS

    client = transport._tlsClientDefault if normal else not transport._tlsClientDefault

    producer, streaming = None, None
    if transport.producer is not None:
        producer, streaming = transport.producer, transport.streamingProducer
        transport.unregisterProducer()

    tlsFactory = tls.TLSMemoryBIOFactory(
        contextFactory, client, None, clock=transport._loop
    )
    tlsProtocol = tlsFactory.protocol(tlsFactory, transport.protocol, False)
    transport.protocol = tlsProtocol

    # As Twisted: instance attributes, bound to this TLS protocol.
    transport.getHandle = tlsProtocol.getHandle  # type: ignore[method-assign]
    transport.getPeerCertificate = tlsProtocol.getPeerCertificate  # type: ignore[attr-defined]

    plain: type[MemoryTransport] = getattr(transport, "_tls_plain", type(transport))
    transport.__class__ = _tls_class(plain)
    directlyProvides(transport, ISSLTransport)

    bypass: Any = _BypassTLS(plain, transport)
    transport.protocol.makeConnection(bypass)

    if producer:
        transport.registerProducer(producer, bool(streaming))


_tls_layer["start"] = start_tls
