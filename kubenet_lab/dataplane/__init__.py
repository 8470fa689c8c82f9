"""What each node has installed, computed from one Store generation (a Snapshot),

and the kernels' mutable state (``Runtime``)."""
