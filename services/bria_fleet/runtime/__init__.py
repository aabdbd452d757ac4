"""The runtime every worker shares: consuming, ordering, retrying, watching, recording.

Domain logic (``bria_fleet.workers``) plugs in through ``runtime.outcomes``; see
``docs/architecture.md``, "The runtime/worker contract".
"""
