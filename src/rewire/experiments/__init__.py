"""Named, reproducible experiments that write run folders."""
