"""Whether the Ray services a search cannot do without are still there, known in about a second.

A search's driver needs two Ray processes: the GCS on the head node (every actor call, every
placement) and the raylet of the node it is connected to (its object store). When either dies, Ray
itself notices only when the GCS has missed that node's heartbeats (10 s or more), and it then ends
the driver from its C++ core (exit 1, no Python exception) the next time the driver needs the dead
process, up to a minute later. So the executor asks, about once a second while it waits for results,
whether each of the two still accepts connections on its gRPC port: a refused (or unanswered)
connection a few times in a row means the process is gone. Their addresses come from Ray's API
(``RuntimeContext.gcs_address``; the driver's node in ``ray.nodes()``); nothing reads Ray's logs.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from dataclasses import dataclass

import ray

log = logging.getLogger(__name__)

CHECK_SECONDS = 1.0  # how often the executor checks while it waits
_PROBE_SECONDS = 1.0  # how long one connection attempt may take (a remote head that stopped answering)
_STRIKES = 3  # failed probes in a row before a service counts as gone (a GCS restarting survives them)


@dataclass(frozen=True)
class Endpoint:
    """A Ray service the driver needs, by what a user would call it and where it listens."""

    what: str
    host: str
    port: int

    def answers(self) -> bool:
        """Whether something accepts a TCP connection on the service's port."""
        try:
            with socket.create_connection((self.host, self.port), timeout=_PROBE_SECONDS):
                return True
        except OSError:  # refused (nothing listens: the process died), unreachable or timed out
            return False


class ClusterWatch:
    """Probes the endpoints at most every ``interval`` seconds; :meth:`lost` says which one is gone."""

    def __init__(
        self, endpoints: list[Endpoint], interval: float = CHECK_SECONDS, strikes: int = _STRIKES
    ) -> None:
        self.endpoints = endpoints
        self.interval = interval
        self.strikes = strikes
        self._failed = dict.fromkeys(range(len(endpoints)), 0)
        self._next = 0.0

    @classmethod
    def connected(cls) -> ClusterWatch:
        """A watch over the GCS and this driver's raylet of the Ray session that is connected; one
        without endpoints (never lost) when Ray does not say where they are (a Ray Client session)."""
        endpoints: list[Endpoint] = []
        with contextlib.suppress(Exception):  # no address to probe: this watch stays quiet
            host, port = ray.get_runtime_context().gcs_address.rsplit(":", 1)
            endpoints.append(Endpoint("the Ray head node (its GCS)", host, int(port)))
            own = ray.get_runtime_context().get_node_id()
            node = next(node for node in ray.nodes() if node["NodeID"] == own)
            address = node["NodeManagerAddress"]
            endpoints.append(
                Endpoint(f"this machine's Ray node {address} (its raylet)", address, node["NodeManagerPort"])
            )
        if len(endpoints) < 2:
            log.debug("the Ray session's services cannot all be probed: %s", endpoints)
        return cls(endpoints)

    def lost(self, *, now: bool = False) -> str | None:
        """What is gone (``"the Ray head node (its GCS) at host:port stopped answering"``), else None.
        Probes only when ``interval`` has passed since the last time, unless ``now``; with ``now`` a
        failing service is probed again (``interval`` apart) until it answers or has failed
        ``strikes`` times, so that a dead worker can be told from a dead cluster before it is replaced."""
        if not now and time.monotonic() < self._next:
            return None
        while True:
            self._next = time.monotonic() + self.interval
            for index, endpoint in enumerate(self.endpoints):
                self._failed[index] = 0 if endpoint.answers() else self._failed[index] + 1
                if self._failed[index] >= self.strikes:
                    return f"{endpoint.what} at {endpoint.host}:{endpoint.port} stopped answering"
            if not (now and any(self._failed.values())):
                return None
            time.sleep(self.interval)
