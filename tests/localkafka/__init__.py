"""Tests of bria_fleet.localkafka: the Kafka broker run without Docker."""
