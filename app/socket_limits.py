"""How many sockets and socket operations one client may hold in this process.

A socket costs a file descriptor and memory for as long as it is open, and a subscription
costs an execution per event: without caps, one client without a token held every file
descriptor of the process, and one HR token slowed every other company's requests. Each cap
is a setting; a socket over one is closed with ``TOO_MANY`` (both protocols), an operation
over one is answered with a typed error. And however many subscriptions there are, their
event deliveries take turns (``FanoutGate``, ``schema/shared_events.py``).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Hashable

from schema.shared_events import FanoutGate

TOO_MANY = 4429  # graphql-ws treats it as final: the client does not retry in a loop


class _Counts:
    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._held: Counter[Hashable] = Counter()

    def take(self, key: Hashable) -> bool:
        if self._held[key] >= self.cap:
            return False
        self._held[key] += 1
        return True

    def give_back(self, key: Hashable) -> None:
        self._held[key] -= 1
        if self._held[key] <= 0:
            del self._held[key]

    def held(self, key: Hashable) -> int:
        return self._held[key]


class SocketLimits:
    def __init__(self, *, per_address: int, per_user: int, operations_per_user: int, fanout_concurrency: int) -> None:
        self.sockets_by_address = _Counts(per_address)
        self.sockets_by_user = _Counts(per_user)
        self.operations_by_user = _Counts(operations_per_user)
        self.fanout = FanoutGate(fanout_concurrency)
        """Subscription deliveries (execution and send) at once in the process, whoever's they are."""

    def open_socket(self, address: str) -> bool:
        return self.sockets_by_address.take(address)

    def close_socket(self, address: str) -> None:
        self.sockets_by_address.give_back(address)

    def sign_in(self, user_id: uuid.UUID) -> bool:
        return self.sockets_by_user.take(user_id)

    def sign_out(self, user_id: uuid.UUID) -> None:
        self.sockets_by_user.give_back(user_id)

    def start_operation(self, user_id: uuid.UUID) -> bool:
        return self.operations_by_user.take(user_id)

    def end_operation(self, user_id: uuid.UUID) -> None:
        self.operations_by_user.give_back(user_id)
