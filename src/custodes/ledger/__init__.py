"""The evidential audit trail: append-only entries, RFC 9162 Merkle tree, signed checkpoints, proofs."""
