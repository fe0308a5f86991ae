"""Business operations: one function per use case, each one transaction."""
