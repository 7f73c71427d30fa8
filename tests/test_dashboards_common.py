"""Download links of the dashboards: one per format of the result's kind, decoding to the same catalogue."""

import base64
import re

import pandas as pd

from planetml_lib.cases.kinds import kind_spec
from planetml_lib.dashboards.common import download_links


def test_links_carry_the_catalogue_in_every_format_of_the_kind(fast_case, tmp_path):
    run = fast_case("solarwind_tutorial")
    detection = run.case.predict(run.trained, run.data["test"])
    assert len(detection.events), "the check needs events to compare"
    links = re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", download_links(detection, "events"))
    suffixes = kind_spec(run.case.KIND).suffixes
    assert [name for name, _ in links] == [f"events{suffix}" for suffix in suffixes]
    for name, data in links:
        path = tmp_path / name
        path.write_bytes(base64.b64decode(data))
        back = kind_spec(run.case.KIND).read(path)
        assert len(back) == len(detection.events)
        pd.testing.assert_series_equal(back["start"], detection.events["start"], check_names=False,
                                       check_dtype=False)
