"""The `installation` fixture of tests/datakey/test_rotation.py, for every test of the data key."""

from tests.datakey.test_rotation import installation  # noqa: F401
