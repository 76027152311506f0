"""Test helpers shipped with streamrecover, for its own suites and for third parties.

- :mod:`~streamrecover.testing.storage`: the conformance suite a storage backend
  runs against itself (a mixin with one hook method).
- :mod:`~streamrecover.testing.conformance`: the fault-scenario runner behind
  ``pytest conformance/`` and ``streamrecover conformance``; the scenario
  catalogue is ``streamrecover/testing/scenarios/*.json``.
- :mod:`~streamrecover.testing.fakeprovider` and
  :mod:`~streamrecover.testing.request_checks`: provider-exact SSE for a
  reference answer, and the checks a fake provider applies to resume requests.
- :mod:`~streamrecover.testing.server`, :mod:`~streamrecover.testing.handler_server`
  and :mod:`~streamrecover.testing.scripts`: raw-socket fake HTTP servers that
  play scripted faults (resets, stalls, truncated bodies), stdlib only.
"""
