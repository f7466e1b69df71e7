"""Chat and text-completion models: the bases, the scripted default and providers."""
