"""Helpers shared by every tier of the test suite: image generators, process runners."""
