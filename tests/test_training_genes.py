"""Training settings as genes (``space.training``): parsing, genotype operators, Optuna, trials, export."""

from __future__ import annotations

import json
import random
from functools import partial
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml
from conftest import tiny_search_config
from typer.testing import CliRunner

import gnas.search.trial as trial_module
from gnas.architecture import Architecture
from gnas.cli import app
from gnas.search.controllers.optuna_space import optuna_params, suggest_genotype, suggest_value
from gnas.search.mirror import trial_params
from gnas.search.run import search
from gnas.search.runlog import read_trials
from gnas.search.settings import SearchSettings
from gnas.space import (
    FILLER,
    SpaceError,
    canonical,
    count_architectures,
    crossover_layers,
    crossover_uniform,
    decode,
    dimension_rows,
    encode,
    mutate,
    parse_search_file,
    parse_space,
    sample,
    train_config,
    training_overrides,
)
from gnas.spec import TrainingSpec, load_train_spec

runner = CliRunner()

TRAINING = {
    "lr": {"type": "float", "low": 1.0e-3, "high": 5.0e-2, "log": True},
    "weight_decay": {"type": "float", "low": 1.0e-6, "high": 1.0e-3, "log": True},
    "batch_size": [32, 64],
    "loss": ["bpr", "softmax"],
    "num_negatives": {"type": "choice", "values": [4, 8], "when": {"loss": "softmax"}},
    "temperature": {"type": "float", "low": 0.05, "high": 0.5, "log": True, "when": {"loss": "softmax"}},
}
SPACE = {"embedding_dim": [8, 16], "num_layers": {"type": "int", "low": 1, "high": 2}, "training": TRAINING}


def genes(space: Any, genotype: Any) -> dict[str, Any]:
    return {
        key: gene for key, gene in zip(space.keys(), genotype, strict=True) if key.startswith("training.")
    }


def test_training_genes_come_last_and_a_space_without_them_is_unchanged() -> None:
    plain = parse_space({key: value for key, value in SPACE.items() if key != "training"})
    space = parse_space(SPACE)
    assert space.keys()[: plain.length] == plain.keys()
    assert space.keys()[plain.length :] == [f"training.{name}" for name in TRAINING]
    assert training_overrides(plain, sample(plain, 0)) == {}
    assert [row.dimension for row in dimension_rows(space)][-6:] == [f"training.{name}" for name in TRAINING]


def test_softmax_settings_do_not_matter_under_bpr() -> None:
    space = parse_space(SPACE)
    genotype = list(sample(space, 0))
    keys = space.keys()
    genotype[keys.index("training.loss")] = "bpr"
    genotype[keys.index("training.num_negatives")] = 8
    first = list(genotype)
    first[keys.index("training.temperature")] = 0.1
    second = list(genotype)
    second[keys.index("training.temperature")] = 0.3
    assert canonical(space, first) == canonical(space, second)  # one candidate: deduplicated
    bpr = canonical(space, first)
    assert genes(space, bpr)["training.temperature"] is FILLER
    assert genes(space, bpr)["training.num_negatives"] is FILLER
    assert set(training_overrides(space, bpr)) == {"lr", "weight_decay", "batch_size", "loss"}
    first[keys.index("training.loss")] = second[keys.index("training.loss")] = "softmax"
    assert canonical(space, first) != canonical(space, second)
    assert training_overrides(space, canonical(space, first))["temperature"] == 0.1


def test_sampled_genes_lie_in_their_dimensions_and_both_losses_appear() -> None:
    space = parse_space(SPACE)
    rng = random.Random(0)
    seen = set()
    for _ in range(60):
        overrides = training_overrides(space, sample(space, rng))
        TrainingSpec.model_validate(overrides)
        assert 1.0e-3 <= overrides["lr"] <= 5.0e-2 and overrides["batch_size"] in (32, 64)
        assert ("temperature" in overrides) == (overrides["loss"] == "softmax")
        seen.add(overrides["loss"])
    assert seen == {"bpr", "softmax"}


def test_encode_takes_the_training_settings_or_the_nearest_value() -> None:
    space = parse_space(SPACE)
    spec = TrainingSpec(lr=0.02, weight_decay=1.0, batch_size=50, loss="softmax", temperature=0.2)
    point = Architecture.model_validate({"embedding_dim": 8, "num_layers": 1})
    genotype = encode(space, point, spec)
    assert decode(space, genotype) == point.canonical()
    assert training_overrides(space, genotype) == {
        "lr": 0.02,
        "weight_decay": 1.0e-3,  # clipped into the range
        "batch_size": 64,  # nearest choice
        "loss": "softmax",
        "num_negatives": 8,  # 256 is not a choice: the nearest one
        "temperature": 0.2,
    }
    default = training_overrides(space, encode(space, point))
    assert default["lr"] == TrainingSpec().lr and default["loss"] == "bpr"


def test_mutation_moves_training_genes_and_crossover_keeps_them_canonical() -> None:
    space = parse_space(SPACE)
    rng = random.Random(1)
    parent = sample(space, rng)
    moved = set()
    for _ in range(40):
        child = mutate(space, parent, rng)
        assert canonical(space, child) == child
        moved |= {key for key, value in genes(space, child).items() if value != genes(space, parent)[key]}
    assert {"training.lr", "training.loss", "training.batch_size"} <= moved
    a, b = sample(space, rng), sample(space, rng)
    for operator in (crossover_uniform, crossover_layers):
        for child in operator(space, a, b, rng):
            assert canonical(space, child) == child
            TrainingSpec.model_validate(training_overrides(space, child))
    # a layer cut swaps layers only: each child keeps its first parent's training genes
    first, second = crossover_layers(space, a, b, rng)
    assert training_overrides(space, first) == training_overrides(space, a)
    assert training_overrides(space, second) == training_overrides(space, b)


def test_count_includes_distinct_training_settings() -> None:
    base = {"embedding_dim": [8, 16], "num_layers": 1}
    assert count_architectures(parse_space(base)) == 2
    training = {"lr": [0.01, 0.001], "loss": ["bpr", "softmax"], "temperature": [0.1, 0.2, 0.5]}
    training["temperature"] = {"type": "choice", "values": [0.1, 0.2, 0.5], "when": {"loss": "softmax"}}
    # 2 widths x 2 lrs x (bpr once + softmax with 3 temperatures)
    assert count_architectures(parse_space({**base, "training": training})) == 2 * 2 * (1 + 3)
    assert count_architectures(parse_space(SPACE)) == float("inf")


def test_optuna_suggests_float_distributions_and_skips_what_does_not_matter() -> None:
    space = parse_space(SPACE)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    losses = set()
    for _ in range(30):
        trial = study.ask()
        genotype = suggest_genotype(space, partial(suggest_value, trial))
        lr = trial.distributions["training.lr"]
        assert isinstance(lr, optuna.distributions.FloatDistribution) and lr.log
        assert (lr.low, lr.high) == (1.0e-3, 5.0e-2)
        softmax = trial.params["training.loss"] == "softmax"
        assert ("training.temperature" in trial.params) == softmax
        assert ("training.num_negatives" in trial.params) == softmax
        overrides = training_overrides(space, genotype)
        assert overrides["lr"] == trial.params["training.lr"]
        assert optuna_params(space, genotype) == trial.params
        params, distributions = trial_params(space, genotype)  # what study.db stores for any controller
        assert params == trial.params and distributions == trial.distributions
        losses.add(trial.params["training.loss"])
        study.tell(trial, 0.0)
    assert losses == {"bpr", "softmax"}


@pytest.mark.parametrize(
    ("training", "where"),
    [
        ({"lr": {"type": "float", "low": 0.0, "high": 0.1, "log": True}}, "space.training.lr"),
        ({"lr": {"type": "float", "low": -1.0, "high": 0.1}}, "space.training.lr.low"),
        ({"loss": ["bpr", "hinge"]}, "space.training.loss[1]"),
        ({"batch_size": {"type": "int", "low": 0, "high": 64}}, "space.training.batch_size.low"),
        ({"optimizer": ["adam"]}, "space.training.optimizer"),
        ({"lr": {"type": "float", "low": 0.01, "high": 0.1, "logg": True}}, "space.training.lr.logg"),
        ({"temperature": {"type": "choice", "values": [0.1], "when": {"loss": "softmax"}}}, "space.training"),
        ({"loss": ["bpr", "softmax"], "temperature": {"type": "bool"}}, "space.training.temperature.type"),
    ],
)
def test_bad_training_dimensions_name_their_key(training: dict[str, Any], where: str, tmp_path: Path) -> None:
    config = tiny_search_config(tmp_path)
    config["space"]["training"] = training
    with pytest.raises(SpaceError) as caught:
        parse_search_file(config, "s.yaml")
    assert str(caught.value).startswith(f"s.yaml: {where}")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(config))
    result = runner.invoke(app, ["space", "validate", str(path)])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and where in lines[0], result.output


def tiny_training_search(folder: Path) -> Any:
    config = tiny_search_config(folder)
    config["space"]["training"] = {
        "lr": {"type": "float", "low": 1.0e-3, "high": 1.0e-1, "log": True},
        "loss": ["bpr", "softmax"],
        "num_negatives": {"type": "choice", "values": [4, 8], "when": {"loss": "softmax"}},
    }
    config["search"] = {"controller": "random", "max_trials": 4, "objectives": [{"metric": "ndcg@5"}]}
    return config


def test_each_trial_trains_with_its_own_training_genes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[TrainingSpec] = []
    real_fit = trial_module.fit

    def recording_fit(*args: Any, **kwargs: Any) -> Any:
        used.append(args[3])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(trial_module, "fit", recording_fit)
    config = tiny_training_search(tmp_path)
    config["search"]["final"] = {"top_k": 0}  # screening trials only: one fit per trial
    file = parse_search_file(config, "tiny.yaml")
    settings = SearchSettings.model_validate(config["search"])
    outcome = search(file, settings, out=tmp_path / "runs", device="cpu")
    trials = [t for t in read_trials(outcome.run_dir) if t["cached_from"] is None]
    assert len(trials) == len(used) == 4 and all(t["status"] == "ok" for t in trials), trials
    for record, spec in zip(trials, used, strict=True):
        overrides = training_overrides(file.space, tuple(record["genotype"]))
        assert {name: getattr(spec, name) for name in overrides} == overrides
        assert spec.max_epochs == 2 and spec.batch_size == 64  # the rest is the search file's
    assert len({spec.lr for spec in used}) == 4


def test_export_writes_the_training_genes_and_train_uses_them(tmp_path: Path) -> None:
    config = tiny_training_search(tmp_path)
    (tmp_path / "search.yaml").write_text(yaml.safe_dump(config))
    runs = tmp_path / "runs"
    args = ["search", str(tmp_path / "search.yaml"), "--out", str(runs), "--name", "s", "--device", "cpu"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = tmp_path / "best.yaml"
    result = runner.invoke(app, ["export", str(runs / "s"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    exported = yaml.safe_load(out.read_text())
    genotype = json.loads(
        next(line for line in out.read_text().splitlines() if "genotype:" in line).split(": ", 1)[1]
    )
    file = parse_search_file(config, "search.yaml")
    overrides = training_overrides(file.space, tuple(genotype))
    assert overrides and {**exported["training"], **config["training"], **overrides} == exported["training"]
    assert load_train_spec(out) == load_train_spec(runs / "s" / "best.yaml")
    trained = runner.invoke(
        app, ["train", str(out), "--out", str(tmp_path / "t"), "--name", "b", "--device", "cpu"]
    )
    assert trained.exit_code == 0, trained.output
    metrics = json.loads((tmp_path / "t" / "b" / "metrics.json").read_text())
    assert metrics["valid"]["ndcg@5"] == pytest.approx(exported["search_result"]["valid"]["ndcg@5"], abs=1e-6)
    kept = yaml.safe_load((tmp_path / "t" / "b" / "config.yaml").read_text())["training"]
    assert kept["lr"] == overrides["lr"] and kept["loss"] == overrides["loss"]


def test_train_config_merges_overrides_over_the_search_files_training(tmp_path: Path) -> None:
    file = parse_search_file(tiny_training_search(tmp_path), "tiny.yaml")
    config = train_config(file, Architecture(), training={"lr": 0.003, "loss": "softmax"})
    assert config["training"] == {
        "max_epochs": 2,
        "batch_size": 64,
        "ks": [5],
        "metric": "ndcg@5",
        "lr": 0.003,
        "loss": "softmax",
    }
    assert train_config(file, Architecture())["training"] == {
        "max_epochs": 2,
        "batch_size": 64,
        "ks": [5],
        "metric": "ndcg@5",
    }


def test_space_show_lists_the_training_dimensions_and_each_samples_settings(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(tiny_training_search(tmp_path)))
    result = runner.invoke(app, ["space", "show", str(path), "-n", "2"])
    assert result.exit_code == 0, result.output
    assert "training.lr" in result.output and "float 0.001..0.1 log" in result.output
    samples = [line for line in result.output.splitlines() if line.strip().startswith(("1.", "2."))]
    assert len(samples) == 2 and all("; training lr=" in line for line in samples)
