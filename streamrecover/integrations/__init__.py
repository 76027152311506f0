"""Adapters for stacks people already run: OpenTelemetry, the official SDKs' HTTP clients.

Each module imports its third-party package only when it is used, and says which
``pip install "streamrecover[...]"`` brings it when it is missing.
"""
