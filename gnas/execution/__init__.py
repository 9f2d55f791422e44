"""Executors run trials for the search loop: in this process (inline) or, later, on Ray workers."""
