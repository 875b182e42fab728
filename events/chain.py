"""The tamper-evident hash chain over the stored log.

Each stored event's link hash covers its position, its stored columns and the previous link,
so altering, removing, inserting or reordering any stored event breaks the chain from there on.
The head (count and last link) can be written down by an auditor and checked later.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Iterator, NamedTuple

GENESIS = "0" * 64


class StoredRow(NamedTuple):
    seq: int
    stream: str
    version: int
    topic: str
    state: bytes


def link(prev: str, row: StoredRow) -> str:
    h = hashlib.sha256()
    h.update(prev.encode())
    h.update(b"%d\n%s\n%d\n%s\n" % (row.seq, row.stream.encode(), row.version, row.topic.encode()))
    h.update(row.state)
    return h.hexdigest()


def links(prev: str, rows: Iterable[StoredRow]) -> Iterator[tuple[int, str]]:
    for row in rows:
        prev = link(prev, row)
        yield row.seq, prev


class ChainBroken(Exception):
    """A stored event does not match the chain."""

    def __init__(self, seq: int, problem: str):
        super().__init__(f"event #{seq}: {problem}")
        self.seq = seq
        self.problem = problem  # altered | removed | inserted | head_not_found


class Verified(NamedTuple):
    events: int
    head: str
    # seqs whose recording time is earlier than the entry before (a clock set back) or later
    # than the verifying machine's now (a clock that ran fast): reported, not a broken chain
    clock: tuple[int, ...] = ()


def verify(pairs: Iterable[tuple[int, StoredRow | None, str | None]], head: str | None = None) -> Verified:
    """Check the chain. `pairs` yields (seq, stored row or None, chain link or None) by seq.

    Raises ChainBroken naming the first bad event. With `head`, the log must still pass through
    that earlier head (so nothing before it was rewritten, even consistently).
    """
    prev = GENESIS
    count = 0
    head_seen = head is None or head == GENESIS
    for seq, row, stored_link in pairs:
        if row is None:
            raise ChainBroken(seq, "removed")
        if stored_link is None:
            raise ChainBroken(seq, "inserted")
        computed = link(prev, row)
        if computed != stored_link:
            raise ChainBroken(seq, "altered")
        prev = stored_link
        count += 1
        if not head_seen and prev == head:
            head_seen = True
    if not head_seen:
        raise ChainBroken(count, "head_not_found")
    return Verified(count, prev)
