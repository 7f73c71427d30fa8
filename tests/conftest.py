"""Test-suite settings and shared fixtures; test data folders hold no tests (their notebooks are inputs)."""

import pytest
import torch

collect_ignore_glob = ["data/*"]


@pytest.fixture
def one_torch_thread():
    """Small networks train far faster on one thread than on several contended ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
