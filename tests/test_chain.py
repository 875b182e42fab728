"""The hash chain catches every change made to the stored log behind careterm's back.

Each test builds a small real history, then edits the real database with plain SQL (as someone
with a database client could) and checks that Store.verify names the first bad event.

Since the store is encrypted (events.keys), a forger without the key can no longer edit an
event's JSON: the edits here are to the stored (encrypted) bytes, which is what the chain covers.
`verify(url, key=False)` checks the chain alone, as someone without the key file would.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from events import chain
from events import commands as C
from events.chain import ChainBroken
from events.service import Service
from events.store import StoreDamaged, Store

from helpers import TODAY, RawDB, ctx, setup_school


@pytest.fixture
def history(store_url) -> str:
    """A store with 12 events: a school, two teachers, two pupils, a pairing and contacts."""
    with Store(store_url, create=True) as store:
        service = Service(store)
        setup_school(service, staff=["t1", "t2"], pupils=["p1", "p2"])
        service.execute(lambda s: C.pair(s, ctx(dt.date(2025, 9, 2)), "t1", "p1"))
        for day in (3, 4, 5, 6, 7):
            service.execute(lambda s, d=day: C.contact(s, ctx(dt.date(2025, 9, d)), "p1", kind="talk", by="t1"))
        assert store.head() == 12
    return store_url


def verify(url: str, head: str | None = None, *, key: bool = True) -> chain.Verified:
    with Store(url, key_file=None if key else "/nonexistent/careterm.key") as store:
        return store.verify(head)


def other_bytes(state: bytes) -> bytes:
    """The stored value with one byte of its ciphertext changed (what a forger can do)."""
    changed = bytearray(state)
    changed[len(changed) // 2] ^= 0x20
    return bytes(changed)


def broken(url: str, head: str | None = None) -> ChainBroken:
    with pytest.raises(ChainBroken) as info:
        verify(url, head)
    return info.value


def test_untouched_store_verifies(history):
    result = verify(history)
    assert result.events == 12
    assert len(result.head) == 64
    assert verify(history, result.head) == result  # the log extends its own head
    with RawDB(history) as db:
        links = db.links()
    assert sorted(links) == list(range(1, 13))
    assert result.head == links[12]


def test_empty_store_verifies(store_url):
    with Store(store_url, create=True) as store:
        assert store.verify() == chain.Verified(0, chain.GENESIS)


def test_altered_state(history):
    with RawDB(history) as db:
        row = db.row(9)
        db.set_state(9, db.row(10).state)  # another contact's content (same type) in its place
        assert db.row(9).state != row.state
    e = broken(history)
    assert (e.seq, e.problem) == (9, "altered")
    assert "#9" in str(e)


def test_altered_by_one_byte(history):
    with RawDB(history) as db:
        state = bytearray(db.row(10).state)
        state[-2] ^= 1
        db.set_state(10, bytes(state))
    assert (broken(history).seq, broken(history).problem) == (10, "altered")


def test_altered_stream_or_topic(history):
    with RawDB(history) as db:
        db.sql("UPDATE {events} SET topic = 'PairingEnded' WHERE {seq} = ?", (7,))  # the pairing, now an end
    e = broken(history)
    assert (e.seq, e.problem) == (7, "altered")
    with RawDB(history) as db:
        db.sql("UPDATE {events} SET topic = 'PairingAssigned', originator_id = 's1/pupil/p2' WHERE {seq} = ?", (7,))
    e = broken(history)
    assert (e.seq, e.problem) == (7, "altered")


def test_removed_middle_event(history):
    with RawDB(history) as db:
        db.delete(6)
    e = broken(history)
    assert (e.seq, e.problem) == (6, "removed")


def test_removed_last_event(history):
    with RawDB(history) as db:
        db.delete(12)
    e = broken(history)
    assert (e.seq, e.problem) == (12, "removed")


def test_removed_event_and_its_link(history):
    """Deleting a row and its link too: the next event no longer follows from the previous one."""
    with RawDB(history) as db:
        db.delete(6)
        db.delete_link(6)
    e = broken(history)
    # seqs may have gaps (PostgreSQL sequences), so the gap itself is not evidence: the break
    # shows at the next event, whose link was computed from the removed one's
    assert (e.seq, e.problem) == (7, "altered")


def test_truncated_tail_is_caught_by_the_head(history):
    """Removing the last events with their links leaves a consistent chain: an auditor's head
    catches it, and so does the store's own head of the school (it still says 12, the log ends
    at 10; before issue 11 this passed `verify` and wedged every later write)."""
    head = verify(history).head
    with RawDB(history) as db:
        for seq in (11, 12):
            db.delete(seq)
            db.delete_link(seq)
    with pytest.raises(StoreDamaged) as damaged:
        verify(history)
    assert damaged.value.part == "heads"
    e = broken(history, head)
    assert e.problem == "head_not_found"
    assert e.seq == 10


def test_inserted_forged_event(history):
    """A forged row appended with no link."""
    with RawDB(history) as db:
        good = db.row(12)
        forged = other_bytes(good.state)
        db.insert(13, good.stream, good.version + 1, good.topic, forged)
    e = broken(history)
    assert (e.seq, e.problem) == (13, "inserted")


def test_inserted_forged_event_in_a_gap(history):
    """A forged row placed in a gap of the seqs (after removing a real one and its link)."""
    with RawDB(history) as db:
        real = db.row(6)
        db.delete(6)
        db.delete_link(6)
        db.insert(6, real.stream, real.version, real.topic, other_bytes(real.state))
    e = broken(history)
    assert (e.seq, e.problem) == (6, "inserted")


def test_forged_event_with_a_forged_link_at_the_end(history):
    """Appending a row with a correctly computed link is what careterm itself does: the chain
    alone cannot tell it from a real one, but the store's own writes go on from it consistently,
    and an auditor's head still passes (it is a prefix). What does catch it: the school's head in
    the store still says 12 (StoreDamaged "heads"); and if the forger moved that too, the key:
    the copied content says it is version 6 of its stream, the row says 7 ("forged"). Without
    the key the chain alone passes (before encryption this passed `verify` with the key too)."""
    head = verify(history).head
    with RawDB(history) as db:
        good = db.row(12)
        row = chain.StoredRow(13, good.stream, good.version + 1, good.topic, good.state)
        db.insert(*row)
        db.insert_link(13, chain.link(db.links()[12], row))
    with pytest.raises(StoreDamaged) as damaged:
        verify(history, head)
    assert damaged.value.part == "heads"
    with RawDB(history) as db:
        db.sql("UPDATE careterm_heads SET position = 13")
    assert verify(history, head, key=False).events == 13
    e = broken(history, head)
    assert (e.seq, e.problem) == (13, "forged")


def test_swapped_events(history):
    """Two events' contents swapped: the order of the log changed."""
    with RawDB(history) as db:
        db.swap(8, 10)
        assert db.row(8).version == 5 and db.row(10).version == 3
    e = broken(history)
    assert (e.seq, e.problem) == (8, "altered")


def test_swapped_neighbours(history):
    with RawDB(history) as db:
        db.swap(2, 3)
    e = broken(history)
    assert (e.seq, e.problem) == (2, "altered")


def test_links_swapped(history):
    with RawDB(history) as db:
        links = db.links()
        db.sql("UPDATE {chain} SET hash = ? WHERE id = ?", (links[5], 4))
        db.sql("UPDATE {chain} SET hash = ? WHERE id = ?", (links[4], 5))
    e = broken(history)
    assert (e.seq, e.problem) == (4, "altered")


def test_earlier_head_passes_after_more_writes(history):
    earlier = verify(history)
    with Store(history) as store:
        service = Service(store)
        service.execute(lambda s: C.contact(s, ctx(TODAY), "p2", kind="talk"))
        service.execute(lambda s: C.pair(s, ctx(TODAY), "t2", "p2"))
    now = verify(history, earlier.head)
    assert now.events == 14
    assert now.head != earlier.head
    assert verify(history, chain.GENESIS).events == 14


def test_unknown_head_fails(history):
    e = broken(history, "f" * 64)
    assert (e.seq, e.problem) == (12, "head_not_found")


def test_consistent_rewrite_is_caught_by_an_earlier_head(history):
    """Alter an early event and recompute the whole chain: the chain is consistent again, but it
    no longer passes through a head written down after that event."""
    with RawDB(history) as db:
        head_at_8 = db.links()[8]
        head_at_3 = db.links()[3]
        row = db.row(5)
        db.set_state(5, other_bytes(row.state))
        db.rechain()
    result = verify(history, key=False)  # consistent: the chain alone cannot see it
    assert result.events == 12
    with pytest.raises(ChainBroken) as info:
        verify(history, head_at_8, key=False)
    assert (info.value.seq, info.value.problem) == (12, "head_not_found")
    # a head from before the rewritten event still passes: that part of the log is untouched
    assert verify(history, head_at_3, key=False).events == 12
    # with the key the rewritten event itself is caught: it no longer decrypts
    e = broken(history)
    assert (e.seq, e.problem) == (5, "forged")


def test_verify_does_not_trust_the_decoded_event(history):
    """Re-encoding an event with the same meaning but other bytes is still an alteration (here:
    decrypted and encrypted again with the key, pretty-printed, under a fresh nonce)."""
    from events import keys

    cipher = keys.StoreCipher(keys.read_key(keys.default_key_path()))
    with RawDB(history) as db:
        row = db.row(9)
        plain = cipher.decrypt(row.state, keys.event_aad(row.topic))
        pretty = msgspec.json.format(plain, indent=2)
        assert msgspec.json.decode(pretty) == msgspec.json.decode(plain)
        db.set_state(9, cipher.encrypt(pretty, keys.event_aad(row.topic)))
    with Store(history) as store:
        assert len(list(store.read())) == 12  # still readable
        with pytest.raises(ChainBroken) as info:
            store.verify()
    assert (info.value.seq, info.value.problem) == (9, "altered")
