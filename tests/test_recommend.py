"""A trained model folder at work: load_model from a copy of the folder alone, recommend, explain, and
`gnas recommend` with its one-line errors."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import synthetic_interactions
from typer.testing import CliRunner

from gnas.cli import app
from gnas.data.graph import build_train_graph
from gnas.data.split import split_interactions
from gnas.errors import GnasError
from gnas.inference import TrainedModel, load_model
from gnas.inference.explain import item_attention
from gnas.inference.folder import save_model_files
from gnas.models.registry import build_model
from gnas.spec import SplitSpec, parse_train_spec
from gnas.text.features import ItemFeatures
from gnas.train import train

runner = CliRunner()


def _train(folder: Path, conv: str) -> Path:
    """Train on a tiny CSV data set with item titles, then move the model folder away from the data."""
    rows = [(f"u{u}", f"i{(u % 2) * 12 + (u + j) % 16}") for u in range(30) for j in range(10)]
    pd.DataFrame(rows, columns=["uid", "iid"]).to_csv(folder / "interactions.csv", index=False)
    titles = pd.DataFrame({"iid": [f"i{i}" for i in range(28)], "title": [f"Movie {i}" for i in range(28)]})
    titles.to_csv(folder / "items.csv", index=False)
    spec = parse_train_spec(
        {
            "name": conv,
            "seed": 3,
            "dataset": {
                "name": "own",
                "format": "csv",
                "path": str(folder / "interactions.csv"),
                "columns": {"user": "uid", "item": "iid"},
                "item_text": {"path": str(folder / "items.csv"), "id_column": "iid"},
            },
            "training": {"max_epochs": 3, "batch_size": 64, "ks": [5], "metric": "ndcg@5"},
            "architecture": {"embedding_dim": 8, "num_layers": 2, "layers": {"conv": conv, "heads": 2}},
        }
    )
    outcome = train(spec, device="cpu", out=folder / "runs", name=conv)
    moved = folder / "elsewhere" / conv
    shutil.copytree(outcome.run_dir, moved)
    shutil.rmtree(outcome.run_dir)
    return moved


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recommend")
    paths = {conv: _train(folder, conv) for conv in ("gat", "lightgcn")}
    (folder / "interactions.csv").unlink()  # the folders must work without the data
    (folder / "items.csv").unlink()
    return paths


@pytest.fixture(scope="module")
def gat(folders: dict[str, Path]) -> TrainedModel:
    return load_model(folders["gat"])


def test_recommend_excludes_seen_items_and_ranks_by_model_score(
    gat: TrainedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GNAS_DATA_DIR", raising=False)
    for user in gat.user_ids:
        seen = set(gat.seen(user))
        recs = gat.recommend(user, k=5)
        assert len(recs) == 5 and not seen & {r.item_id for r in recs}
        scores = gat.scores(user)
        expected = [
            gat.item_ids[i]
            for i in torch.argsort(-scores, stable=True).tolist()
            if gat.item_ids[i] not in seen
        ]
        assert [r.item_id for r in recs] == expected[:5]
        assert [r.score for r in recs] == pytest.approx(
            [float(scores[gat.item_index(r.item_id)]) for r in recs]
        )
        assert all(r.title == f"Movie {r.item_id[1:]}" for r in recs)
    batch = gat.recommend_batch(list(gat.user_ids[:4]), k=3)
    for user, recs in zip(gat.user_ids[:4], batch, strict=True):
        single = gat.recommend(user, k=3)
        assert [r.item_id for r in recs] == [r.item_id for r in single]
        assert [r.score for r in recs] == pytest.approx([r.score for r in single], abs=1e-6)
    with_seen = gat.recommend("u0", k=len(gat.item_ids), exclude_seen=False)
    assert {r.item_id for r in with_seen} == set(gat.item_ids)


def test_explanations_are_the_users_training_items(folders: dict[str, Path], gat: TrainedModel) -> None:
    attention = item_attention(gat.model, gat.graph)
    assert attention is not None
    per_user = torch.zeros(len(gat.user_ids)).index_add_(0, gat.graph.train_user, attention)
    assert torch.allclose(per_user, torch.ones_like(per_user), atol=1e-5)  # a user's softmax over its items
    lightgcn = load_model(folders["lightgcn"])
    assert (gat.explanation_method, lightgcn.explanation_method) == ("attention", "similarity")
    for model in (gat, lightgcn):
        for user in model.user_ids[:10]:
            rec = model.recommend(user, k=1)[0]
            reasons = model.explain(user, rec.item_id, n=3)
            assert len(reasons) == 3 and {r.item_id for r in reasons} <= set(model.seen(user))
            weights = [r.weight for r in reasons]
            assert weights == sorted(weights, reverse=True)


def test_cli_single_user_table_and_batch_csv(folders: dict[str, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["recommend", str(folders["gat"]), "--user", "u1", "-k", "3", "--explain"])
    assert result.exit_code == 0, result.output
    assert "Movie" in result.output and "because you liked" in result.output

    (tmp_path / "users.txt").write_text("u1\n# a comment\n\nu2\n")
    out = tmp_path / "recs.csv"
    args = ["recommend", str(folders["lightgcn"]), "--users", str(tmp_path / "users.txt"), "-o", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    recs = pd.read_csv(out)
    assert list(recs.columns) == ["user_id", "rank", "item_id", "title", "score"]
    assert (
        recs["user_id"].tolist() == ["u1"] * 10 + ["u2"] * 10
        and recs["rank"].tolist() == list(range(1, 11)) * 2
    )


def test_bad_inputs_are_one_line_and_write_nothing(folders: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "recs.csv"
    (tmp_path / "users.txt").write_text("u1\nnobody\n")
    (tmp_path / "many.txt").write_text("u1\nghost\nu2\nnobody\nghost\n")
    (tmp_path / "latin1.txt").write_bytes("u1\nJos\u00e9\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("# nobody\n\n")
    cases = [
        (["--user", "nobody"], "unknown user id 'nobody'"),
        (["--users", str(tmp_path / "users.txt")], "unknown user id 'nobody'"),
        (["--users", str(tmp_path / "many.txt")], "2 unknown user ids 'ghost', 'nobody': not among the 30"),
        (["--users", str(tmp_path / "latin1.txt")], f"--users: {tmp_path / 'latin1.txt'}: not UTF-8 text"),
        (["--users", str(tmp_path / "empty.txt")], "empty.txt lists no user id"),
        (["--users", str(tmp_path / "absent.txt")], "absent.txt: no such file"),
        (["--user", "u1", "-k", "0"], "-k: must be at least 1"),
        ([], "give --user ID or --users FILE"),
    ]
    for args, expected in cases:
        result = runner.invoke(app, ["recommend", str(folders["gat"]), *args, "-o", str(out)])
        assert result.exit_code == 2, result.output
        assert expected in result.output and len(result.output.strip().splitlines()) == 1, result.output
        assert not out.exists()


def test_model_api_checks_k_and_names_every_unknown_user(gat: TrainedModel) -> None:
    with pytest.raises(GnasError, match="-k: must be at least 1, got 0"):
        gat.recommend_batch(["u1"], k=0)
    with pytest.raises(GnasError) as error:
        gat.recommend_frame(["u1", "x", "u2", "y", "x"], k=2)
    assert str(error.value).startswith("2 unknown user ids 'x', 'y': not among the 30 users of ")
    many = [f"x{i}" for i in range(25)]
    with pytest.raises(GnasError, match=r"'x19' \(and 5 more\): not among") as error:
        gat.recommend_batch(many)
    assert "\n" not in str(error.value)
    assert gat.user_indices(["u1", "u0"]) == [gat.user_index("u1"), gat.user_index("u0")]


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return buffer.getvalue()


def _broken(source: Path, folder: Path, name: str, content: bytes | None) -> Path:
    copy = folder / f"broken-{len(list(folder.iterdir()))}"
    shutil.copytree(source, copy)
    if content is None:
        (copy / name).unlink()
    else:
        (copy / name).write_bytes(content)
    return copy


def test_corrupted_folders_name_the_file(folders: dict[str, Path], tmp_path: Path) -> None:
    source = folders["lightgcn"]
    users = (source / "user_ids.csv").read_text().splitlines()
    fewer_users = ("\n".join(users[:-1]) + "\n").encode()
    weights = torch.load(source / "model.pt", weights_only=True)
    narrow = _tensor_bytes({**weights, "user_embedding.weight": weights["user_embedding.weight"][:, :4]})
    fewer_items = _tensor_bytes({**weights, "item_embedding.weight": weights["item_embedding.weight"][:-1]})
    cases = [
        ("model.pt", None, "model.pt: missing"),
        ("model.pt", b"not a tensor file", "model.pt: not a readable tensor file"),
        ("user_ids.csv", fewer_users, "train_edges.pt: a user index is outside the 29 rows of user_ids.csv"),
        ("model.pt", narrow, "model.pt: the weights do not fit the architecture in config.yaml"),
        ("model.pt", fewer_items, "model.pt: item_embedding.weight has 27 rows but item_ids.csv lists 28"),
        ("train_edges.pt", b"\x00garbled", "train_edges.pt: not a readable tensor file"),
        ("item_ids.csv", b"idx,item\n0,i0\n", "item_ids.csv: needs columns index and item_id"),
        ("config.yaml", b"architecture: {conv: nope}\n", "config.yaml: architecture.conv"),
        ("config.yaml", b"- a list\n- not a mapping\n", "config.yaml: the top level must be a mapping"),
        ("config.yaml", b"name: caf\xe9\n", "config.yaml: not UTF-8 text"),
    ]
    for name, content, expected in cases:
        broken = _broken(source, tmp_path, name, content)
        with pytest.raises(GnasError) as error:
            load_model(broken)
        assert expected in str(error.value) and "\n" not in str(error.value)
    result = runner.invoke(app, ["recommend", str(broken), "--user", "u1"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1


def test_a_text_fusing_model_loads_with_its_saved_features(tmp_path: Path) -> None:
    data = synthetic_interactions()
    split = split_interactions(data, SplitSpec())
    graph = build_train_graph(split)
    spec = parse_train_spec({"architecture": {"embedding_dim": 8, "num_layers": 1, "fusion": "both"}})
    features = ItemFeatures.from_numpy(np.random.default_rng(0).normal(size=(data.num_items, 6)))
    model = build_model(spec.architecture, data.num_users, data.num_items, features)
    save_model_files(tmp_path, split, model)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(spec.model_dump(mode="json")))
    loaded = load_model(tmp_path)
    model.eval()
    with torch.no_grad():
        users, items = model(graph)
    assert torch.allclose(loaded.user_embeddings, users) and torch.allclose(loaded.item_embeddings, items)
    (tmp_path / "item_features.pt").unlink()
    with pytest.raises(GnasError, match="item_features.pt: missing"):
        load_model(tmp_path)
