"""Analyses over the cluster: the policy truth table, the network-model check, traffic
and load-balancing counts. They read; the traces they need run on a fork of the runtime."""
