"""The `coursebot` command line.

Errors a user can fix are printed as one clear message with a non-zero exit code;
heavy libraries are imported only by the commands that need them.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from bot import __version__
from bot.errors import CourseBotError, ProjectError

# Bot text and file:line locations are printed as they are: no highlighting, and no emoji
# codes (rich would turn "README.md:100:" into an emoji).
console = Console(highlight=False, emoji=False)
errors = Console(stderr=True, highlight=False, emoji=False)

project_option = click.option(
    "--project", "-p", "project_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
    show_default=True, help="The bot project directory.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coursebot")
@click.option("--verbose", "-v", count=True, help="Show more log output (-vv for debug).")
def cli(verbose: int) -> None:
    """CourseBot: a course assistant for the AWS machine-learning intro course."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


@cli.command()
@project_option
@click.option("--force", is_flag=True, help="Retrain even if the data has not changed.")
@click.option("--fresh", is_flag=True,
              help="Retrain every part anew: fine-tune the sentence encoder again even where the stored "
                   "model's one fits a small edit (which keeps unrelated answers as they were).")
def train(project_dir: Path, force: bool, fresh: bool) -> None:
    """Train the NLU model (skipped when nothing changed since the last training)."""
    from bot.nlu import training
    from bot.project import load_project

    project = load_project(project_dir)
    with _progress("Training the NLU model") as on_step:
        result = training.train(project, force=force, fresh=fresh, on_step=on_step)
    if result.trained:
        console.print(f"Trained in {result.seconds:.1f} s: {result.model_dir}")
        _print_kept(result.kept, console)
    else:
        console.print(f"The model is up to date: {result.model_dir} (use --force to retrain)")


@cli.command()
@project_option
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print the parse result and the bot's messages as JSON.")
@click.option("--sender", default="cli", show_default=True, help="Conversation id.")
def ask(project_dir: Path, text: str, as_json: bool, sender: str) -> None:
    """Ask one question and print the answer."""
    if not text.strip():
        raise click.UsageError("the question is empty; e.g. coursebot ask \"what is overfitting?\"")
    agent = _load_agent(project_dir, quiet=as_json)
    parse = agent.parse(text)
    messages = agent.dialogue.handle(sender, text, parse)
    if as_json:
        click.echo(json.dumps({"parse": parse, "messages": messages}, indent=2, ensure_ascii=False))
        return
    for message in messages:
        if message.get("text"):
            click.echo(message["text"])
        for number, button in enumerate(message.get("buttons") or [], start=1):
            click.echo(f"  {number}. {button.get('title')}")


def aws_options(command: Callable) -> Callable:
    """--sandbox and --dry-run, shared by the commands that run AWS actions."""
    command = click.option("--dry-run", is_flag=True,
                           help="Show the exact AWS request of anything billable instead of sending it.")(command)
    return click.option("--sandbox", is_flag=True,
                        help="Run AWS actions against a local simulator (moto) on 127.0.0.1: free, no account "
                             "needed.")(command)


@cli.command()
@project_option
@click.option("--sender", default="terminal", show_default=True, help="Conversation id.")
@aws_options
def chat(project_dir: Path, sender: str, sandbox: bool, dry_run: bool) -> None:
    """Chat in the terminal (trains first if the model is missing or out of date)."""
    from bot.channels.terminal import TerminalChat

    with _aws_services(project_dir, sandbox, dry_run) as aws:
        TerminalChat(_load_agent(project_dir, aws=aws), console=console, sender_id=sender).run()


@cli.command()
@project_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on (0.0.0.0: every network interface).")
@click.option("--port", type=click.IntRange(0, 65535), default=5005, show_default=True,
              help="The port to listen on (0: any free port).")
@click.option("--endpoints", "endpoints_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Rasa's endpoints file, whose tracker_store and lock_store say where conversations are kept "
                   "[default: the project's endpoints.yml; without a tracker_store there, SQLite in "
                   ".coursebot/conversations.db].")
@click.option("--auth-token", envvar="COURSEBOT_AUTH_TOKEN", show_envvar=True,
              help="Require this token on the API routes, as ?token=... or Authorization: Bearer ...")
@click.option("--cors", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Let web pages from ORIGIN call the API (repeatable; * for any). Off by default.")
@click.option("--media-dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Serve the files in this folder under /media/ [default: the folder where the bot saves "
                   "Polly's audio, 'aws: media_dir' in coursebot.yml].")
@aws_options
def serve(project_dir: Path, host: str, port: int, endpoints_file: Path | None, auth_token: str | None,
          cors_origins: tuple[str, ...], media_dir: Path | None, sandbox: bool, dry_run: bool) -> None:
    """Serve the bot over HTTP: the web widget at /, Rasa's REST webhook and /model/parse."""
    from bot.agent import Agent
    from bot.channels import server
    from bot.channels.http import create_app
    from bot.project import load_project
    from bot.stores.config import ENDPOINTS, read_endpoints, stores_from_endpoints

    project = load_project(project_dir)
    endpoints = read_endpoints(endpoints_file or project.root / ENDPOINTS)
    store, locks = stores_from_endpoints(endpoints, project.root, default="sqlite")
    sock = server.bind(host, port)
    with _aws_services(project_dir, sandbox, dry_run) as aws:
        _train_if_needed(project)
        agent = Agent.from_project(project, train_if_needed=False, store=store, locks=locks, aws=aws)
        if media_dir is None:
            media_dir = aws.settings.media_dir
            media_dir.mkdir(parents=True, exist_ok=True)
        app = create_app(agent, auth_token=auth_token, cors_origins=cors_origins, media_dir=media_dir)
        def ready() -> None:
            console.print(f"CourseBot is listening on {server.url(sock)} (the web widget is at /). Press Ctrl-C "
                          "to stop.", markup=False, soft_wrap=True)
            sys.stdout.flush()

        server.run(app, sock, on_ready=ready)
    console.print("Stopped.")


@cli.command("test")
@project_option
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Cross-validation folds (ignored with --test-data).")
@click.option("--test-data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Annotated examples in Rasa NLU YAML to test the trained model on, instead of cross-validation.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("results"),
              show_default=True, help="Where to write the report.")
@click.option("--stories", "stories_path", type=click.Path(exists=True, path_type=Path),
              help="Run the conversation tests in this file or folder instead (like `rasa test core`).")
@click.option("--answers", "answers_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Play an answer set (questions with the words a right reply contains) instead, and report "
                   "the pass rate by section of the notes.")
def test_nlu(project_dir: Path, folds: int, test_data: Path | None, out_dir: Path, stories_path: Path | None,
             answers_path: Path | None) -> None:
    """Evaluate the NLU model and write a report with pictures (like `rasa test nlu`),
    play conversation tests with --stories, or an answer set with --answers."""
    from bot.nlu import testing
    from bot.nlu.report import intent_report, write_report
    from bot.project import load_project, read_nlu_file

    if stories_path is not None:
        _test_stories(project_dir, stories_path)
        return
    if answers_path is not None:
        _test_answers(project_dir, answers_path, out_dir)
        return
    project = load_project(project_dir)
    if test_data is not None:
        data = read_nlu_file(test_data)
        agent = _load_agent(project_dir)
        with _progress("Testing the trained model") as on_step:
            evaluation = testing.evaluate_model(agent.nlu, data)
            if on_step:
                on_step("done", 1, 1)
    else:
        with _progress(f"{folds}-fold cross-validation") as on_step:
            evaluation = testing.cross_validate(project, folds, on_step)
    intents = intent_report(evaluation.predictions)
    summary = {"mode": evaluation.mode, "examples": len(evaluation.predictions),
               "accuracy": round(intents["accuracy"], 4), "macro F1": round(intents["macro avg"]["f1-score"], 4)}
    files = write_report(evaluation.predictions, out_dir, summary=summary)
    console.print(f"{evaluation.mode}: intent accuracy {intents['accuracy']:.1%}, "
                  f"macro F1 {intents['macro avg']['f1-score']:.3f} on {len(evaluation.predictions)} examples")
    console.print(f"Report: {files.files['html']}")


def _test_stories(project_dir: Path, path: Path) -> None:
    from bot.dialogue.conversation_tests import (
        read_conversation_tests,
        run_conversation_tests,
    )

    tests = read_conversation_tests(path)
    agent = _load_agent(project_dir)
    outcome = run_conversation_tests(agent, tests)
    for failure in outcome.failures:
        console.print(f"[red]FAIL[/] {escape(str(failure))}")
    colour = "green" if not outcome.failures else "red"
    console.print(f"[{colour}]{outcome.passed} of {len(outcome.tests)} conversations passed[/]")
    if outcome.failures:
        raise SystemExit(1)


def _test_answers(project_dir: Path, path: Path, out_dir: Path) -> None:
    from rich.table import Table

    from bot.evaluation.answer_set import read_answer_set, run_answer_set, write_report

    items = read_answer_set(path)
    agent = _load_agent(project_dir)

    def respond(sender: str, text: str) -> list:
        return agent.dialogue.handle(sender, text, agent.parse(text))

    with _progress(f"Playing {len(items)} questions and conversations") as on_step:
        report = run_answer_set(respond, items, None if on_step is None else
                                lambda done, total: on_step(f"{done}/{total}", done, total))
    for outcome in report.outcomes:
        if not outcome.passed:
            check = outcome.item.checks[outcome.turn]
            wanted = "a decline" if check.out_of_scope else " / ".join(check.any_of or check.all_of)
            console.print(f"[red]MISS[/] {outcome.item.id} {escape(check.text)!r}: wanted {escape(wanted)}; "
                          f"got {escape(outcome.reply[:160])!r}", soft_wrap=True)
            for passage in outcome.passages[:3]:
                console.print(f"      used: {escape(str(passage))}", soft_wrap=True)
    table = Table("section", "questions", "conversations")
    questions, conversations = report.by_section(conversations=False), report.by_section(conversations=True)
    for section in sorted(set(questions) | set(conversations)):
        cells = [f"{p}/{t}" if (p, t) != (0, 0) else "" for p, t in (questions.get(section, (0, 0)),
                                                                      conversations.get(section, (0, 0)))]
        table.add_row(section, *cells)
    console.print(table)
    console.print(f"Questions: {report.share(report.questions):.1%} of {len(report.questions)}; conversations: "
                  f"{report.share(report.conversations):.1%} of {len(report.conversations)}; out of scope declined "
                  f"{report.declined_share(True):.1%}, in scope wrongly declined {report.declined_share(False):.1%}")
    console.print(f"Report: {write_report(report, out_dir)}")


@cli.group()
def benchmark() -> None:
    """Measure the engine on public benchmark data."""


@benchmark.command("nlu")
@project_option
@click.option("--train", "train_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Training data: CSV with a header naming text and label (or category, or intent).")
@click.option("--test", "test_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Test data, same format.")
@click.option("--valid", "valid_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Validation data for the thresholds (default: 10% of the training data).")
@click.option("--oos-label", help="The label of out-of-scope examples in the CSV files.")
@click.option("--clinc", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CLINC150's data_full.json (or data_small/imbalanced) instead of CSV files.")
@click.option("--snips", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The SNIPS 2017 benchmark folder (intents and slot entities) instead of CSV files.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results to this JSON file.")
def benchmark_nlu(project_dir: Path, train_csv: Path | None, test_csv: Path | None, valid_csv: Path | None,
                  oos_label: str | None, clinc: Path | None, snips: Path | None, json_out: Path | None) -> None:
    """Train the configured NLU pipeline from scratch on benchmark data and measure it."""
    from bot.benchmarks import datasets
    from bot.benchmarks.nlu import run
    from bot.settings import load_settings

    sources = [name for name, given in (("--train/--test", train_csv or test_csv), ("--clinc", clinc),
                                        ("--snips", snips)) if given]
    if len(sources) != 1:
        raise click.UsageError("give exactly one data source: --train and --test CSV files, --clinc or --snips")
    if clinc:
        data = datasets.read_clinc(clinc)
    elif snips:
        data = datasets.read_snips(snips)
    else:
        if not (train_csv and test_csv):
            raise click.UsageError("CSV benchmarks need both --train and --test")
        data = datasets.read_csv(train_csv, test_csv, valid_csv, oos_label)
    settings = load_settings(project_dir)
    with _progress(f"Benchmarking on {data.name}") as on_step:
        result = run(data, settings.pipeline, on_step)
    _print_benchmark(result)
    if json_out is not None:
        json_out.write_text(json.dumps(result.as_dict(), indent=2) + "\n", encoding="utf-8")
        console.print(f"Results: {json_out}")


def _print_benchmark(result) -> None:
    from rich.table import Table

    table = Table(title=f"{result.dataset}: {result.train_examples} training, {result.test_examples} test examples")
    table.add_column("measure")
    table.add_column("value", justify="right")

    def percent(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    for label, value in (("in-scope accuracy", percent(result.in_scope_accuracy)),
                         ("macro F1", f"{result.macro_f1:.3f}"),
                         ("out-of-scope recall", percent(result.oos_recall)),
                         ("out-of-scope precision", percent(result.oos_precision)),
                         ("entity F1", percent(result.entity_f1)),
                         ("training", f"{result.training_seconds:.1f} s"),
                         ("parse p50 / p99", f"{result.parse_p50_ms:.2f} / {result.parse_p99_ms:.2f} ms"),
                         ("peak memory (RSS)", f"{result.peak_rss_mb:.0f} MB"),
                         ("thresholds (chosen on validation data)",
                          ", ".join(f"{k} {v}" for k, v in result.thresholds.items()) or "-")):
        table.add_row(label, value)
    console.print(table)


@cli.group("export")
def export_group() -> None:
    """Turn the project into other platforms' formats."""


@export_group.command("lex")
@project_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("lex"),
              show_default=True, help="Where to write the Lex V2 import zip and the CloudFormation template.")
@click.option("--bot-name", default="CourseBot", show_default=True, help="The Lex bot's name.")
def export_lex(project_dir: Path, out_dir: Path, bot_name: str) -> None:
    """Write the project as an Amazon Lex V2 bot (import zip and CloudFormation template)."""
    from bot.lex import export_lex as export
    from bot.project import load_project

    result = export(load_project(project_dir), out_dir, bot_name=bot_name)
    shown = result.skipped if logging.getLogger().level <= logging.INFO else result.skipped[:3]
    for skipped in shown:
        errors.print(f"skipped: {skipped.location}: {skipped.text!r} ({skipped.reason})", markup=False,
                     soft_wrap=True)
    if len(shown) < len(result.skipped):
        errors.print(f"... and {len(result.skipped) - len(shown)} more examples skipped (-v lists them all)")
    console.print(result.summary(), markup=False, soft_wrap=True)


@cli.group("deploy")
def deploy_group() -> None:
    """Deploy the bot to AWS."""


@deploy_group.command("lex")
@project_option
@click.option("--bucket", required=True, help="An S3 bucket you own, for the Lambda bundle and the template.")
@click.option("--stack-name", default="coursebot-lex", show_default=True, help="The CloudFormation stack.")
@click.option("--bot-name", default="CourseBot", show_default=True, help="The Lex bot's name.")
@click.option("--execution-role-arn", help="The SageMaker execution role the bot may pass to notebooks and "
              "training jobs [default: 'aws: role_arn' in coursebot.yml].")
@click.option("--image-bucket", help="The bucket whose images Rekognition may read [default: --bucket].")
@click.option("--dry-run", is_flag=True, help="Build everything and print what would be done; call nothing.")
@click.option("--yes", is_flag=True, help="Do not ask before creating resources in the account.")
def deploy_lex(project_dir: Path, bucket: str, stack_name: str, bot_name: str, execution_role_arn: str | None,
               image_bucket: str | None, dry_run: bool, yes: bool) -> None:
    """Build the bundle, export the bot, upload both to S3 and create or update the stack."""
    from bot.aws.session import AwsSession
    from bot.lex import export_lex as export
    from bot.lex.deploy import DeployPlan, LexDeployer
    from bot.project import load_project
    from lambda_handlers.bundle import build_bundle

    project = load_project(project_dir)
    role = execution_role_arn or project.settings.aws.role_arn
    if not role:
        raise click.UsageError("give --execution-role-arn (the SageMaker execution role, arn:aws:iam::<account>:"
                               "role/<name>) or set 'aws: role_arn' in coursebot.yml")
    out = project.root / ".coursebot" / "deploy"
    _train_if_needed(project)  # the bundle carries the trained model's answer index
    with _progress("Building the Lambda bundle and the Lex bot") as on_step:
        bundle = build_bundle(project.root, out)
        exported = export(project, out, bot_name=bot_name)
        if on_step:
            on_step("done", 1, 1)
    plan = DeployPlan(stack_name, bucket, bundle.path, exported.template_path, role, image_bucket or bucket)
    console.print(("Dry run: nothing is sent. " if dry_run else "") + "The plan:", markup=False)
    for step in plan.describe():
        console.print(f"- {step}", markup=False, soft_wrap=True)
    if dry_run:
        return
    if not yes:
        click.confirm("This creates a Lex bot, a Lambda function and IAM roles in your AWS account; Lex and Lambda "
                      "bill per request. Go ahead?", abort=True, err=True)
    result = LexDeployer(AwsSession(project.settings.aws), on_event=lambda line: console.print(
        line, markup=False, soft_wrap=True)).deploy(plan)
    console.print(f"Stack {stack_name}: {result.status}", markup=False)
    for key, value in result.outputs.items():
        console.print(f"{key}: {value}", markup=False, soft_wrap=True)


@cli.group("build")
def build_group() -> None:
    """Build deployable artefacts."""


@build_group.command("lambda")
@project_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("dist"),
              show_default=True, help="Where to write coursebot-lambda.zip.")
def build_lambda(project_dir: Path, out_dir: Path) -> None:
    """Zip the Lex code hook with the light core and the project's data (no NLU, no torch)."""
    from bot.project import load_project
    from lambda_handlers.bundle import build_bundle

    project = load_project(project_dir)
    _train_if_needed(project)  # the bundle carries the trained model's answer index
    with _progress("Building the Lambda bundle") as on_step:
        bundle = build_bundle(project.root, out_dir)
        if on_step:
            on_step("done", 1, 1)
    console.print(bundle.summary(), markup=False, soft_wrap=True)


@cli.group()
def data() -> None:
    """Check and maintain the project's data."""


@data.command("validate")
@project_option
@click.option("--fail-on-warnings", is_flag=True, help="Exit non-zero on warnings too.")
def data_validate(project_dir: Path, fail_on_warnings: bool) -> None:
    """Check the domain, NLU data, rules, stories and knowledge base."""
    from bot.validation import validate

    problems = validate(project_dir)
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        console.print(str(problem), style=style, soft_wrap=True, markup=False)
    n_errors = sum(p.severity == "error" for p in problems)
    n_warnings = len(problems) - n_errors
    summary = f"{n_errors} error{'s' * (n_errors != 1)}, {n_warnings} warning{'s' * (n_warnings != 1)}"
    if n_errors or (fail_on_warnings and n_warnings):
        errors.print(f"[red]Validation failed: {summary}.[/]")
        sys.exit(1)
    console.print(f"[green]Validation passed: {summary}.[/]")


@data.command("sync")
@project_option
def data_sync(project_dir: Path) -> None:
    """Regenerate the NLU lookups and synonyms from the knowledge base's aliases."""
    from bot.knowledge.nlu_export import GENERATED_FILE, sync
    from bot.project import DATA_DIR, load_project

    project = load_project(project_dir)
    changed = sync(project.knowledge, project.root / DATA_DIR)
    state = "updated" if changed else "already up to date"
    console.print(f"{DATA_DIR}/{GENERATED_FILE} {state}.")


@contextmanager
def _aws_services(project_dir: Path, sandbox: bool, dry_run: bool) -> Iterator:
    """The AWS service layer from the project's settings, inside the sandbox if asked."""
    from bot.aws import AwsServices
    from bot.project import load_project

    project = load_project(project_dir)
    settings = project.settings.aws.with_changes(dry_run=dry_run or project.settings.aws.dry_run)
    if not sandbox:
        yield AwsServices(settings, language=project.settings.language)
        return
    from bot.sandbox import start_sandbox

    with _progress("Starting the AWS sandbox (a local simulator)") as on_step:
        running = start_sandbox(settings)
        if on_step:
            on_step("ready", 1, 1)
    errors.print(f"Sandbox: AWS actions go to a local simulator at {running.endpoint_url}; nothing is billed. "
                 f"Sample training data: {running.training_data}", markup=False, soft_wrap=True)
    try:
        yield AwsServices(running.settings, running.credentials, project.settings.language)
    finally:
        running.stop()


def _load_agent(project_dir: Path, quiet: bool = False, aws=None):
    from bot.agent import Agent
    from bot.project import load_project

    project = load_project(project_dir)
    _train_if_needed(project, quiet)
    return Agent.from_project(project, train_if_needed=False, aws=aws)


def _train_if_needed(project, quiet: bool = False) -> None:
    """Trains a missing, damaged or out-of-date model, saying so in a line that stays
    (also in a log, where a progress bar does not show) before the progress bar."""
    from bot.nlu import training

    reason = training.why_not_current(project)
    if reason is None:
        return
    if not quiet:
        errors.print(f"The NLU model {reason}: training it now (a few minutes on 2 cores). To train ahead of "
                     "time, run `coursebot train`.", markup=False, soft_wrap=True)
    with _progress("Training the NLU model", quiet) as on_step:
        result = training.train(project, on_step=on_step)
    if not quiet:
        errors.print(f"Trained in {result.seconds:.0f} s.", markup=False)
        _print_kept(result.kept, errors)


def _print_kept(kept: tuple[str, ...], where) -> None:
    for note in kept:
        where.print(f"  {note[0].upper()}{note[1:]} (`coursebot train --fresh` learns it anew).",
                    markup=False, soft_wrap=True)


@contextmanager
def _progress(description: str, quiet: bool = False) -> Iterator:
    """A progress bar on stderr, driven by (step, done, total) callbacks."""
    if quiet:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[step]}"),
                  TimeElapsedColumn(), console=errors, transient=True) as progress:
        task = progress.add_task(description, total=None, step="")

        def on_step(step: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, step=step)

        yield on_step


def main() -> None:
    """Entry point: turns every CourseBot error into a message and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        errors.print("Aborted.")
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except ProjectError as error:
        errors.print("[red]The project has errors:[/]")
        for problem in error.problems:
            errors.print(f"  {problem}", soft_wrap=True, markup=False)
        errors.print("Fix them (see `coursebot data validate`) and try again.")
        sys.exit(1)
    except CourseBotError as error:
        errors.print(f"Error: {error}", style="red", markup=False, soft_wrap=True)
        sys.exit(1)
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        sys.exit(130)
