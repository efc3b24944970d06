"""One module per schema revision, oldest first: ``v0001`` is the schema of release 0.1.0."""
