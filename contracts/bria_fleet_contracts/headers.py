"""Kafka header names the fleet sets on retried and dead-lettered requests."""

ATTEMPT = "bria_attempt"
"""On ``.retry`` and ``.dlq``: how many attempts were made, as a decimal string."""

DUE_AT = "bria_due_at"
"""On ``.retry``: when to try again, RFC 3339 UTC."""

ERROR_CODE = "bria_error_code"
"""On ``.dlq``: the stable error code (``invalid_request`` for a message that does not parse)."""

ERROR = "bria_error"
"""On ``.dlq``: the readable reason."""

SOURCE_TOPIC = "bria_source_topic"
"""On ``.dlq``: the topic the request was read from."""

SOURCE_PARTITION = "bria_source_partition"
"""On ``.dlq``: its partition."""

SOURCE_OFFSET = "bria_source_offset"
"""On ``.dlq``: its offset."""
