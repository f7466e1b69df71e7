"""The streaming runtime: runnables, messages, prompts, parsers, tools, retrievers."""
