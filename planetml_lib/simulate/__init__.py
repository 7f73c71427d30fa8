"""Simulators that make labelled data in the package's contracts where real data cannot be shipped.

:mod:`planetml_lib.simulate.messenger` simulates MESSENGER magnetometer data around
Mercury on real orbits, labelled by the real Philpott et al. (2020) boundary crossings.
:mod:`planetml_lib.simulate.cluster` simulates Cluster's four spacecraft crossing Earth's bow
shock, with the true crossings, from families of randomised settings.
:mod:`planetml_lib.simulate.mars_terrain` simulates Mars terrain (DTM and image) with
clustered mounds and their labels.
Everything here is a simulation and says so in ``ds.attrs["source"]``.
"""

from planetml_lib.simulate.cluster import (
    HELDOUT_FAMILY,
    TRAINING_FAMILY,
    ClusterSimulation,
    crossing_statistics,
    pass_plan,
    simulate_pass,
    simulate_passes,
)
from planetml_lib.simulate.mars_terrain import MoundFieldParameters, simulate_mound_field
from planetml_lib.simulate.messenger import (
    SimulationParameters,
    complete_orbits,
    make_messenger,
    simulate_orbit,
    simulate_orbits,
)

__all__ = [
    "HELDOUT_FAMILY",
    "TRAINING_FAMILY",
    "ClusterSimulation",
    "crossing_statistics",
    "pass_plan",
    "simulate_pass",
    "simulate_passes",
    "MoundFieldParameters",
    "SimulationParameters",
    "complete_orbits",
    "make_messenger",
    "simulate_mound_field",
    "simulate_orbit",
    "simulate_orbits",
]
