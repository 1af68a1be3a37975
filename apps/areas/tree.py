"""Pure tree arithmetic for areas (no ORM): ancestors and subtrees from a parent map."""

from collections import defaultdict
from uuid import UUID


def subtree_ids(parent_of: dict[UUID, UUID | None], root: UUID) -> list[UUID]:
    """`root` and everything below it, parents before children."""
    children = defaultdict(list)
    for node, parent in parent_of.items():
        if parent is not None:
            children[parent].append(node)
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(sorted(children[node], reverse=True))
    return order


def ancestors(parent_of: dict[UUID, UUID | None], node: UUID) -> list[UUID]:
    """Every containing node, nearest first."""
    chain, current = [], parent_of.get(node)
    while current is not None:
        chain.append(current)
        current = parent_of.get(current)
    return chain
