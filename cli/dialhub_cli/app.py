"""The `dialhub` command: where the API is (global options), the command groups, and how a failure ends."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from dialhub_cli import campaigns, imports, results, suppressions
from dialhub_cli.client import CliError
from dialhub_cli.session import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, JsonFlag, UsageProblem
from dialhub_cli.target import Target


class _ReportingGroup(TyperGroup):
    """Every command's failures end here: said on stderr, with the exit status scripts can test."""

    def invoke(self, ctx: Any) -> Any:
        errors = Console(stderr=True, highlight=False, soft_wrap=True)
        try:
            return super().invoke(ctx)
        except CliError as exc:
            errors.print(f"error: {exc.message}", markup=False)
            for detail in exc.details:
                errors.print(f"  {detail}", markup=False)
            raise typer.Exit(EXIT_FAILED) from None
        except UsageProblem as exc:
            errors.print(f"usage: {exc}", markup=False)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            errors.print("interrupted", markup=False)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        finally:
            target = ctx.obj
            if isinstance(target, Target):
                target.close()


app = typer.Typer(
    name="dialhub",
    cls=_ReportingGroup,
    help="dialhub's internal API from the command line: campaigns from contact files, progress, results out.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def connect(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(envvar="DIALHUB_URL", help="The API's URL, e.g. make serve's http://127.0.0.1:3000"),
    ] = None,
    stack: Annotated[
        str | None,
        typer.Option(
            envvar="DIALHUB_STACK",
            help="A deployed stack's name (e.g. dialhub-prod): its ApiUrl output, requests signed with SigV4",
        ),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="AWS profile for --stack (default: the AWS chain's)")] = None,
    region: Annotated[str | None, typer.Option(help="AWS region for --stack (default: the AWS chain's)")] = None,
    sigv4: Annotated[bool, typer.Option("--sigv4", help="Sign requests to --url too (an API in AWS)")] = False,
    ca_bundle: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Certificates to trust for the API and its links (default: AWS_CA_BUNDLE, SSL_CERT_FILE, or the "
            "system's; make serve's is found by itself)",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for each answer")] = 30.0,
    json_output: JsonFlag = False,
) -> None:
    sources = {name: ctx.get_parameter_source(name) for name in ("url", "stack")}
    if url is not None and stack is not None:
        from_line = {name for name, source in sources.items() if source is not None and source.name == "COMMANDLINE"}
        if len(from_line) != 1:
            raise typer.BadParameter("give --url or --stack, not both (DIALHUB_URL / DIALHUB_STACK count too)")
        url, stack = (url, None) if "url" in from_line else (None, stack)
    ctx.obj = Target(
        url=url, stack=stack, profile=profile, region=region, sigv4=sigv4, ca_bundle=ca_bundle, timeout=timeout
    )
    ctx.meta["dialhub.json"] = json_output


app.add_typer(campaigns.app, name="campaigns")
app.add_typer(imports.app, name="imports")
results.register(app)
suppressions.register(app)


def main() -> None:
    app()
