#!/usr/bin/env python3
"""An independent implementation of innsyn's subject map (README, "Complete
answers"), written from the README alone: it prints the test vectors that
tests/storage/subject_map_test.cc checks."""
import hashlib
import struct


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def map_key(space, pseudonym):
    return sha256(space, pseudonym)


def leaf_hash(key, seq, count, entry_hash):
    return sha256(b"\x02", key, struct.pack(">QQ", seq, count), entry_hash)


def node_hash(left, right):
    return sha256(b"\x03", left, right)


def bit(key, depth):
    return (key[depth // 8] >> (7 - depth % 8)) & 1


def subtree(leaves, depth):
    """The hash of a subtree holding `leaves` (key -> leaf hash)."""
    if not leaves:
        return bytes(32)
    if len(leaves) == 1:
        return next(iter(leaves.values()))
    left = {k: v for k, v in leaves.items() if bit(k, depth) == 0}
    right = {k: v for k, v in leaves.items() if bit(k, depth) == 1}
    return node_hash(subtree(left, depth + 1), subtree(right, depth + 1))


def prove(leaves, key):
    """Siblings from the root down, and the leaf key where the path ends."""
    siblings = []
    depth = 0
    here = dict(leaves)
    while len(here) > 1:
        same = {k: v for k, v in here.items() if bit(k, depth) == bit(key, depth)}
        other = {k: v for k, v in here.items() if bit(k, depth) != bit(key, depth)}
        siblings.append(subtree(other, depth + 1))
        here = same
        depth += 1
    return siblings, (next(iter(here)) if here else None)


histories = [
    (b"S", bytes([0x11] * 16), 7, 1, bytes([0xa1] * 32)),
    (b"A", bytes([0x22] * 16), 7, 1, bytes([0xa1] * 32)),
    (b"S", bytes([0x44] * 16), 12, 3, bytes([0xb2] * 32)),
    (b"S", bytes([0x55] * 16), 30, 2, bytes([0xc3] * 32)),
    (b"A", bytes([0x66] * 16), 31, 9, bytes([0xd4] * 32)),
]
leaves = {}
values = {}
for space, pseudonym, seq, count, entry_hash in histories:
    key = map_key(space, pseudonym)
    leaves[key] = leaf_hash(key, seq, count, entry_hash)
    values[key] = (seq, count, entry_hash)
    print(f"key {space.decode()} {pseudonym.hex()[:4]}…: {key.hex()}")
    print(f"  leaf {leaves[key].hex()}")
print("root", subtree(leaves, 0).hex())
for space, pseudonym in [(b"S", bytes([0x44] * 16)), (b"S", bytes([0x77] * 16))]:
    key = map_key(space, pseudonym)
    siblings, end = prove(leaves, key)
    print(f"proof for {space.decode()} {pseudonym.hex()[:4]}…, key {key.hex()}:")
    for s in siblings:
        print("  sibling", s.hex())
    print("  ends in", end.hex() if end else "an empty subtree", values.get(end, ""))
