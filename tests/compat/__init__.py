"""Differential tests: streamtui against langchain-core 1.7 (test-only dependency)."""
