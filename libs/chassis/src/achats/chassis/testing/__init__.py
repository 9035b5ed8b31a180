"""Test tools of the chassis: the pytest plugin (loaded automatically), keys, servers, waits."""

from .waiting import wait_until

__all__ = ["wait_until"]
