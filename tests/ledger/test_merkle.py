"""Tests for custodes.ledger.merkle: published vectors, pymerkle cross-checks, properties."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from custodes.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_root,
    root,
    verify_consistency,
    verify_inclusion,
)

H = bytes.fromhex

# ---------------------------------------------------------------------------
# Reference tree, from transparency-dev/merkle testonly/constants.go
# (LeafInputs, NodeHashes, RootHashes, CompactTrees). The same leaves and roots
# appear as kInputs / kSHA256Roots in google/certificate-transparency
# cpp/merkletree/merkle_tree_test.cc.
# ---------------------------------------------------------------------------

LEAF_INPUTS = [
    H(""),
    H("00"),
    H("10"),
    H("2021"),
    H("3031"),
    H("40414243"),
    H("5051525354555657"),
    H("606162636465666768696a6b6c6d6e6f"),
]

NODE_HASHES = [
    [
        H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        H("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        H("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        H("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        H("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [
        H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
]

# Indexed by tree size, 0..8.
ROOTS = [
    H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

_nh = NODE_HASHES
# CompactTrees(): the compact range (right-edge subtree roots) for every size 0..8.
COMPACT_TREES: list[list[bytes]] = [
    [],
    [_nh[0][0]],
    [_nh[1][0]],
    [_nh[1][0], _nh[0][2]],
    [_nh[2][0]],
    [_nh[2][0], _nh[0][4]],
    [_nh[2][0], _nh[1][2]],
    [_nh[2][0], _nh[1][2], _nh[0][6]],
    [_nh[3][0]],
]

REF_LEAVES = [leaf_hash(d) for d in LEAF_INPUTS]
REF_TREE = MemoryTree(REF_LEAVES)

# From transparency-dev/merkle proof/verify_test.go (inclusionProofs) and identically
# google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kSHA256Paths).
# Leaf numbers there are 1-based; {0, 0, nil} is documented there as an invalid path.
INCLUSION_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# From transparency-dev/merkle proof/verify_test.go (consistencyProofs); the first four
# are also kSHA256Proofs in google/certificate-transparency cpp/merkletree/merkle_tree_test.cc.
CONSISTENCY_VECTORS: list[tuple[int, int, list[bytes]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

# transparency-dev/merkle proof/verify_test.go
SHA256_SOME_HASH = H("abacaba000000000000000000000000000000000000000000060061e00123456")


# ---------------------------------------------------------------------------
# Independent reference: a literal recursive transcription of RFC 9162 §2.1.
# ---------------------------------------------------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    if m == 0 or m == len(d):
        return []
    return ref_subproof(m, d, True)


# ---------------------------------------------------------------------------
# Hashing and roots
# ---------------------------------------------------------------------------


def test_rfc6962_hasher_vectors() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go TestRFC6962Hasher
    assert H("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == EMPTY_ROOT
    assert leaf_hash(b"") == H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == H("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456") == H(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_hasher_domain_separation() -> None:
    # transparency-dev/merkle rfc6962/rfc6962_test.go TestRFC6962HasherCollisions
    h1, h2 = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert h1 != h2
    assert node_hash(h1, h2) != leaf_hash(h1 + h2)
    assert node_hash(h1, h2) != node_hash(h2, h1)


@pytest.mark.parametrize("size", range(9))
def test_reference_roots(size: int) -> None:
    leaves = REF_LEAVES[:size]
    assert root(leaves) == ROOTS[size]
    assert REF_TREE.root(size) == ROOTS[size]
    assert range_root(0, size, REF_TREE.get) == ROOTS[size]
    cr = CompactRange()
    cr.extend(leaves)
    assert cr.root() == ROOTS[size]
    assert list(cr.hashes) == COMPACT_TREES[size]
    assert ref_mth(leaves) == ROOTS[size]


def test_reference_node_hashes() -> None:
    for level, row in enumerate(NODE_HASHES):
        for idx, expected in enumerate(row):
            assert REF_TREE.get(level, idx) == expected
            assert range_root(idx << level, (idx + 1) << level, REF_TREE.get) == expected


def test_compact_range_vectors_one_at_a_time() -> None:
    # Mirrors CompactMerkleTreeTest.RootTestVectors (google/certificate-transparency).
    cr = CompactRange()
    assert cr.size == 0
    assert cr.root() == ROOTS[0]
    for i, lh in enumerate(REF_LEAVES):
        cr.append(lh)
        assert cr.size == i + 1
        assert cr.root() == ROOTS[i + 1]
        assert list(cr.hashes) == COMPACT_TREES[i + 1]


# ---------------------------------------------------------------------------
# Published inclusion / consistency vectors, with the corruption probes of
# transparency-dev/merkle proof/verify_test.go (corruptInclusionProof, ...).
# ---------------------------------------------------------------------------


def _flip(b: bytes, byte: int, mask: int) -> bytes:
    out = bytearray(b)
    out[byte] ^= mask
    return bytes(out)


def inclusion_probes(
    index: int, size: int, proof: list[bytes], rt: bytes, lh: bytes
) -> list[tuple[str, int, int, list[bytes], bytes, bytes]]:
    probes = [
        ("index - 1", index - 1, size, proof, rt, lh),
        ("index + 1", index + 1, size, proof, rt, lh),
        ("index ^ 2", index ^ 2, size, proof, rt, lh),
        ("size * 2", index, size * 2, proof, rt, lh),
        ("size // 2", index, size // 2, proof, rt, lh),
        ("wrong leaf", index, size, proof, rt, b"WrongLeaf"),
        ("wrong leaf 32", index, size, proof, rt, leaf_hash(b"WrongLeaf")),
        ("empty root", index, size, proof, EMPTY_ROOT, lh),
        ("random root", index, size, proof, SHA256_SOME_HASH, lh),
        ("trailing garbage", index, size, [*proof, b""], rt, lh),
        ("trailing root", index, size, [*proof, rt], rt, lh),
        ("preceding garbage", index, size, [b"", *proof], rt, lh),
        ("preceding root", index, size, [rt, *proof], rt, lh),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = _flip(wrong[i], 0, 8)
        probes.append((f"modified proof[{i}] bit 3", index, size, wrong, rt, lh))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], rt, lh))
    if len(proof) > 1:
        probes.append(("inserted component", index, size, [proof[0], SHA256_SOME_HASH, *proof[1:]], rt, lh))
    return probes


def consistency_probes(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, int, int, bytes, bytes, list[bytes]]]:
    probes = [
        ("size1 - 1", size1 - 1, size2, root1, root2, proof),
        ("size1 + 1", size1 + 1, size2, root1, root2, proof),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, proof),
        ("size2 * 2", size1, size2 * 2, root1, root2, proof),
        ("size2 // 2", size1, size2 // 2, root1, root2, proof),
        ("wrong root1", size1, size2, b"WrongRoot", root2, proof),
        ("wrong root2", size1, size2, root1, b"WrongRoot", proof),
        ("swapped roots", size1, size2, root2, root1, proof),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, [*proof, b""]),
        ("trailing root1", size1, size2, root1, root2, [*proof, root1]),
        ("trailing root2", size1, size2, root1, root2, [*proof, root2]),
        ("preceding garbage", size1, size2, root1, root2, [b"", *proof]),
        ("preceding root1", size1, size2, root1, root2, [root1, *proof]),
        ("preceding root2", size1, size2, root1, root2, [root2, *proof]),
        ("preceding proof[0]", size1, size2, root1, root2, [proof[0], *proof]),
        ("truncated proof", size1, size2, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = _flip(wrong[i], 0, 16)
        probes.append((f"modified proof[{i}] bit 4", size1, size2, root1, root2, wrong))
    return probes


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION_VECTORS)
def test_inclusion_vectors(leaf: int, size: int, proof: list[bytes]) -> None:
    index = leaf - 1
    lh = REF_LEAVES[index]
    assert inclusion_proof(index, size, REF_TREE.get) == proof
    assert ref_path(index, REF_LEAVES[:size]) == proof
    assert verify_inclusion(lh, index, size, proof, ROOTS[size])
    wrongly_accepted = [
        desc
        for desc, i, s, p, r, h in inclusion_probes(index, size, proof, ROOTS[size], lh)
        if verify_inclusion(h, i, s, p, r)
    ]
    assert wrongly_accepted == []


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_consistency_vectors(size1: int, size2: int, proof: list[bytes]) -> None:
    assert consistency_proof(size1, size2, REF_TREE.get) == proof
    assert ref_proof(size1, REF_LEAVES[:size2]) == proof
    assert verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])
    if not proof:
        return
    wrongly_accepted = [
        desc
        for desc, s1, s2, r1, r2, p in consistency_probes(size1, size2, ROOTS[size1], ROOTS[size2], proof)
        if verify_consistency(s1, s2, p, r1, r2)
    ]
    assert wrongly_accepted == []


def test_verify_inclusion_single_entry() -> None:
    # transparency-dev/merkle proof/verify_test.go TestVerifyInclusionSingleEntry
    h = leaf_hash(b"data")
    assert verify_inclusion(h, 0, 1, [], h)
    assert not verify_inclusion(b"", 0, 1, [], h)
    assert not verify_inclusion(h, 0, 1, [], b"")
    assert not verify_inclusion(b"", 0, 1, [], b"")


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_verify_inclusion_invalid_probes(index: int, size: int) -> None:
    # transparency-dev/merkle proof/verify_test.go TestVerifyInclusion (probes)
    assert not verify_inclusion(SHA256_SOME_HASH, index, size, [], b"")
    assert not verify_inclusion(b"", index, size, [], EMPTY_ROOT)
    assert not verify_inclusion(SHA256_SOME_HASH, index, size, [], EMPTY_ROOT)


def test_verify_consistency_edge_cases() -> None:
    # transparency-dev/merkle proof/verify_test.go TestVerifyConsistency. Go uses
    # arbitrary short "don't care" roots in its accepted rows; we insist on 32-byte
    # roots and on EMPTY_ROOT for size 0, so those rows use real roots here and the
    # arbitrary-root variants are rejected (deliberately stricter).
    r1, r2 = SHA256_SOME_HASH, leaf_hash(b"x")
    e = EMPTY_ROOT
    assert not verify_consistency(0, 0, [], r1, r2)
    assert not verify_consistency(1, 1, [], r1, r2)
    # Sizes that are always consistent.
    assert verify_consistency(0, 0, [], e, e)
    assert verify_consistency(0, 1, [], e, r2)
    assert verify_consistency(1, 1, [], r2, r2)
    # ... but not with a made-up "empty" root, nor with short roots.
    assert not verify_consistency(0, 0, [], r1, r1)
    assert not verify_consistency(0, 1, [], r1, r2)
    assert not verify_consistency(1, 1, [], b"don't care 2", b"don't care 2")
    # Time travel to the past.
    assert not verify_consistency(1, 0, [], r1, r2)
    assert not verify_consistency(2, 1, [], r1, r2)
    # Empty proof.
    assert not verify_consistency(1, 2, [], r1, r2)
    # Roots don't match.
    assert not verify_consistency(0, 0, [], e, r2)
    assert not verify_consistency(1, 1, [], e, r2)
    # Roots match but the proof is not empty.
    assert not verify_consistency(0, 0, [e], e, e)
    assert not verify_consistency(0, 1, [e], e, e)
    assert not verify_consistency(1, 1, [e], e, e)


# ---------------------------------------------------------------------------
# Which subtree hashes the proofs use: transparency-dev/merkle proof/proof_test.go
# TestInclusion / TestConsistency give node ids (level, index) and a "rehash" span
# [begin, end) of ids folded into one hash (h = ids[begin]; h = node(ids[i], h) ...).
# ---------------------------------------------------------------------------

Ids = list[tuple[int, int]]

INCLUSION_NODE_VECTORS: list[tuple[int, int, Ids, tuple[int, int] | None]] = [
    (1, 0, [], None),
    (2, 0, [(0, 1)], None),
    (2, 1, [(0, 0)], None),
    (3, 1, [(0, 0), (0, 2)], None),
    (7, 0, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (7, 1, [(0, 0), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (7, 2, [(0, 3), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (7, 3, [(0, 2), (1, 0), (0, 6), (1, 2)], (2, 4)),
    (7, 4, [(0, 5), (0, 6), (2, 0)], None),
    (7, 5, [(0, 4), (0, 6), (2, 0)], None),
    (7, 6, [(1, 2), (2, 0)], None),
    (4, 2, [(0, 3), (1, 0)], None),
    (5, 3, [(0, 2), (1, 0), (0, 4)], None),
    (6, 3, [(0, 2), (1, 0), (1, 2)], None),
    (6, 4, [(0, 5), (2, 0)], None),
    (15, 10, [(0, 11), (1, 4), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (31, 24, [(0, 25), (1, 13), (0, 30), (1, 14), (3, 2), (4, 0)], (2, 4)),
    (95, 81, [(0, 80), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)], (3, 6)),
]

CONSISTENCY_NODE_VECTORS: list[tuple[int, int, Ids, tuple[int, int] | None]] = [
    (1, 2, [(0, 1)], None),
    (1, 4, [(0, 1), (1, 1)], None),
    (1, 6, [(0, 1), (1, 1), (1, 2)], None),
    (2, 3, [(0, 2)], None),
    (2, 8, [(1, 1), (2, 1)], None),
    (3, 7, [(0, 2), (0, 3), (1, 0), (0, 6), (1, 2)], (3, 5)),
    (4, 7, [(0, 6), (1, 2)], (0, 2)),
    (5, 7, [(0, 4), (0, 5), (0, 6), (2, 0)], None),
    (6, 7, [(1, 2), (0, 6), (2, 0)], None),
    (7, 8, [(0, 6), (0, 7), (1, 2), (2, 0)], None),
    (1, 1, [], None),
    (2, 2, [], None),
    (3, 3, [], None),
    (4, 4, [], None),
    (5, 5, [], None),
    (7, 7, [], None),
    (8, 8, [], None),
    (2, 4, [(1, 1)], None),
    (3, 5, [(0, 2), (0, 3), (1, 0), (0, 4)], None),
    (3, 6, [(0, 2), (0, 3), (1, 0), (1, 2)], None),
    (4, 6, [(1, 2)], None),
    (1, 7, [(0, 1), (1, 1), (0, 6), (1, 2)], (2, 4)),
    (10, 15, [(1, 4), (1, 5), (0, 14), (1, 6), (3, 0)], (2, 4)),
    (24, 31, [(3, 2), (0, 30), (1, 14), (2, 6), (4, 0)], (1, 4)),
    (81, 95, [(0, 80), (0, 81), (1, 41), (2, 21), (0, 94), (1, 46), (2, 22), (4, 4), (6, 0)], (4, 7)),
]

_RNG_TREE = MemoryTree(leaf_hash(b"node-id-%d" % i) for i in range(128))


def _expected_from_ids(ids: Ids, rehash: tuple[int, int] | None) -> list[bytes]:
    hashes = [_RNG_TREE.get(level, idx) for level, idx in ids]
    if rehash is None:
        return hashes
    begin, end = rehash
    h = hashes[begin]
    for x in hashes[begin + 1 : end]:
        h = node_hash(x, h)
    return [*hashes[:begin], h, *hashes[end:]]


@pytest.mark.parametrize(("size", "index", "ids", "rehash"), INCLUSION_NODE_VECTORS)
def test_inclusion_node_vectors(size: int, index: int, ids: Ids, rehash: tuple[int, int] | None) -> None:
    assert inclusion_proof(index, size, _RNG_TREE.get) == _expected_from_ids(ids, rehash)


@pytest.mark.parametrize(("size1", "size2", "ids", "rehash"), CONSISTENCY_NODE_VECTORS)
def test_consistency_node_vectors(size1: int, size2: int, ids: Ids, rehash: tuple[int, int] | None) -> None:
    assert consistency_proof(size1, size2, _RNG_TREE.get) == _expected_from_ids(ids, rehash)


# ---------------------------------------------------------------------------
# "Subtree Test Vectors" of draft-ietf-plants-merkle-tree-certs, as reproduced in
# transparency-dev/merkle testonly/vectors_test.go: over leaves d[i] = bytes([i]),
# i < 130, every valid subtree [start, end) is folded into a rolling SHA-256.
# A subtree inclusion proof is the plain PATH over leaves[start:end].
# ---------------------------------------------------------------------------

_SUBTREE_MAX = 130


def _valid_subtree(start: int, end: int) -> bool:
    if start >= end:
        return False
    bit_ceil = 1 << (end - start - 1).bit_length()
    return start % bit_ceil == 0


def _shifted(get: Callable[[int, int], bytes], start: int) -> Callable[[int, int], bytes]:
    return lambda level, idx: get(level, idx + (start >> level))


def test_subtree_hash_vectors() -> None:
    tree = MemoryTree(leaf_hash(bytes([i])) for i in range(_SUBTREE_MAX))
    h = hashlib.sha256()
    for end in range(1, _SUBTREE_MAX + 1):
        for start in range(end):
            if _valid_subtree(start, end):
                h.update(f"[{start}, {end}) {range_root(start, end, tree.get).hex()}\n".encode())
    assert h.hexdigest() == "94a95384a8c69acea9b50d035a58285b3a777cb7a724005faa5e1f1e1190007f"


def test_subtree_inclusion_proof_vectors() -> None:
    tree = MemoryTree(leaf_hash(bytes([i])) for i in range(_SUBTREE_MAX))
    h = hashlib.sha256()
    for end in range(1, _SUBTREE_MAX + 1):
        for start in range(end):
            if not _valid_subtree(start, end):
                continue
            get = _shifted(tree.get, start)
            for index in range(start, end):
                proof = inclusion_proof(index - start, end - start, get)
                line = f"{index} [{start}, {end})" + "".join(f" {p.hex()}" for p in proof)
                h.update(f"{line}\n".encode())
    assert h.hexdigest() == "ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f"


# ---------------------------------------------------------------------------
# Exhaustive small trees against the literal RFC transcription.
# ---------------------------------------------------------------------------

_SMALL = [leaf_hash(b"small-%d" % i) for i in range(40)]
_SMALL_TREE = MemoryTree(_SMALL)
_SMALL_ROOTS = [ref_mth(_SMALL[:n]) for n in range(len(_SMALL) + 1)]


def test_small_trees_exhaustive() -> None:
    for n in range(len(_SMALL) + 1):
        assert _SMALL_TREE.root(n) == _SMALL_ROOTS[n]
        for i in range(n):
            proof = _SMALL_TREE.inclusion_proof(i, n)
            assert proof == ref_path(i, _SMALL[:n])
            assert verify_inclusion(_SMALL[i], i, n, proof, _SMALL_ROOTS[n])
        for m in range(n + 1):
            proof = _SMALL_TREE.consistency_proof(m, n)
            assert proof == ref_proof(m, _SMALL[:n])
            assert verify_consistency(m, n, proof, _SMALL_ROOTS[m], _SMALL_ROOTS[n])


def test_wrong_sizes_fail_with_the_roots_of_those_sizes() -> None:
    # A proof for one size never verifies for another size against that size's real root.
    n_max = 24
    roots = _SMALL_ROOTS
    for n in range(1, n_max + 1):
        for i in range(n):
            proof = _SMALL_TREE.inclusion_proof(i, n)
            for n2 in range(n_max + 1):
                if n2 != n:
                    assert not verify_inclusion(_SMALL[i], i, n2, proof, roots[n2])
        for m in range(1, n):
            proof = _SMALL_TREE.consistency_proof(m, n)
            for m2 in range(n_max + 1):
                for n2 in range(n_max + 1):
                    if (m2, n2) != (m, n):
                        assert not verify_consistency(m2, n2, proof, roots[m2], roots[n2])


def test_size_must_come_bound_to_its_root() -> None:
    # RFC 9162 verification only sees hashes: leaf 0's paths in trees of 5 and 6 leaves
    # have the same shape, so the size-5 proof "verifies" for size 6 if handed the
    # size-5 root. No 6-leaf tree has that root, so this is harmless when (size, root)
    # come together from a signed checkpoint -- which is how callers must use it.
    proof5 = _SMALL_TREE.inclusion_proof(0, 5)
    assert verify_inclusion(_SMALL[0], 0, 6, proof5, _SMALL_ROOTS[5])
    assert not verify_inclusion(_SMALL[0], 0, 6, proof5, _SMALL_ROOTS[6])


# ---------------------------------------------------------------------------
# Cross-check against pymerkle (RFC 9162 hashing; 1-based leaf indices). Its
# inclusion path is [leaf hash, *RFC 9162 PATH]. Its consistency proofs use a
# different, non-RFC layout, so ours are checked against the RFC transcription
# and verified against pymerkle's roots instead.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cross_check_pymerkle(seed: int) -> None:
    rng = random.Random(seed)
    data = [rng.randbytes(rng.randrange(0, 64)) for _ in range(300)]
    pm = InmemoryTree()
    for d in data:
        pm.append_entry(d)
    leaves = [leaf_hash(d) for d in data]
    ours = MemoryTree(leaves)
    cr = CompactRange()
    for n in range(len(data) + 1):
        expected = pm.get_root(n)
        assert root(leaves[:n]) == expected
        assert ours.root(n) == expected
        assert cr.root() == expected
        if n < len(data):
            assert pm.get_leaf(n + 1) == leaves[n]
            cr.append(leaves[n])
    roots = [pm.get_root(n) for n in range(len(data) + 1)]
    for n in range(1, len(data) + 1):
        indices = range(n) if n <= 48 else {0, n - 1, *rng.sample(range(n), 6)}
        for i in indices:
            proof = ours.inclusion_proof(i, n)
            assert proof == pm.prove_inclusion(i + 1, n).path[1:]
            assert verify_inclusion(leaves[i], i, n, proof, roots[n])
        for m in {0, 1, n, rng.randrange(n + 1), rng.randrange(n + 1)}:
            proof = ours.consistency_proof(m, n)
            assert proof == ref_proof(m, leaves[:n])
            assert verify_consistency(m, n, proof, roots[m], roots[n])


# ---------------------------------------------------------------------------
# Cost: O(log n) subtree look-ups, checked by counting calls, not by timing.
# ---------------------------------------------------------------------------


class _CountingSource:
    """Fake subtree source for huge virtual trees: only counts and bounds-checks calls."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0

    def __call__(self, level: int, idx: int) -> bytes:
        assert level >= 0 and idx >= 0
        assert (idx + 1) << level <= self.size, "asked for a subtree beyond the tree"
        self.calls += 1
        return hashlib.sha256(b"%d/%d" % (level, idx)).digest()


@pytest.mark.parametrize("size", [1, 2, 3, 1000, 10_000_000, 10_000_019, 2**40 - 1, 2**40 + 12345])
def test_proofs_use_logarithmically_many_lookups(size: int) -> None:
    bound = 2 * max(1, (size - 1).bit_length()) + 1
    rng = random.Random(size)
    for index in {0, size - 1, size // 2, rng.randrange(size)}:
        src = _CountingSource(size)
        proof = inclusion_proof(index, size, src)
        assert len(proof) <= max(1, (size - 1).bit_length())
        assert src.calls <= bound
    for old in {1, size - 1, size // 2, rng.randrange(1, size + 1)}:
        src = _CountingSource(size)
        consistency_proof(old, size, src)
        assert src.calls <= bound
    src = _CountingSource(size)
    range_root(0, size, src)
    assert src.calls == size.bit_count()


def test_range_root_rejects_unaligned_ranges() -> None:
    with pytest.raises(ValueError):
        range_root(2, 6, REF_TREE.get)
    with pytest.raises(ValueError):
        range_root(5, 4, REF_TREE.get)
    assert range_root(3, 3, REF_TREE.get) == EMPTY_ROOT
    assert range_root(4, 7, REF_TREE.get) == ref_mth(REF_LEAVES[4:7])


def test_generation_rejects_bad_arguments() -> None:
    for index, size in [(0, 0), (-1, 5), (5, 5)]:
        with pytest.raises(ValueError):
            inclusion_proof(index, size, REF_TREE.get)
    for old, new in [(-1, 3), (4, 3)]:
        with pytest.raises(ValueError):
            consistency_proof(old, new, REF_TREE.get)
    with pytest.raises(ValueError):
        REF_TREE.inclusion_proof(0, 9)
    with pytest.raises(IndexError):
        REF_TREE.get(3, 1)
    with pytest.raises(ValueError):
        MemoryTree([b"short"])
    with pytest.raises(ValueError):
        CompactRange().append(b"short")
    with pytest.raises(ValueError):
        root([b"short"])


def test_compact_range_resume() -> None:
    full = CompactRange()
    full.extend(_SMALL)
    for n in range(len(_SMALL) + 1):
        part = CompactRange()
        part.extend(_SMALL[:n])
        resumed = CompactRange(part.size, part.hashes)
        resumed.extend(_SMALL[n:])
        assert resumed.size == full.size
        assert resumed.root() == full.root()
    with pytest.raises(ValueError):
        CompactRange(3, [EMPTY_ROOT])
    with pytest.raises(ValueError):
        CompactRange(-1)


# ---------------------------------------------------------------------------
# Hypothesis properties over one shared random tree.
# ---------------------------------------------------------------------------

_PROP_RNG = random.Random(9162)
_PROP_LEAVES = [leaf_hash(_PROP_RNG.randbytes(16)) for _ in range(1100)]
_PROP_TREE = MemoryTree(_PROP_LEAVES)
_PROP_ROOTS: dict[int, bytes] = {}


def _prop_root(n: int) -> bytes:
    if n not in _PROP_ROOTS:
        _PROP_ROOTS[n] = _PROP_TREE.root(n)
    return _PROP_ROOTS[n]


@settings(deadline=None, max_examples=300)
@given(st.data())
def test_property_inclusion(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, len(_PROP_LEAVES)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    lh = _PROP_LEAVES[index]
    proof = _PROP_TREE.inclusion_proof(index, size)
    rt = _prop_root(size)
    assert verify_inclusion(lh, index, size, proof, rt)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        wrong = list(proof)
        wrong[j] = _flip(wrong[j], bit // 8, 1 << (bit % 8))
        assert not verify_inclusion(lh, index, size, wrong, rt)
    other = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index), label="wrong index")
    assert not verify_inclusion(lh, other, size, proof, rt)
    wrong_size = data.draw(st.integers(0, len(_PROP_LEAVES)).filter(lambda s: s != size), label="wrong size")
    assert not verify_inclusion(lh, index, wrong_size, proof, _prop_root(wrong_size))
    bit = data.draw(st.integers(0, 255), label="leaf bit")
    assert not verify_inclusion(_flip(lh, bit // 8, 1 << (bit % 8)), index, size, proof, rt)


@settings(deadline=None, max_examples=300)
@given(st.data())
def test_property_consistency(data: st.DataObject) -> None:
    new = data.draw(st.integers(0, len(_PROP_LEAVES)), label="new size")
    old = data.draw(st.integers(0, new), label="old size")
    proof = _PROP_TREE.consistency_proof(old, new)
    r_old, r_new = _prop_root(old), _prop_root(new)
    assert verify_consistency(old, new, proof, r_old, r_new)
    if not proof:
        assert old in (0, new)
        return
    j = data.draw(st.integers(0, len(proof) - 1), label="element")
    bit = data.draw(st.integers(0, 255), label="bit")
    wrong = list(proof)
    wrong[j] = _flip(wrong[j], bit // 8, 1 << (bit % 8))
    assert not verify_consistency(old, new, wrong, r_old, r_new)
    old2 = data.draw(st.integers(0, len(_PROP_LEAVES)).filter(lambda s: s != old), label="wrong old")
    assert not verify_consistency(old2, new, proof, _prop_root(old2), r_new)
    new2 = data.draw(st.integers(0, len(_PROP_LEAVES)).filter(lambda s: s != new), label="wrong new")
    assert not verify_consistency(old, new2, proof, r_old, _prop_root(new2))
    assert not verify_consistency(old, new, proof, r_new, r_old)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=300))
def test_property_compact_range_matches_root_for_every_prefix(entries: list[bytes]) -> None:
    leaves = [leaf_hash(e) for e in entries]
    cr = CompactRange()
    assert cr.root() == root([])
    for n, lh in enumerate(leaves, start=1):
        cr.append(lh)
        assert cr.size == n
        assert cr.root() == root(leaves[:n])
        assert len(cr.hashes) == n.bit_count()
    bulk = CompactRange()
    bulk.extend(leaves)
    assert bulk.hashes == cr.hashes


_junk = st.one_of(
    st.none(),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.binary(max_size=40),
    st.text(max_size=5),
    st.lists(st.binary(min_size=32, max_size=32), max_size=3),
)


@settings(deadline=None)
@given(_junk, _junk, _junk, _junk, _junk)
def test_property_verifiers_never_raise(a: object, b: object, c: object, d: object, e: object) -> None:
    assert verify_inclusion(a, b, c, d, e) in (True, False)  # type: ignore[arg-type]
    assert verify_consistency(a, b, c, d, e) in (True, False)  # type: ignore[arg-type]
