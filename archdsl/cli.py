"""The command line. The only module that prints; every error is rendered here, once.

Exit codes: 0 success, 1 errors in the spec, 2 usage or I/O errors, 3 internal errors.
"""

from __future__ import annotations

import gc
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from archdsl import __version__
from archdsl.errors import ArchError

EXIT_SPEC = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
_USAGE_CODES = {"E0004", "E0006", "E0007"}


def _exit_code(err: ArchError) -> int:
    codes = {d.code for d in err.diagnostics}
    if codes & _USAGE_CODES or all(c.startswith("E05") for c in codes):
        return EXIT_USAGE
    if any(c.startswith("E09") for c in codes):
        return EXIT_INTERNAL
    return EXIT_SPEC


def _report(err: ArchError, sources: dict[str, Any], fmt: str) -> None:
    from archdsl.diagnostics import render_json, render_text

    if fmt == "json":
        click.echo(render_json(err.diagnostics, sources), err=True)
        return
    for diag in err.diagnostics:
        click.echo(render_text(diag, sources), err=True)
    n = len(err.diagnostics)
    click.echo(f"error: could not compile ({n} error{'s' if n != 1 else ''})", err=True)


def _run(fmt: str, action: Callable[[dict[str, Any]], None]) -> None:
    """Run ``action`` with a dict it fills with the sources it read; render any failure."""
    sources: dict[str, Any] = {}
    try:
        action(sources)
    except ArchError as err:
        _report(err, sources, fmt)
        sys.exit(_exit_code(err))
    except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
        raise
    except BrokenPipeError:  # the reader went away (`archdsl check ... | head`)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:  # anything else is a bug in archdsl
        if os.environ.get("ARCHDSL_DEBUG"):
            raise
        click.echo(
            f"error: internal error, please report: {type(exc).__name__}: {exc}\n"
            "  (set ARCHDSL_DEBUG=1 to see the traceback)",
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


def _parse_sets(values: tuple[str, ...]) -> dict[str, str]:
    """``--set NAME=VALUE`` options; one value each (``--set "n=1, m=2"`` is refused, not read as
    ``n=1``). A value that does not parse is left to the compiler, which reports it in place."""
    from archdsl.syntax.parser import parse_override

    out: dict[str, str] = {}
    for item in values:
        if "=" not in item:
            raise click.BadParameter(f"expected NAME=VALUE, got {item!r}", param_hint="--set")
        key, value = item.split("=", 1)
        try:
            parse_override(key.strip(), value.strip())
        except ArchError as err:
            if err.diagnostics[0].code == "E0506":
                raise click.BadParameter(
                    f"{item!r} sets more than one value; give each parameter its own "
                    "--set NAME=VALUE",
                    param_hint="--set",
                ) from None
        out[key.strip()] = value.strip()
    return out


def _refuse_inputs(output: Path, inputs: Iterable[Path | str]) -> None:
    """Refuse an output path that is one of the files the compilation reads (E0007)."""
    try:
        target = output.resolve()
    except (OSError, RuntimeError):
        return  # unresolvable: writing will fail and say why
    for path in inputs:
        p = Path(path)
        same = target == p.resolve()
        if not same and output.exists() and p.exists():
            try:
                same = os.path.samefile(output, p)
            except OSError:
                same = False
        if same:
            raise ArchError(
                [
                    _diagnostic(
                        "E0007",
                        f"refusing to write the output over `{path}`, an input of the compilation",
                        "choose another -o FILE",
                    )
                ]
            )


def _diagnostic(code: str, message: str, help: str | None = None) -> Any:
    from archdsl.errors import Diagnostic

    return Diagnostic(code, message, help=help)


def _write_output(output: Path, data: bytes) -> None:
    """Write ``data`` to ``output`` through a temporary file in the same directory and a rename,
    so a failure leaves any previous file whole; an I/O error is E0006 (exit 2)."""
    tmp: str | None = None
    try:
        directory = output.parent if str(output.parent) else Path(".")
        try:
            mode = stat.S_IMODE(os.stat(output).st_mode)
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, output)
        tmp = None
    except OSError as exc:
        raise ArchError(
            [
                _diagnostic(
                    "E0006",
                    f"cannot write `{output}`: {exc.strerror or exc}",
                    "check the directory exists and is writable",
                )
            ]
        ) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _echo_output(text: str) -> None:
    try:
        click.echo(text, nl=False)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise ArchError(
            [_diagnostic("E0006", f"cannot write to standard output: {exc.strerror or exc}")]
        ) from None


_error_format = click.option(
    "--error-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="How to print errors.",
)
_model = click.option("--model", "-m", metavar="NAME", help="The arch or variant to build.")
_sets = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a model parameter (repeatable), e.g. --set num_classes=10.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archdsl")
def cli() -> None:
    """Compile neural-network architecture specs to PyTorch and Keras code."""


@cli.command("compile")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--backend",
    "-b",
    type=click.Choice(["torch", "keras", "ir"]),
    default="torch",
    show_default=True,
    help="Target framework, or `ir` for the lowered model as JSON.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write here instead of stdout.",
)
@_model
@_sets
@_error_format
def compile_cmd(
    spec: Path,
    backend: str,
    output: Path | None,
    model: str | None,
    sets: tuple[str, ...],
    error_format: str,
) -> None:
    """Compile SPEC to a standalone PyTorch module or Keras model."""
    overrides = _parse_sets(sets)

    def action(sources: dict[str, Any]) -> None:
        from archdsl.compiler import compile_spec

        if output is not None:
            _refuse_inputs(output, [spec])
        result = _with_sources(sources, lambda: compile_spec(spec, backend, model, overrides))
        assert result.source is not None
        if output is None:
            _echo_output(result.source)
        else:
            _refuse_inputs(output, result.program.paths)  # imports, found while compiling
            _write_output(output, result.source.encode("utf-8"))

    _run(error_format, action)


@cli.command("check")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@_model
@_sets
@click.option("--modules", is_flag=True, help="List every module instance with its shapes.")
@_error_format
def check_cmd(
    spec: Path, model: str | None, sets: tuple[str, ...], modules: bool, error_format: str
) -> None:
    """Validate SPEC; print its output shape and parameter counts."""
    overrides = _parse_sets(sets)

    def action(sources: dict[str, Any]) -> None:
        from archdsl.compiler import analyse

        result = _with_sources(sources, lambda: analyse(spec, model, overrides))
        m = result.model
        sel = result.selection
        shape = ", ".join(str(d) for d in m.output_shape)
        in_shape = ", ".join(str(d) for d in m.input_shape)
        title = sel.arch if sel.entry == sel.arch.lower() else f"{sel.entry} ({sel.arch})"
        click.echo(f"{result.program.root}: {title}")
        click.echo(f"  input                  [{in_shape}]")
        click.echo(f"  output                 [{shape}]")
        click.echo(f"  trainable parameters   {m.trainable:,}")
        click.echo(f"  batch-norm statistics  {m.stats:,}")
        click.echo(f"  module instances       {len(m.instances()):,}")
        if modules:
            for inst in m.root.walk():
                if not inst.path:
                    continue
                depth = inst.path.count(".")
                outs = "; ".join("[" + ", ".join(map(str, s)) + "]" for s in inst.out_shapes)
                t, _ = inst.totals()
                click.echo(f"  {'  ' * depth}{inst.path} ({inst.type})  -> {outs}  {t:,}")

    _run(error_format, action)


def _names(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


@cli.command("summary")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--batch", "-n", type=int, default=1, show_default=True, help="Batch size.")
@click.option(
    "--depth", "-d", type=int, default=3, show_default=True, help="Deepest module level shown."
)
@click.option(
    "--columns",
    metavar="A,B,...",
    help="input_size, output_size, num_params, params_percent, kernel_size, mult_adds, "
    "trainable [default: output_size,num_params].",
)
@click.option(
    "--row-settings", metavar="A,B,...", help="var_names, depth, ascii_only [default: depth]."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "text", "markdown", "json", "csv"]),
    default="table",
    show_default=True,
    help="table: for the terminal; text: as torchinfo prints it; the others for scripts.",
)
@_model
@_sets
@_error_format
def summary_cmd(
    spec: Path,
    batch: int,
    depth: int,
    columns: str | None,
    row_settings: str | None,
    fmt: str,
    model: str | None,
    sets: tuple[str, ...],
    error_format: str,
) -> None:
    """torchinfo's summary of SPEC, computed from the spec alone (no framework)."""
    overrides = _parse_sets(sets)

    def action(sources: dict[str, Any]) -> None:
        from archdsl.compiler import analyse
        from archdsl.summary import summarize

        result = _with_sources(sources, lambda: analyse(spec, model, overrides))
        summary = summarize(
            result.program, result.model, batch, depth, _names(columns), _names(row_settings)
        )
        click.echo(summary.render(fmt), nl=False)

    _run(error_format, action)


@cli.command("graph")
@click.argument("spec", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="FILE.svg, FILE.png (through Graphviz's dot) or FILE.dot.",
)
@click.option(
    "--depth",
    "-d",
    type=int,
    default=1,
    show_default=True,
    help="Module level drawn as boxes: 1 for an arch's members (stages), more for layers.",
)
@_model
@_sets
@_error_format
def graph_cmd(
    spec: Path,
    output: Path,
    depth: int,
    model: str | None,
    sets: tuple[str, ...],
    error_format: str,
) -> None:
    """Draw SPEC's block diagram, with the shape on every edge."""
    overrides = _parse_sets(sets)
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "dot"):
        raise click.BadParameter("the file must end in .svg, .png or .dot", param_hint="--output")

    def action(sources: dict[str, Any]) -> None:
        from archdsl.compiler import analyse
        from archdsl.graph import build_graph, render

        _refuse_inputs(output, [spec])
        result = _with_sources(sources, lambda: analyse(spec, model, overrides))
        dot = build_graph(result.program, result.model, depth).dot()
        data = dot.encode("utf-8") if fmt == "dot" else render(dot, fmt)
        _refuse_inputs(output, result.program.paths)
        _write_output(output, data)

    _run(error_format, action)


@cli.command("fmt")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file is not formatted.")
@click.option("--diff", is_flag=True, help="Change nothing; print what would change.")
@_error_format
def fmt_cmd(specs: tuple[Path, ...], check: bool, diff: bool, error_format: str) -> None:
    """Rewrite SPEC files in the canonical layout, keeping every comment."""
    from archdsl.fmt import format_path, write_in_place

    status = 0
    for spec in specs:
        try:
            result = format_path(spec)
        except ArchError as err:
            _report(err, dict(err.sources), error_format)
            status = max(status, _exit_code(err))
            continue
        if not result.changed:
            continue
        if diff:
            click.echo(result.diff(), nl=False)
        if check:
            click.echo(f"would reformat {spec}", err=True)
            status = max(status, EXIT_SPEC)
        elif not diff:
            try:
                write_in_place(spec, result.formatted)
            except OSError as exc:
                click.echo(f"error: cannot write `{spec}`: {exc.strerror or exc}", err=True)
                status = max(status, EXIT_USAGE)
                continue
            click.echo(f"reformatted {spec}", err=True)
    sys.exit(status)


@cli.command("explain")
@click.argument("code", required=False)
@click.option("--list", "list_codes", is_flag=True, help="List every error code.")
@_error_format
def explain_cmd(code: str | None, list_codes: bool, error_format: str) -> None:
    """Explain error CODE (e.g. E0402), with a failing and a fixed example."""
    from archdsl.codes import CATALOGUE, explain, lookup

    if list_codes or code is None:
        for entry in CATALOGUE.values():
            click.echo(f"{entry.code}  {entry.title}")
        return

    def action(sources: dict[str, Any]) -> None:
        click.echo(explain(lookup(code)), nl=False)

    _run(error_format, action)


@cli.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the lowered model (`compile --backend ir`)."""
    import json

    from archdsl.ir.lowered import schema

    click.echo(json.dumps(schema(), indent=2, sort_keys=True))


def _with_sources(sources: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """Call ``fn``; on an error, make the files it read available for rendering."""
    try:
        result = fn()
    except ArchError as err:
        sources.update(getattr(err, "sources", {}) or {})
        raise
    sources.update(result.program.sources)
    return result


def main() -> None:
    from archdsl.collector import collect_rarely

    collect_rarely()
    try:
        cli(prog_name="archdsl")
    finally:
        # The interpreter collects once more on its way out, over every object the compilation
        # left (50-75 ms of a cold ResNet-152 compile): the process is ending, let it not.
        gc.freeze()


if __name__ == "__main__":
    main()
