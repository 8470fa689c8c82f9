"""The node's command line: the simulated shell (``shell``) and one module per tool."""
