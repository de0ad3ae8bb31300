"""RFC 9162 Merkle trees: hashing, streaming roots, proofs and their verification.

Hashes are SHA-256 with the RFC 9162 §2.1.1 domain separation:
``leaf_hash(d) = SHA-256(0x00 || d)`` and ``node_hash(l, r) = SHA-256(0x01 || l || r)``;
the empty tree hashes to ``SHA-256("")``.

Proof generation works over any source of *complete, aligned subtree* hashes
(:data:`SubtreeHash`): ``get(level, idx)`` is the hash of leaves
``[idx * 2**level, (idx + 1) * 2**level)``. Every range an RFC 9162 proof needs
decomposes into O(log n) such subtrees, so a database-backed log can answer
proofs with O(log n) look-ups. :class:`MemoryTree` is an in-memory source.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MemoryTree",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_root",
    "root",
    "root_of_joined",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = _sha256(b"").digest()
"""Merkle Tree Hash of the empty tree, SHA-256 of the empty string."""

SubtreeHash = Callable[[int, int], bytes]
"""``get(level, idx)``: hash of the complete subtree of leaves ``[idx * 2**level, (idx + 1) * 2**level)``."""


def leaf_hash(data: bytes) -> bytes:
    """Hash of a leaf holding ``data``: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes")


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Merkle Tree Hash (RFC 9162 §2.1.1) of a sequence of leaf hashes."""
    for h in leaf_hashes:
        _check_hash(h, "leaf hash")
    return root_of_joined(b"".join(leaf_hashes))


def root_of_joined(joined: bytes) -> bytes:
    """`root` of the leaf hashes laid end to end (32 bytes each): what a bulk reader hands over.

    Computed bottom-up, pairing neighbours and carrying an unpaired last node up a level, which yields
    exactly the left-balanced tree of the RFC. Each node copies a hasher primed with the 0x01 prefix and
    reads its two children through a memoryview: about 0.7 µs a node (measured), a fifth less than hashing
    a concatenation.
    """
    if len(joined) % HASH_SIZE:
        raise ValueError(f"the leaf hashes must be {HASH_SIZE} bytes each")
    if not joined:
        return EMPTY_ROOT
    primed = _sha256(_NODE_PREFIX)
    level, count = joined, len(joined) // HASH_SIZE
    while count > 1:
        pairs, view, nodes = count // 2, memoryview(level), []
        for start in range(0, 2 * HASH_SIZE * pairs, 2 * HASH_SIZE):
            node = primed.copy()
            node.update(view[start : start + 2 * HASH_SIZE])
            nodes.append(node.digest())
        if count & 1:
            nodes.append(level[-HASH_SIZE:])
        level, count = b"".join(nodes), pairs + (count & 1)
    return bytes(level)


class CompactRange:
    """Streaming Merkle tree over leaves ``[0, size)`` keeping only its right edge.

    Holds the roots of the maximal complete subtrees (one per set bit of ``size``,
    largest first), so memory is O(log n) and :meth:`append` is amortised O(1)
    hashes. A range can be resumed from stored state with ``CompactRange(size, hashes)``.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        stack = list(hashes)
        if size < 0:
            raise ValueError("size must be non-negative")
        if len(stack) != size.bit_count():
            raise ValueError(f"size {size} needs {size.bit_count()} subtree hashes, got {len(stack)}")
        for h in stack:
            _check_hash(h, "subtree hash")
        self._size = size
        self._hashes = stack

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """Roots of the maximal complete subtrees, left to right (largest first)."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes)."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        stack = self._hashes
        n = self._size
        h = leaf_hash
        while n & 1:
            h = _sha256(_NODE_PREFIX + stack.pop() + h).digest()
            n >>= 1
        stack.append(h)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes; equivalent to repeated :meth:`append`, but faster."""
        stack = self._hashes
        pop, push = stack.pop, stack.append
        sha, prefix, size_ok = _sha256, _NODE_PREFIX, HASH_SIZE
        size = self._size
        try:
            for h in leaf_hashes:
                if len(h) != size_ok:
                    raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
                n = size
                while n & 1:
                    h = sha(prefix + pop() + h).digest()
                    n >>= 1
                push(h)
                size += 1
        finally:
            self._size = size

    def root(self) -> bytes:
        """Merkle Tree Hash of all leaves appended so far."""
        stack = self._hashes
        if not stack:
            return EMPTY_ROOT
        r = stack[-1]
        for h in reversed(stack[:-1]):
            r = _sha256(_NODE_PREFIX + h + r).digest()
        return r

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"


def _largest_pow2_below(n: int) -> int:
    """Largest power of two strictly smaller than ``n`` (``n >= 2``): the RFC 9162 split point ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def range_root(start: int, end: int, get: SubtreeHash) -> bytes:
    """Merkle Tree Hash of leaves ``[start, end)`` from complete-subtree hashes.

    The range must decompose into aligned complete subtrees when split RFC 9162
    style (at the largest power of two smaller than its length), which holds iff
    ``start`` is a multiple of the smallest power of two >= ``end - start``.
    Every range in an inclusion or consistency proof has this shape. Costs at most
    ``log2(end - start) + 1`` calls of ``get``.

    :raises ValueError: if the bounds are invalid or the range is not so aligned.
    """
    if not 0 <= start <= end:
        raise ValueError(f"invalid range [{start}, {end})")
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if start & ((1 << (n - 1).bit_length()) - 1):
        raise ValueError(f"range [{start}, {end}) does not decompose into aligned complete subtrees")
    hashes: list[bytes] = []
    pos = start
    while pos < end:
        level = (end - pos).bit_length() - 1
        hashes.append(get(level, pos >> level))
        pos += 1 << level
    r = hashes[-1]
    for h in reversed(hashes[:-1]):
        r = node_hash(h, r)
    return r


def inclusion_proof(index: int, size: int, get: SubtreeHash) -> list[bytes]:
    """Inclusion proof (RFC 9162 §2.1.3.1 ``PATH``) for leaf ``index`` in the tree of ``size`` leaves.

    Hashes are ordered from the leaf's sibling up to the child of the root.
    Costs O(log size) calls of ``get``.

    :raises ValueError: unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_pow2_below(end - start)
        mid = start + k
        if index < mid:
            siblings.append(range_root(mid, end, get))
            end = mid
        else:
            siblings.append(range_root(start, mid, get))
            start = mid
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, new_size: int, get: SubtreeHash) -> list[bytes]:
    """Consistency proof (RFC 9162 §2.1.4.1 ``PROOF``/``SUBPROOF``) from ``old_size`` to ``new_size``.

    Empty when ``old_size`` is 0 or equal to ``new_size``. Costs O(log new_size)
    calls of ``get``.

    :raises ValueError: unless ``0 <= old_size <= new_size``.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    # SUBPROOF(m, D[start:end], b), unrolled: collect siblings top-down, then the base.
    siblings: list[bytes] = []
    start, end, b = 0, new_size, True
    while old_size != end:
        k = _largest_pow2_below(end - start)
        mid = start + k
        if old_size <= mid:
            siblings.append(range_root(mid, end, get))
            end = mid
        else:
            siblings.append(range_root(start, mid, get))
            start, b = mid, False
    proof = [] if b else [range_root(start, end, get)]
    proof.extend(reversed(siblings))
    return proof


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an inclusion proof exactly as RFC 9162 §2.1.3.2. Never raises; bad input is ``False``."""
    if not (_is_hash(leaf_hash) and _is_hash(root) and _is_size(index) and _is_size(size)):
        return False
    if not isinstance(proof, Sequence) or not all(_is_hash(p) for p in proof):
        return False
    if not 0 <= index < size:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """Check a consistency proof exactly as RFC 9162 §2.1.4.2. Never raises; bad input is ``False``.

    The RFC covers ``0 < old_size < new_size``; the edge cases follow the usual
    conventions, strictly: equal sizes need an empty proof and equal roots, and
    ``old_size == 0`` needs an empty proof and ``old_root == EMPTY_ROOT``.
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and _is_size(old_size) and _is_size(new_size)):
        return False
    if not isinstance(proof, Sequence) or not all(_is_hash(p) for p in proof):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == 0 or old_size == new_size:
        return (
            not proof
            and hmac.compare_digest(old_root, EMPTY_ROOT if old_size == 0 else new_root)
            and (new_size != 0 or hmac.compare_digest(new_root, EMPTY_ROOT))
        )
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


class MemoryTree:
    """Append-only in-memory Merkle tree storing every complete subtree hash.

    ``get(level, idx)`` is O(1), so it serves as a :data:`SubtreeHash` for the
    proof functions; :meth:`inclusion_proof` and friends are shortcuts.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def __len__(self) -> int:
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash (32 bytes)."""
        _check_hash(leaf_hash, "leaf hash")
        levels = self._levels
        h = leaf_hash
        row = levels[0]
        row.append(h)
        level = 0
        while not len(row) & 1:
            h = _sha256(_NODE_PREFIX + row[-2] + h).digest()
            level += 1
            if level == len(levels):
                levels.append([])
            row = levels[level]
            row.append(h)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append many leaf hashes."""
        for h in leaf_hashes:
            self.append(h)

    def leaf(self, index: int) -> bytes:
        """Leaf hash at ``index``."""
        return self._levels[0][index]

    def get(self, level: int, idx: int) -> bytes:
        """Hash of the complete subtree of ``2**level`` leaves starting at leaf ``idx * 2**level``.

        :raises IndexError: if that subtree is not complete in this tree.
        """
        if level < 0 or idx < 0 or level >= len(self._levels) or idx >= len(self._levels[level]):
            raise IndexError(f"no complete subtree at level {level}, index {idx}")
        return self._levels[level][idx]

    def root(self, size: int | None = None) -> bytes:
        """Merkle Tree Hash of the first ``size`` leaves (default: all)."""
        n = self.size if size is None else size
        if not 0 <= n <= self.size:
            raise ValueError(f"size {n} is not in [0, {self.size}]")
        return range_root(0, n, self.get)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof for leaf ``index`` in the tree of ``size`` leaves (default: all)."""
        n = self.size if size is None else size
        if n > self.size:
            raise ValueError(f"size {n} exceeds tree size {self.size}")
        return inclusion_proof(index, n, self.get)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Consistency proof from ``old_size`` to ``new_size`` leaves (default: all)."""
        n = self.size if new_size is None else new_size
        if n > self.size:
            raise ValueError(f"size {n} exceeds tree size {self.size}")
        return consistency_proof(old_size, n, self.get)

    def __repr__(self) -> str:
        return f"MemoryTree(size={self.size})"
