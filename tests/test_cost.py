"""Cost estimates: exact parameter counts, FLOP formulas, and the memory check before training."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from gnas.architecture import Architecture, LayerArch
from gnas.errors import GnasError
from gnas.models.cost import GraphSize, available_memory, check_fits, estimate, parameter_count
from gnas.models.fused import FusedRecommender
from gnas.models.fusion import FUSIONS
from gnas.models.opcost import OpCost
from gnas.models.registry import build_model
from gnas.text.features import ItemFeatures

ML_SMALL = GraphSize(num_users=610, num_items=9_742, num_interactions=80_668)
GAT = LayerArch(conv="gat", hidden=16, heads=2, concat_heads=True, activation="elu")


def test_parameter_count_matches_the_built_model_and_the_formula() -> None:
    users, items, d = 5, 7, 8
    assert parameter_count(Architecture(embedding_dim=d), users, items) == (users + items) * d
    sage = LayerArch(conv="sage", residual=True)
    arch = Architecture(embedding_dim=d, layers=(GAT, sage), combine="concat")
    # embeddings; GAT: lin, att_src, att_dst, bias; SAGE 32 -> 32: two maps, bias; concat 8+32+32 -> 8
    expected = (users + items) * d + (d * 32 + 32 + 32 + 32) + (2 * 32 * 32 + 32) + (8 + 32 + 32) * d
    model = build_model(arch, users, items)
    assert sum(p.numel() for p in model.parameters()) == expected
    assert parameter_count(arch, users, items) == expected


def test_parameter_count_includes_the_fusion_modules() -> None:
    users, items, text_dim = 5, 7, 12
    text = ItemFeatures(torch.randn(items, text_dim), torch.ones(items, dtype=torch.bool))
    arch = Architecture(embedding_dim=8, fusion="both", fusion_op="gate", fusion_user_profile=True)
    built = sum(p.numel() for p in build_model(arch, users, items, text).parameters())
    assert parameter_count(arch, users, items, text_dim) == built
    assert built > parameter_count(arch.model_copy(update={"fusion": "none"}), users, items)


def test_flops_follow_the_formulas() -> None:
    lightgcn = estimate(Architecture(), ML_SMALL)
    edges = 2 * ML_SMALL.num_interactions
    # 3 sparse products of 64 wide features, and the 4-way layer mean
    assert lightgcn.forward_flops == 3 * 2 * edges * 64 + 4 * ML_SMALL.nodes * 64
    assert lightgcn.train_step_flops == 3 * lightgcn.forward_flops
    assert lightgcn.score_all_flops == 2 * 610 * 9_742 * 64
    gat = estimate(Architecture(layers=(GAT, GAT)), ML_SMALL)
    assert gat.forward_flops > 2 * lightgcn.forward_flops
    assert gat.activation_bytes > 4 * lightgcn.activation_bytes
    more_heads = estimate(Architecture(layers=(GAT.model_copy(update={"heads": 4}),) * 2), ML_SMALL)
    assert more_heads.forward_flops > gat.forward_flops and more_heads.parameters > gat.parameters


def test_memory_estimate_grows_with_graph_and_counts_adam_state() -> None:
    small = estimate(Architecture(), ML_SMALL)
    assert small.state_bytes == 16 * small.parameters  # weights, gradients, two Adam moments
    bigger = GraphSize(ML_SMALL.num_users * 10, ML_SMALL.num_items * 10, ML_SMALL.num_interactions * 10)
    large = estimate(Architecture(), bigger)
    assert large.train_memory_bytes > 5 * small.train_memory_bytes
    assert 20 * 2**20 < small.train_memory_bytes < 200 * 2**20  # measured peak on CPU: ~70 MiB


def test_fusing_text_counts_the_text_matrix_and_the_fusion_activations() -> None:
    with_text = GraphSize(ML_SMALL.num_users, ML_SMALL.num_items, ML_SMALL.num_interactions, text_dim=384)
    fused_arch = Architecture(fusion="input", fusion_op="concat")
    plain, fused = estimate(Architecture(), with_text), estimate(fused_arch, with_text)
    items, d = ML_SMALL.num_items, 64
    # the text's projection (384 -> 64) and the concatenation's merge (128 -> 64) of every item
    assert fused.forward_flops - plain.forward_flops == 2 * items * 384 * d + 4 * items * d * d
    assert fused.graph_bytes - plain.graph_bytes == items * (384 * 4 + 1)
    profile = estimate(fused_arch.model_copy(update={"fusion_user_profile": True}), with_text)
    # every training pair's text row is gathered for the users' profiles
    assert profile.activation_bytes - fused.activation_bytes > 4 * ML_SMALL.num_interactions * 384


@pytest.mark.parametrize("op", sorted(FUSIONS))
def test_every_fusion_operator_has_a_cost(op: str) -> None:
    with_text = GraphSize(ML_SMALL.num_users, ML_SMALL.num_items, ML_SMALL.num_interactions, text_dim=384)
    plain = estimate(Architecture(), with_text)
    fused = estimate(Architecture(fusion="output", fusion_op=op), with_text)
    assert fused.forward_flops > plain.forward_flops + 2 * ML_SMALL.num_items * 384 * 64
    assert fused.activation_bytes > plain.activation_bytes


class CreatedFloats(TorchDispatchMode):
    """Counts the floats of the tensors the operations under it create (views of their inputs aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.floats = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        out = func(*args, **(kwargs or {}))
        inputs = {
            t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0] if torch.is_tensor(t)
        }
        for t in tree_flatten(out)[0]:
            if torch.is_tensor(t) and t.is_floating_point() and t.untyped_storage().data_ptr() not in inputs:
                self.floats += t.numel()
        return out


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("op", sorted(FUSIONS))
def test_a_fusion_cost_counts_the_floats_its_forward_creates(op: str, layers: int) -> None:
    rows, text_dim, dim, hidden = 50, 12, 8, 6
    fusion = FUSIONS[op](text_dim, dim, layers, hidden)
    h, text = torch.randn(rows, dim), torch.randn(rows, text_dim)
    with CreatedFloats() as created:
        fusion(h, text)
    assert FUSIONS[op].cost(text_dim, dim, layers, hidden, rows).saved == created.floats


def test_fusing_both_places_on_both_sides_counts_four_fusions() -> None:
    size = GraphSize(ML_SMALL.num_users, ML_SMALL.num_items, ML_SMALL.num_interactions, text_dim=384)
    users, items, d = size.num_users, size.num_items, 64
    arch = Architecture(fusion="both", fusion_op="gate", fusion_layers=2, fusion_user_profile=True)
    gate = FUSIONS["gate"].cost
    # Architecture() combines by mean: input and output representations are both d wide
    expected = sum(
        (gate(384, d, 2, arch.fusion_dim, rows) for rows in (items, users, items, users)), OpCost()
    )
    expected += OpCost(saved=float(items * 384 + users * 384))  # the items' text, the users' profiles
    cost = FusedRecommender.cost(arch, users, items, size.num_interactions, d, 384)
    assert cost.saved == expected.saved
    assert cost.flops == expected.flops + size.num_interactions * 384


def test_check_fits_rejects_what_only_text_fusion_makes_too_big() -> None:
    size = GraphSize(100_000, 1_000_000, 10_000_000, text_dim=384)
    limit = 8 * 2**30
    check_fits(Architecture(), size, "cpu", limit=limit)
    fusing = Architecture(fusion="both", fusion_op="attention", fusion_user_profile=True)
    with pytest.raises(
        GnasError, match=r"10,000,000 interactions, 384-d item text \(.*device cpu has 8.0 GiB"
    ):
        check_fits(fusing, size, "cpu", limit=limit)


def test_check_fits_passes_a_small_model_and_returns_its_estimate() -> None:
    cost = check_fits(Architecture(), ML_SMALL, "cpu", limit=2**30)
    assert cost.parameters == (610 + 9_742) * 64


def test_check_fits_rejects_a_huge_architecture_before_training() -> None:
    gowalla = GraphSize(29_858, 40_981, 810_128, text_dim=384)  # text this architecture does not read
    huge = Architecture(embedding_dim=512, layers=(GAT.model_copy(update={"hidden": 512, "heads": 8}),) * 3)
    with pytest.raises(GnasError, match=r"architecture needs ~\d+\.\d GiB for training on 29,858 users") as e:
        check_fits(huge, gowalla, "cpu", limit=8 * 2**30)
    assert "device cpu has 8.0 GiB (limit)" in str(e.value)
    assert "item text" not in str(e.value)
    # the device's own memory is the default limit: a graph no machine holds
    enormous = GraphSize(10**9, 10**9, 10**10)
    with pytest.raises(GnasError, match=r"GiB available"):
        check_fits(Architecture(), enormous, torch.device("cpu"))


def test_available_memory_reads_the_machine() -> None:
    free = available_memory("cpu")
    assert 2**20 < free < 2**50
