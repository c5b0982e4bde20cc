"""
The scenario drawn in C{docs/testing.md} (C{docs/trace-example.svg}): two
clients ask the caching proxy for a poem; the proxy fetches it once from an
upstream server that sends two chunks and then resets the connection; the
proxy aborts both waiting clients.

Regenerate the picture (and check the Mermaid text in the guide) with::

    python -m tests.unit.diagram_example

C{tests.unit.test_testing_diagram.DocumentPictureTests} fails if the
committed picture differs from what this module draws.
"""

from __future__ import annotations

import sys
from pathlib import Path

from twisted.internet.address import IPv4Address
from twisted.python.failure import Failure

from poetry.client import get_poetry
from poetry.proxy import PoetryProxyFactory
from poetry.testing import (
    MemoryNetwork,
    Script,
    ScriptedPeer,
    TraceSnapshot,
    trace_diagram,
)

__all__ = ["PICTURE", "ask", "draw", "scenario"]

PICTURE = Path(__file__).parents[2] / "docs" / "trace-example.svg"

POEM = b"Once upon a midnight dreary, while I pondered, weak and weary,\n"


def ask(net: MemoryNetwork, host: str, port: int, outcomes: list[object]) -> None:
    """
    A client on C{host} asks the proxy for the poem.
    """
    get_poetry(net.host(host), "proxy", port).addBoth(outcomes.append)


def scenario() -> TraceSnapshot:
    """
    Run the scenario on a network with a fixed seed; return the snapshot of
    its trace taken before the proxy stops listening (so that the proxy's
    lifeline is named by its protocol).
    """
    net = MemoryNetwork(2024)
    net.add_host("upstream", "10.0.0.2")
    net.add_host("proxy", "10.0.0.3")
    upstream = ScriptedPeer.listen(
        net.host("upstream"),
        Script().drip(POEM[:20], size=10, interval=0.5).wait(0.5).reset(),
        name="upstream",
    )
    factory = PoetryProxyFactory(net.host("proxy"), "upstream", upstream.port_number)
    proxy = net.host("proxy").listenTCP(0, factory)
    address = proxy.getHost()
    assert isinstance(address, IPv4Address)
    outcomes: list[object] = []
    net.callLater(0.0, ask, net, "10.0.1.1", address.port, outcomes)
    net.callLater(0.2, ask, net, "10.0.1.2", address.port, outcomes)
    net.run()
    snapshot = TraceSnapshot.of(net)
    proxy.stopListening()
    net.run()  # the port closes in the next iteration, as on the real reactor
    net.assert_clean()
    upstream.assert_done()
    if len(outcomes) != 2 or not all(isinstance(o, Failure) for o in outcomes):
        raise AssertionError(f"both clients should have failed: {outcomes!r}")
    return snapshot


def draw(format: str = "svg") -> str:
    """
    The scenario's diagram (without the listen and stop-listening notes).
    """
    return trace_diagram(scenario(), format, omit={"listen", "stop-listening"})


def main(argv: list[str]) -> int:
    """
    Write the picture (or to the path given).
    """
    target = Path(argv[0]) if argv else PICTURE
    target.write_text(draw("svg"), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
