"""Header names the fleet sets on requests it forwards to the retry and dead-letter topics."""

ATTEMPT = "x-bria-attempt"
NOT_BEFORE = "x-bria-not-before"
ERROR = "x-bria-error"
ERROR_CODE = "x-bria-error-code"
SOURCE_TOPIC = "x-bria-source-topic"
SOURCE_PARTITION = "x-bria-source-partition"
SOURCE_OFFSET = "x-bria-source-offset"
