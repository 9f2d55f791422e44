"""The symmetric sparse product gives PyG's LGConv results and gradients."""

from __future__ import annotations

import torch
from torch_geometric.nn import LGConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_torch_csr_tensor, to_undirected

from gnas.models.propagation import SymmetricLGConv


def test_matches_lgconv_forward_and_backward() -> None:
    torch.manual_seed(0)
    edge_index = to_undirected(torch.randint(0, 30, (2, 120)))
    index, weight = gcn_norm(edge_index, None, 30, add_self_loops=False)
    adj = to_torch_csr_tensor(index, weight, size=(30, 30))
    x = torch.randn(30, 8, requires_grad=True)
    target = torch.randn(30, 8)

    ours = SymmetricLGConv()(SymmetricLGConv()(x, adj), adj)
    (grad_ours,) = torch.autograd.grad((ours * target).sum(), x)
    ref = LGConv()(LGConv()(x, edge_index), edge_index)
    (grad_ref,) = torch.autograd.grad((ref * target).sum(), x)

    assert torch.allclose(ours, ref, atol=1e-6)
    assert torch.allclose(grad_ours, grad_ref, atol=1e-6)
