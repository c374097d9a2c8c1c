"""Share items (cases) among people (auditors) who each may take only some of them and
no more than their capacity: as many placed as possible, loads as even as possible.

A min-cost flow: a person's k-th item costs k, so the cheapest full placement is the one
with the smallest sum of squared loads (nobody gets a third case while an eligible
colleague has one).  Successive shortest paths with Dijkstra on reduced costs; a month's
few hundred cases and auditors take milliseconds.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence


class _Flow:
    def __init__(self, nodes: int) -> None:
        self.adjacent: list[list[int]] = [[] for _ in range(nodes)]
        self.to: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []

    def edge(self, a: int, b: int, cost: int) -> int:
        """A unit-capacity edge a → b (and its residual b → a); returns its index."""
        for frm, to, cap, c in ((a, b, 1, cost), (b, a, 0, -cost)):
            self.adjacent[frm].append(len(self.to))
            self.to.append(to)
            self.cap.append(cap)
            self.cost.append(c)
        return len(self.to) - 2

    def run(self, source: int, sink: int) -> None:
        """Push units from source to sink along cheapest paths until none is left."""
        n = len(self.adjacent)
        potential = [0] * n  # every cost starts non-negative
        while True:
            dist: list[float] = [float("inf")] * n
            via = [-1] * n
            dist[source] = 0
            heap = [(0.0, source)]
            while heap:
                d, v = heapq.heappop(heap)
                if d > dist[v]:
                    continue
                for e in self.adjacent[v]:
                    if self.cap[e] <= 0:
                        continue
                    w = self.to[e]
                    nd = d + self.cost[e] + potential[v] - potential[w]
                    if nd < dist[w]:
                        dist[w] = nd
                        via[w] = e
                        heapq.heappush(heap, (nd, w))
            if via[sink] < 0:
                return
            for v in range(n):
                if dist[v] < float("inf"):
                    potential[v] += int(dist[v])
            v = sink
            while v != source:
                e = via[v]
                self.cap[e] -= 1
                self.cap[e ^ 1] += 1
                v = self.to[e ^ 1]


def balanced_assignment(
    eligible: Sequence[Sequence[int]], capacity: Sequence[int], optional: Sequence[bool] | None = None
) -> list[int | None]:
    """For item i, the index of the person it goes to (one of ``eligible[i]``), or None
    when it cannot be placed.  Nobody gets more than ``capacity[p]`` items; as many items
    as possible are placed; among those placements, loads are as even as possible.
    When not every item can be placed, items marked ``optional`` are left out first."""
    items, people = len(eligible), len(capacity)
    source, sink = items + people, items + people + 1
    flow = _Flow(items + people + 2)
    choice: list[list[tuple[int, int]]] = []
    # An optional item costs more than any difference in balance: placing the others wins.
    penalty = items * items + 1
    for i, allowed in enumerate(eligible):
        flow.edge(source, i, penalty if optional and optional[i] else 0)
        choice.append([(flow.edge(i, items + p, 0), p) for p in allowed])
    for p, cap in enumerate(capacity):
        for k in range(1, min(cap, items) + 1):
            flow.edge(items + p, sink, k)
    flow.run(source, sink)
    return [next((p for e, p in edges if flow.cap[e] == 0), None) for edges in choice]
