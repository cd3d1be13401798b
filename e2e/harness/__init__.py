"""The end-to-end suite's harness: a real Synapse, the services modules call, a Matrix client."""
