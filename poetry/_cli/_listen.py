"""
Listening for the server commands: open every requested port or none,
report each actual address, and close them all on shutdown.
"""

from __future__ import annotations

from collections.abc import Sequence

from twisted.internet.defer import Deferred, gatherResults, maybeDeferred
from twisted.internet.endpoints import serverFromString
from twisted.internet.interfaces import IListeningPort, IProtocolFactory, IReactorTCP
from twisted.logger import Logger
from twisted.python.failure import Failure

from poetry._cli._context import Context, format_address

__all__ = ["ListenFailed", "listen_all", "serve_until_shutdown", "stop_all"]

_log = Logger()


class ListenFailed(Exception):
    """
    A port could not be opened.

    @ivar description: the endpoint description.
    @ivar reason: why.
    """

    def __init__(self, description: str, reason: Failure) -> None:
        super().__init__(f"cannot listen on {description}: {reason.getErrorMessage()}")
        self.description = description
        self.reason = reason


def stop_all(ports: Sequence[IListeningPort]) -> Deferred[None]:
    """
    Stop listening on every port; fires when all are closed.
    """
    stopped = [maybeDeferred(port.stopListening) for port in ports]
    return gatherResults(stopped).addCallback(lambda _: None)


async def listen_all(
    reactor: IReactorTCP,
    specs: Sequence[tuple[str, IProtocolFactory]],
) -> list[IListeningPort]:
    """
    Listen on each C{(endpoint description, factory)} in turn.

    @return: the listening ports, in the order given.
    @raise ListenFailed: if one cannot be opened; those already opened are
        closed first.
    """
    ports: list[IListeningPort] = []
    for description, factory in specs:
        endpoint = serverFromString(reactor, description)
        try:
            port: IListeningPort = await endpoint.listen(factory)
        except Exception:
            failure = Failure()
            await stop_all(ports)
            raise ListenFailed(description, failure) from None
        ports.append(port)
    return ports


async def serve_until_shutdown(
    reactor: IReactorTCP,
    context: Context,
    specs: Sequence[tuple[str, str, IProtocolFactory]],
) -> int:
    """
    The body of every server command: listen on each C{(what, endpoint
    description, factory)}, print C{poetry: serving WHAT on ADDRESS} for each
    (C{ADDRESS} is the actual one, with the port a C{0} got), then keep
    serving until shutdown, when every port is closed.

    @return: the exit status: C{0} after a clean shutdown, C{1} if a port
        could not be opened (with an error line on standard error).
    """
    try:
        ports = await listen_all(reactor, [(desc, fac) for _, desc, fac in specs])
    except ListenFailed as error:
        context.error(f"poetry: error: {error}")
        return 1
    stopped: Deferred[None] = Deferred()

    def shut_down() -> Deferred[None]:
        _log.info("Shutting down: closing {count} port(s)", count=len(ports))
        closing = stop_all(ports)

        def closed(result: object) -> object:
            stopped.callback(None)
            return result

        return closing.addBoth(closed)

    context.on_shutdown(shut_down)
    for (what, _, _), port in zip(specs, ports, strict=True):
        address = format_address(port.getHost())
        _log.info("Serving {what} on {address}", what=what, address=address)
        context.say(f"poetry: serving {what} on {address}")
    await stopped
    return 0
