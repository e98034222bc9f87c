"""Helpers shared by the engine-backed tests: a real Pulumi CLI, a file backend and the emulator."""
