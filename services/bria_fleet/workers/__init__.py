"""The four domain workers' logic: plain async functions over the API client, no Kafka."""
