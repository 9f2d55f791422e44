"""`gnas report`: figures, a self-contained HTML page or markdown, the terminal summary, runs compared,
runs still in progress, and one-line errors for folders there is nothing to report on."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

from gnas.cli import app
from gnas.report import Report, build_report, load_report_run
from gnas.report.analysis import choice_shares, convergence, failures
from gnas.report.leaderboard import leaderboard_rows
from gnas.runs import run_lock
from gnas.search.run import search
from gnas.search.settings import SearchSettings
from gnas.space import parse_search_file

runner = CliRunner()


@pytest.fixture(scope="module")
def two_objective_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random search, ndcg@5 against params, where the 16-d architectures break max_params."""
    folder = tmp_path_factory.mktemp("report")
    config = tiny_search_config(folder)
    heads = {"type": "choice", "values": [1, 2]}
    config["space"]["layers"] = {"conv": ["lightgcn", "gcn", "gat"], "heads": heads}
    file = parse_search_file(config, "tiny.yaml")
    settings = SearchSettings.model_validate(
        {
            "controller": "random",
            "max_trials": 8,
            "objectives": [{"metric": "ndcg@5"}, {"metric": "params", "direction": "minimize"}],
            "constraints": {"max_params": 700},
        }
    )
    return search(file, settings, out=folder / "runs", name="mo", device="cpu").run_dir


def copy_run(run: Path, folder: Path, name: str) -> Path:
    target = folder / name
    shutil.copytree(run, target, ignore=shutil.ignore_patterns("report", "study.db", ".lock"))
    return target


def single_objective(run: Path, folder: Path, name: str = "single") -> Path:
    """The run as if it had searched ndcg@5 alone."""
    target = copy_run(run, folder, name)
    spec = yaml.safe_load((target / "spec.yaml").read_text())
    spec["search"]["objectives"] = spec["search"]["objectives"][:1]
    (target / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    lines = [json.loads(line) for line in (target / "trials.jsonl").read_text().splitlines()]
    for line in lines:
        line["values"] = line["values"][:1]
    (target / "trials.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return target


@pytest.fixture(scope="module")
def html_report(two_objective_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Report:
    return build_report([copy_run(two_objective_run, tmp_path_factory.mktemp("html"), "mo")], top=3)


def test_html_report_of_a_two_objective_run(html_report: Report) -> None:
    report = html_report
    assert report.page == report.runs[0].path / "report" / "report.html"
    assert [p.name for p in report.figures] == ["convergence.png", "pareto.png", "choices.png", "curves.png"]
    html = report.page.read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert "<h2>Pareto front</h2>" in html and "<h2>Failures</h2>" in html
    leaderboard = html.split("<h2>Leaderboard</h2>")[1].split("</table>")[0]
    assert leaderboard.count("<tr>") == 1 + len(report.leaderboard) == 4
    assert [row.rank for row in report.leaderboard] == [1, 2, 3]
    values = [row.values[0] for row in report.leaderboard]
    assert values == sorted(values, reverse=True)
    assert report.failures and all(f.status == "infeasible" for f in report.failures)
    assert "max_params 700" in html
    for figure in report.figures:
        assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_markdown_report_and_terminal_summary(two_objective_run: Path, tmp_path: Path) -> None:
    run = single_objective(two_objective_run, tmp_path)
    other = copy_run(run, tmp_path, "other")
    result = runner.invoke(app, ["report", str(run), str(other), "--format", "md", "--top", "2"])
    assert result.exit_code == 0, result.output
    assert "single: top 2 by validation ndcg@5" in result.output
    assert "other (random):" in result.output and "report.md" in result.output
    text = (run / "report" / "report.md").read_text()
    assert "![convergence](convergence.png)" in text and "Pareto" not in text
    assert "| rank | trial | ndcg@5 | final ndcg@5 | params |" in text  # screening and final stage
    for name in ("convergence.png", "choices.png", "curves.png"):
        assert (run / "report" / name).is_file()
    assert not (run / "report" / "pareto.png").exists()


def test_analysis_convergence_choices_and_failures(two_objective_run: Path) -> None:
    run = load_report_run(two_objective_run)
    curve = convergence(run)
    assert curve.count == list(range(1, len(run.fresh) + 1))
    assert curve.seconds == sorted(curve.seconds)
    assert curve.wall_clock and curve.seconds == [r.logged_at for r in run.fresh]  # when they were logged
    best = [b for b in curve.best if not math.isnan(b)]
    assert best == sorted(best) and best[-1] == max(v for v in curve.value if not math.isnan(v))
    shares, n_all, n_top = choice_shares(run)
    assert n_all == len(run.fresh) and n_top == 1
    by_field = {s.field: s for s in shares}
    assert {"embedding_dim", "conv"} <= set(by_field)
    for share in shares:
        assert sum(share.all) == pytest.approx(1.0) and sum(share.top) == pytest.approx(1.0)
    grouped = failures(run)
    assert sum(len(f.trials) for f in grouped) == sum(r.result.status != "ok" for r in run.fresh)
    assert len(grouped) == 1  # "params N > max_params 700" is one reason whatever N is


def test_leaderboard_rows_from_records_match_leaderboard_csv(two_objective_run: Path) -> None:
    run = load_report_run(two_objective_run)
    objectives = run.run.objectives
    rows = leaderboard_rows(run.records, objectives)
    csv = pd.read_csv(two_objective_run / "leaderboard.csv")
    assert [r.trial for r in rows] == csv["trial"].tolist() and [r.rank for r in rows] == csv["rank"].tolist()
    assert [r.architecture for r in rows] == csv["architecture"].tolist()
    first = rows[0].as_dict(objectives)
    final = ["final mean ndcg@5", "final sd ndcg@5"]  # the final stage's, beside the trials it retrained
    assert list(first) == ["rank", "trial", "ndcg@5", "params", "epochs", "seconds", *final, "architecture"]
    assert first["ndcg@5"] == rows[0].values[0] and first["params"] == rows[0].values[1]
    assert leaderboard_rows(run.records, objectives, 2) == rows[:2]


def test_run_in_progress_reports_what_has_finished(two_objective_run: Path, tmp_path: Path) -> None:
    run = copy_run(two_objective_run, tmp_path, "running")
    lines = (run / "trials.jsonl").read_text().splitlines()
    (run / "trials.jsonl").write_text("\n".join(lines[:3]) + "\n" + lines[3][:40])  # a line being written
    with run_lock(run):
        report = build_report([run])
        html = report.page.read_text()
    assert report.summaries[0].trained + report.summaries[0].cached == 3
    assert "still running" in html


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("missing", "no such folder"),
        ("plain", "not a search run folder"),
        ("empty", "no trial has finished yet"),
        ("all_failed", "no trial finished ok"),
        ("format", "--format: 'pdf' is not a report format"),
        ("top", "--top: 0 must be at least 1"),
        ("other_metric", "compared runs need the same one"),
        ("out_file", "exists and is not a folder"),
        ("out_under_file", "cannot create the report folder"),
    ],
)
def test_bad_input_is_one_line(two_objective_run: Path, tmp_path: Path, case: str, expected: str) -> None:
    run = copy_run(two_objective_run, tmp_path, "run")
    args = [str(run)]
    if case == "missing":
        args = [str(tmp_path / "nothing")]
    elif case == "plain":
        (tmp_path / "plain").mkdir()
        args = [str(tmp_path / "plain")]
    elif case == "empty":
        (run / "trials.jsonl").write_text("")
    elif case == "all_failed":
        lines = [json.loads(line) for line in (run / "trials.jsonl").read_text().splitlines()]
        for line in lines:
            line.update(status="failed", values=[], error="RuntimeError: out of memory")
        (run / "trials.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    elif case == "format":
        args += ["--format", "pdf"]
    elif case == "top":
        args += ["--top", "0"]
    elif case == "other_metric":
        other = copy_run(run, tmp_path, "other")
        spec = yaml.safe_load((other / "spec.yaml").read_text())
        spec["search"]["objectives"][0]["metric"] = "recall@5"
        (other / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        args.append(str(other))
    elif case in ("out_file", "out_under_file"):
        (tmp_path / "taken").write_text("a file")
        out = tmp_path / "taken" / ("sub" if case == "out_under_file" else "")
        args += ["--out", str(out)]
        expected = f"--out: {out}: {expected}"
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2, result.output
    assert expected in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert not (run / "report" / "report.html").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary")
def test_report_renders_in_a_headless_browser(html_report: Report, tmp_path: Path) -> None:
    import subprocess

    from PIL import Image

    report = html_report
    flags = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    url = report.page.resolve().as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    images = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]+" alt="([^"]+)"', dom.stdout)
    assert images == ["convergence", "Pareto front", "choices of the best trials", "learning curves"]
    assert dom.stdout.count("<tr>") >= 1 + len(report.leaderboard)
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, f"--screenshot={shot}", "--window-size=1280,2400", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50  # tables and plots, not a blank page
