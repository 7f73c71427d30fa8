"""Test-suite settings: test data folders hold no tests (their notebooks are inputs, not tests)."""

collect_ignore_glob = ["data/*"]
