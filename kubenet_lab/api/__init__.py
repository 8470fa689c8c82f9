"""The API server: decoding of every kind on one set of field helpers (``fields``),
validation with the API server's messages, defaulting, and the allocators (podCIDRs,
pod IPs, node IPs, cluster IPs, node ports). Nothing here stores anything: the
controllers put what the API accepted into the Store."""
