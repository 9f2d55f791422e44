"""Executors run trials: in this process (inline) or, later, on Ray workers."""
