"""The ``planetml`` command: list cases and samples, start JupyterLab, train and evaluate.

Every user mistake ends as one line on stderr and exit code 2, never a traceback. Commands
work on any registered case through the contract of :mod:`planetml_lib.cases.base` and
dispatch on the case's ``KIND``, never on its name.
"""

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path

from planetml_lib.errors import PlanetMLError

EXIT_USAGE = 2
#: ``--input sample:NAME`` predicts a sample shipped with PlanetML (see ``planetml samples``).
SAMPLE_PREFIX = "sample:"


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: ``planetml: error: ...``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _cmd_cases(args):
    from planetml_lib.cases import CASES

    for name, case in CASES.items():
        print(f"{name:<16} {case.TITLE}")


def _cmd_samples(args):
    from planetml_lib.cases import get_case
    from planetml_lib.cases.kinds import kind_spec
    from planetml_lib.datasets import list_samples

    for row in list_samples().itertuples():
        print(f"{row.name:<20} {row.description}")
        if row.kind == "sample":
            suffix = kind_spec(get_case(row.case).KIND).suffixes[0]
            print(f"{'':<20} planetml predict {row.case} --input {SAMPLE_PREFIX}{row.name} --output {row.name}{suffix}")


def _cmd_lab(args):
    from planetml_lib.lab import start_lab

    return start_lab(port=args.port, root_dir=args.notebook_dir, ip=args.ip, base_url=args.base_url,
                     open_browser=args.browser)


def _cmd_dashboard(args):
    from planetml_lib.dashboards.serve import default_notebook_dir, list_dashboards, serve_dashboard

    notebook_dir = default_notebook_dir() if args.notebook_dir is None else args.notebook_dir
    if args.case is None:
        for name, path in list_dashboards(notebook_dir).items():
            print(f"{name:<16} {path}")
        return 0
    return serve_dashboard(args.case, notebook_dir=notebook_dir, port=args.port, ip=args.ip)


def _cmd_train(args):
    from planetml_lib.cases import get_case

    case = get_case(args.case)
    config = case.Config.fast() if args.fast else case.Config()
    trained = case.train(config, case.load_data(config))
    folder = trained.save(args.output)
    print(f"saved the trained {args.case} model to {folder}")


def _cmd_evaluate(args):
    _require_files([args.model] if args.model else [], "model folder")
    if args.output is not None and args.output.suffix.lower() != ".csv":
        raise PlanetMLError(f"{args.output}: the metrics table is written as CSV; use a .csv suffix")
    from planetml_lib.cases import get_case
    from planetml_lib.cases.kinds import data_provenance
    from planetml_lib.io.atomic import atomic_write

    case = get_case(args.case)
    trained = _with_progress(case.load_trained(args.model))
    test = case.load_data(trained.config)["test"]
    metrics = case.evaluate(trained, test, allow_training_data=args.allow_training_data)
    metrics = metrics.assign(data_source=data_provenance(case.KIND, test))  # as the dashboards say it
    print(metrics.to_string(index=False))
    if args.output:
        with atomic_write(args.output) as tmp:
            metrics.to_csv(tmp, index=False)


def _read_options(case, spec, args):
    """Keywords of ``case.read_input`` from the raster options, refused for kinds without them."""
    options = {"image": True} if args.image else {}
    if args.pixel_m is not None:
        options["pixel_m"] = args.pixel_m
    if set(options) - set(spec.input_options):
        raise PlanetMLError(f"--image and --pixel-m apply to raster cases (mounds), not to {case.NAME!r}")
    return options


def _require_files(paths, what="file"):
    """Fail fast, before the heavy imports, on a missing input file or folder."""
    for path in paths:
        if not Path(path).exists():
            raise PlanetMLError(f"{path}: {what} not found")


def _with_progress(trained):
    """``trained`` with ``config.progress`` on: the command shows a bar over the model's batches on a terminal."""
    return dataclasses.replace(trained, config=dataclasses.replace(trained.config, progress=True))


def _input_paths(inputs, case):
    """The ``--input`` paths, each ``sample:NAME`` replaced by the file(s) of that shipped sample of ``case``."""
    from planetml_lib.datasets import sample_files

    paths = []
    for item in map(str, inputs):
        paths += sample_files(item.removeprefix(SAMPLE_PREFIX), case.NAME) if item.startswith(SAMPLE_PREFIX) \
            else [Path(item)]
    return paths


def _note_training_data(trained, data, paths, noun):
    """One line on stderr when ``data`` are inside the model's training or validation data: no test result."""
    from planetml_lib.cases.kinds import data_role

    role = data_role(trained.metadata, data)
    if role != "held-out":
        names = ", ".join(Path(path).name for path in paths)
        print(f"planetml: note: these data ({names}) are in the {role} data of this model; its {noun} are not a test",
              file=sys.stderr)


def _cmd_predict(args):
    _require_files([path for path in args.input if not str(path).startswith(SAMPLE_PREFIX)])
    from planetml_lib.cases import get_case
    from planetml_lib.cases.kinds import check_output_path, kind_spec
    from planetml_lib.cases.trained import shipped_model
    from planetml_lib.io.orbit_stream import OrbitStream

    case = get_case(args.case)
    spec = kind_spec(case.KIND)
    if args.output.suffix.lower() not in spec.suffixes:
        raise PlanetMLError(f"{args.output}: {case.NAME} writes {spec.noun}; use a suffix of {list(spec.suffixes)}")
    options = _read_options(case, spec, args)
    paths = _input_paths(args.input, case)
    data = case.read_input(paths, **options)  # bad input is told before a model loads
    check_output_path(case.KIND, data, args.output)  # and an output it could not be written to
    folder = args.model or shipped_model(case, "image" if options.get("image") else None)
    trained = _with_progress(case.load_trained(folder))
    if not isinstance(data, OrbitStream):  # an archive read orbit by orbit is not read twice to check it
        _note_training_data(trained, data, paths, spec.noun)
    result = case.predict(trained, data)
    print(f"{len(result[1])} {spec.noun} written to {case.write_output(result, args.output)}")


def _cmd_publish(args):
    _require_files([args.catalog])
    from planetml_lib.cases import get_case
    from planetml_lib.cases.kinds import kind_spec
    from planetml_lib.vo.dachs import publish
    from planetml_lib.vo.epncore import to_epncore, write_epncore

    case = get_case(args.case)
    catalogue = kind_spec(case.KIND).read(args.catalog)
    rows = to_epncore(catalogue, case.OBSERVATION, model=args.model_name or case.NAME, simulated=args.simulated)
    if args.votable:
        print(f"{len(rows)} EPN-TAP rows written to {write_epncore(rows, args.votable)}")
        return
    provenance = " (from SIMULATED data)" if args.simulated else ""
    table = publish(rows, args.schema or f"planetml_{case.NAME}", f"PlanetML: {case.TITLE}{provenance}",
                    f"{len(rows)} granules that PlanetML's {case.NAME} case found{provenance}; written from "
                    f"{args.catalog.name}.", subject=args.subject)
    print(f"{len(rows)} rows published as {table}; query it with TAP at the DaCHS server (planetml.vo.search_epntap)")


def _positive_float(text):
    """argparse type: a number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above zero, got {text}")
    return value


def build_parser():
    """Return the argument parser of the ``planetml`` command."""
    parser = _Parser(prog="planetml", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("cases", help="list the science cases, one line each").set_defaults(func=_cmd_cases)
    sub.add_parser("samples", help="list the data samples shipped with PlanetML, each with the command that "
                                   "predicts it").set_defaults(func=_cmd_samples)

    lab = sub.add_parser(
        "lab", help="start JupyterLab (with Voila) on the notebooks",
        description="Start JupyterLab with Voila inside it. The token is $PLANETML_TOKEN (else $JUPYTER_TOKEN, "
                    "else a random one, printed); PLANETML_NO_TOKEN=1 runs without one. With "
                    "$JUPYTERHUB_API_TOKEN set, runs jupyterhub-singleuser and the Hub logs users in.")
    lab.add_argument("--port", type=int, help="port to listen on (default: $PLANETML_PORT, else 8888)")
    lab.add_argument("--ip", help="address to bind (default: 127.0.0.1)")
    lab.add_argument("--base-url", help="URL prefix the server lives under, e.g. /user/me/ "
                                        "(default: $PLANETML_BASE_URL, else /)")
    lab.add_argument("--notebook-dir", type=Path,
                     help="folder to serve (default: the folder holding PlanetML's notebooks/ folder, so that "
                          "dashboards are at voila/render/notebooks/<case>/dashboard.ipynb as on Binder)")
    lab.add_argument("--browser", action="store_true", help="also open a web browser")
    lab.set_defaults(func=_cmd_lab)

    dashboard = sub.add_parser(
        "dashboard", help="serve a case's Voila dashboard on its own (no case: list the dashboards)",
        description="Serve notebooks/CASE/dashboard.ipynb with standalone Voila and print its URL; "
                    "with no CASE, list the available dashboards. Standalone Voila asks for no token: "
                    "it listens on 127.0.0.1 (this machine only) unless --ip says otherwise.")
    dashboard.add_argument("case", nargs="?",
                           help="case whose dashboard to serve, by name or short name (default: list them)")
    dashboard.add_argument("--port", type=int, default=8866, help="port to listen on (default: 8866)")
    dashboard.add_argument("--ip", default="127.0.0.1",
                           help="address to bind (default: 127.0.0.1; any other address lets anyone who "
                                "reaches it use the dashboard, there is no token)")
    dashboard.add_argument("--notebook-dir", type=Path,
                           help="folder holding <case>/dashboard.ipynb (default: $PLANETML_NOTEBOOKS, else "
                                "./notebooks, else the notebooks beside the installed package, else ~/notebooks)")
    dashboard.set_defaults(func=_cmd_dashboard)

    train = sub.add_parser("train", help="train a case's model and save it as a model folder")
    train.add_argument("case", help="science case name (see `planetml cases`)")
    train.add_argument("--output", type=Path, required=True, help="model folder to write")
    train.add_argument("--fast", action="store_true", help="tiny model and data slice, for a quick check")
    train.set_defaults(func=_cmd_train)

    predict = sub.add_parser(
        "predict", help="detect events in data files (catalogue) or objects in a raster (outlines)",
        description="Time-series cases (icme, mercury) write an event catalogue; raster cases (mounds) read "
                    "a single-band GeoTIFF DTM in metres (or an image with --image) and write one polygon per "
                    "object with its morphometry.")
    predict.add_argument("case", help="science case name (see `planetml cases`)")
    predict.add_argument("--input", type=Path, nargs="+", required=True,
                         help="data file(s): the case's CSV layout, CDF or PDS files; a GeoTIFF for mounds; "
                              "or sample:NAME, a sample shipped with PlanetML (see `planetml samples`)")
    predict.add_argument("--output", type=Path, required=True,
                         help="catalogue to write: .csv, .xml/.vot (VOTable) or .txt (AMDA time table); "
                              "outlines: .geojson or .gpkg")
    predict.add_argument("--model", type=Path, help="model folder (default: the model shipped with PlanetML)")
    predict.add_argument("--image", action="store_true",
                         help="mounds: the raster is a panchromatic image, not a DTM (uses the image model)")
    predict.add_argument("--pixel-m", type=_positive_float,
                         help="mounds: pixel size in metres, for a raster without CRS")
    predict.set_defaults(func=_cmd_predict)

    evaluate = sub.add_parser(
        "evaluate", help="score a saved model on the case's test split",
        description="Score a model folder on its case's test split. A model trained on the test data (the shipped "
                    "ICME model) is refused unless --allow-training-data, and the table then says 'training'.")
    evaluate.add_argument("case", help="science case name (see `planetml cases`)")
    evaluate.add_argument("--model", type=Path, help="model folder written by `planetml train` (default: the "
                                                     "model shipped with PlanetML)")
    evaluate.add_argument("--allow-training-data", action="store_true",
                          help="score even data the model was trained on (labelled 'training')")
    evaluate.add_argument("--output", type=Path, help="also write the metrics table to this CSV file")
    evaluate.set_defaults(func=_cmd_evaluate)

    publish = sub.add_parser(
        "publish", help="publish a catalogue as an EPN-TAP table in GAVO DaCHS (make vo-server)",
        description="Convert a catalogue written by `planetml predict` to EPN-TAP 2.0 rows and serve them as "
                    "<schema>.epn_core from the DaCHS that $GAVOSETTINGS names (else the system's; see "
                    "docs/virtual_observatory.md). With --votable, only write the rows as a VOTable.")
    publish.add_argument("case", help="science case whose catalogue it is (see `planetml cases`)")
    publish.add_argument("--catalog", type=Path, required=True, help="catalogue written by `planetml predict`")
    publish.add_argument("--schema", help="DaCHS schema of the table (default: planetml_<case>)")
    publish.add_argument("--model-name", help="model named in the rows and their group (default: the case name)")
    publish.add_argument("--simulated", action="store_true",
                         help="the catalogue was made from simulated data (every row and the title say so)")
    publish.add_argument("--subject", default="planetary-science",
                         help="the service's subject, one of EPN-TAP's keywords (default: planetary-science)")
    publish.add_argument("--votable", type=Path, help="write the EPN-TAP rows to this VOTable instead of publishing")
    publish.set_defaults(func=_cmd_publish)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings on the command line are one line, like errors (no source file and line)."""
    print(f"planetml: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args) or 0
    except PlanetMLError as err:
        print(f"planetml: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
