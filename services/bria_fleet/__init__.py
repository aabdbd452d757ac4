"""bria-fleet: an event-driven Kafka worker fleet for Bria tailored generation."""

__version__ = "0.1.0"
