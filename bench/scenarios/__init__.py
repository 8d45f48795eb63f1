"""The benchmark scenarios, in the order the harness runs them (see bench/README.md)."""
