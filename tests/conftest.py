"""Test-suite settings and shared fixtures; test data folders hold no tests (their notebooks are inputs)."""

from typing import NamedTuple

import pytest
import torch

from planetml_lib.cases import CASES
from planetml_lib.testing import CHROMIUM, CHROMIUM_ARGS

collect_ignore_glob = ["data/*"]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's ``page`` runs Debian's Chromium, headless and offline (the browser tests)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} missing: `make test` installs it (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 1800}}


@pytest.fixture
def one_torch_thread():
    """Small networks train far faster on one thread than on several contended ones."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class FastCase(NamedTuple):
    """A case trained once per test run in fast mode: the module, its data, the model and its saved folder."""

    case: object
    data: dict
    trained: object
    folder: object


@pytest.fixture(scope="session")
def fast_case(tmp_path_factory):
    """``fast_case(name)``: the :class:`FastCase` of a registered case, trained on first use and shared
    by the contract tests, the case tests and the CLI tests (treat its data and model as read-only)."""
    trained = {}

    def get(name):
        if name not in trained:
            case = CASES[name]
            config = case.Config.fast()
            data = case.load_data(config)
            model = case.train(config, data)
            trained[name] = FastCase(case, data, model, model.save(tmp_path_factory.mktemp(name) / "model"))
        return trained[name]

    return get
