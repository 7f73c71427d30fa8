"""Virtual observatory: catalogues as EPN-TAP 2.0 tables (VESPA), published through GAVO DaCHS, queried with pyvo.

* :mod:`~planetml_lib.vo.epncore`: any catalogue of the bundle -> ``epn_core`` rows and a VOTable;
* :mod:`~planetml_lib.vo.dachs`: those rows served by a DaCHS (resource descriptor, import);
* :mod:`~planetml_lib.vo.instance`: a throwaway DaCHS with its own PostgreSQL (tests, laptops);
* :mod:`~planetml_lib.vo.client`: EPN-TAP queries answered as events.
"""

from planetml_lib.vo.client import search_epntap, vespa_services
from planetml_lib.vo.dachs import publish
from planetml_lib.vo.epncore import Observation, epncore_to_events, read_epncore, to_epncore, write_epncore
from planetml_lib.vo.instance import LocalDachs

__all__ = ["LocalDachs", "Observation", "epncore_to_events", "publish", "read_epncore", "search_epntap",
           "to_epncore", "vespa_services", "write_epncore"]
