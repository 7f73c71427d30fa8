"""Publish EPN-TAP rows through GAVO DaCHS: a resource descriptor, the rows as a VOTable, import.

DaCHS is the server most VESPA services run on. :func:`publish` writes, under the DaCHS
``inputs`` folder, ``<schema>/q.rd`` (an ``epn_core`` table with DaCHS's EPN-TAP 2.0 mixin,
plus PlanetML's own columns) and ``<schema>/catalog.csv`` (the rows of
:func:`~planetml_lib.vo.epncore.to_epncore`), then runs ``dachs imp`` and ``dachs pub``.
Which DaCHS: the one ``GAVOSETTINGS`` names (a throwaway one from
:mod:`planetml_lib.vo.instance`), else the system's (``make vo-server``).
"""

import os
import re
import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from planetml_lib.errors import PlanetMLError
from planetml_lib.vo.epncore import CORE, OPTIONAL, votable_datatype

#: Optional EPN-TAP columns that DaCHS's mixin declares for us (the rest of OPTIONAL are ours).
MIXIN_OPTIONAL = ("target_region", "time_scale")
_SQL_TYPES = {"double": "double precision", "char": "text", "long": "bigint", "boolean": "boolean", "int": "integer"}
_SCHEMA = re.compile(r"[a-z][a-z0-9_]{0,39}")
_OURS = [c for c in OPTIONAL if c.name not in MIXIN_OPTIONAL]
#: Subjects EPN-TAP services must give one of.
SUBJECTS = ("planetary-science", "solar-physics", "solar-system-astronomy")


def _column(name, sql_type, ucd="", unit="", description=""):
    attributes = f'name={quoteattr(name)} type={quoteattr(sql_type)}'
    attributes += "".join(f" {key}={quoteattr(value)}" for key, value in (("ucd", ucd), ("unit", unit)) if value)
    return f"    <column {attributes} description={quoteattr(description or name)}/>"


def check_schema(schema):
    """Raise PlanetMLError unless ``schema`` is a DaCHS schema name (lower-case letters, digits, _)."""
    if not isinstance(schema, str) or not _SCHEMA.fullmatch(schema):
        raise PlanetMLError(f"schema {schema!r}: use lower-case letters, digits and _ (a letter first, at most 40)")
    return schema


def resource_descriptor(rows, schema, title, description, subject="planetary-science"):
    """The DaCHS resource descriptor (XML text) serving ``rows`` (from ``catalog.csv``) as ``<schema>.epn_core``."""
    check_schema(schema)
    if subject not in SUBJECTS:
        raise PlanetMLError(f"subject {subject!r} is not one of {SUBJECTS}")
    frame_type = "body" if (rows["spatial_frame_type"] == "body").any() else "none"
    known = {c.name for c in CORE} | {c.name for c in OPTIONAL}
    ours = [_column(c.name, _SQL_TYPES[c.datatype], c.ucd, c.unit, c.description) for c in _OURS]
    extras = [_column(name, _SQL_TYPES[votable_datatype(rows[name])]) for name in rows.columns if name not in known]
    return "\n".join([
        f'<resource schema="{schema}" resdir=".">',
        f'  <meta name="title">{escape(title)}</meta>',
        f'  <meta name="description">{escape(description)}</meta>',
        f'  <meta name="creationDate">{rows["creation_date"].min()}Z</meta>',
        f'  <meta name="subject">{subject}</meta>',
        '  <meta name="creator">PlanetML</meta>',
        '  <meta name="contentLevel">Research</meta>',
        '  <meta name="type">Catalog</meta>',
        '  <table id="epn_core" onDisk="True" adql="True">',
        '    <publish sets="local,ivo_managed"/>',
        f'    <mixin spatial_frame_type="{frame_type}" optional_columns="{" ".join(MIXIN_OPTIONAL)}"'
        '>//epntap2#table-2_0</mixin>',
        *ours, *extras,
        '  </table>',
        '  <data id="import">',
        '    <sources>catalog.csv</sources>',
        '    <csvGrammar/>',
        '    <make table="epn_core"><rowmaker idmaps="*"/></make>',
        '  </data>',
        '</resource>',
        "",
    ])


def dachs_command():
    """Path of the ``dachs`` program; a clear error where DaCHS is not installed."""
    program = shutil.which("dachs")
    if program is None:
        raise PlanetMLError("GAVO DaCHS is not installed: run `make vo-server` (Debian's gavodachs2-server), "
                            "see docs/virtual_observatory.md")
    return program


def run_dachs(*arguments, cwd=None):
    """Run ``dachs ARGUMENTS``; its own message as a PlanetMLError when it fails."""
    done = subprocess.run([dachs_command(), *arguments], cwd=cwd, capture_output=True, text=True, env=os.environ)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise PlanetMLError(f"dachs {' '.join(arguments)} failed: {' '.join(message[-3:])}")
    return done.stdout


def inputs_dir():
    """The ``inputs`` folder of the DaCHS in use (``dachs config inputsDir``)."""
    return Path(run_dachs("config", "inputsDir").strip())


def publish(rows, schema, title, description, subject="planetary-science"):
    """Import EPN-TAP ``rows`` into DaCHS as ``<schema>.epn_core`` and publish it; return the table name.

    Publishing again under the same schema replaces the table's rows. DaCHS reads the rows from
    CSV (empty cells become NULL): publishing 100,000 rows took a third of the time it took from
    the EPN-TAP VOTable (``benchmarks/vo.py``).
    """
    folder = inputs_dir() / check_schema(schema)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "q.rd").write_text(resource_descriptor(rows, schema, title, description, subject))
    rows.to_csv(folder / "catalog.csv", index=False)
    for path in (folder, folder / "q.rd", folder / "catalog.csv"):
        path.chmod(0o755 if path.is_dir() else 0o644)  # the server runs as its own user
    run_dachs("imp", "q", cwd=folder)
    run_dachs("pub", "q", cwd=folder)
    return f"{schema}.epn_core"
