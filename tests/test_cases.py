"""Every registered science case runs end to end in fast mode and honours the contracts."""

import matplotlib.pyplot as plt
import pytest

from planetml_lib.cases import CASES, get_case
from planetml_lib.errors import PlanetMLError
from planetml_lib.testing import check_case


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_end_to_end(name, tmp_path):
    metrics = check_case(CASES[name], tmp_path)
    assert set(metrics["level"]) == set(CASES[name].METRIC_LEVELS)
    plt.close("all")


def test_unknown_case_names_the_valid_ones():
    with pytest.raises(PlanetMLError, match="solarwind_tutorial"):
        get_case("no_such_case")


def test_aliases_name_registered_cases():
    from planetml_lib.cases import ALIASES

    assert all(get_case(alias) is CASES[name] for alias, name in ALIASES.items())


def test_every_case_has_the_same_surface():
    surface = {"TITLE", "METRIC_LEVELS", "Config", "load_data", "build_model", "train", "load_trained", "predict",
               "evaluate", "plot_results"}
    for name, case in CASES.items():
        assert surface <= set(dir(case)), f"{name} lacks {sorted(surface - set(dir(case)))}"
        assert callable(case.Config.fast)
