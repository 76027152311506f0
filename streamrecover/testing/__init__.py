"""Test helpers shipped with streamrecover.

:mod:`streamrecover.testing.storage` is the conformance suite a storage backend
runs against itself; :mod:`streamrecover.testing.server` is a scripted
raw-socket HTTP server for fault tests (resets, stalls, truncated bodies),
stdlib only.
"""
