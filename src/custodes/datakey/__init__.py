"""The data encryption key of the columns encrypted at rest: its status, rotation and the retiring of old
keys (docs/security.md, "Encryption at rest")."""
