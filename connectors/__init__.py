"""Capture: Debezium connector configs (jinja2 templates) and their registration
with Kafka Connect's REST API. Runs on an operator's machine, never on Flink."""
