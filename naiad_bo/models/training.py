r"""The batched training loop of the pair deep ensembles: all ``s`` members in one optimiser.

Every parameter of a member network is batched over members (leading dimension ``s``), so one
Adam step updates the whole ensemble. The loss is the sum over members of each member's
mean squared error on the same mini-batch,

.. math:: L = \sum_{k=1}^{s} \frac{1}{|B|} \sum_{i \in B} (f_k(a_i, b_i) - z_i)^2,

so members never interact (their gradients are independent). The learning rate follows a
linear warm-up then a linear decay (:func:`linear_warmup_decay`).

Randomness: mini-batch orders come from a CPU ``torch.Generator`` (so a seed gives the same
fit on every device); the permutation is moved to the data's device. Every other tensor
follows the data's device and the network's dtype.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from naiad_bo.models.ensemble_config import EnsembleConfig

__all__ = ["PAPER_LR", "BatchedAdam", "linear_warmup_decay", "train_members"]

#: The paper's Adam learning rate (appendix F).
PAPER_LR = 1e-2


def linear_warmup_decay(step: int, total: int, warmup: int) -> float:
    """LR factor at update ``step`` (0-based) of ``total``: linear warm-up, then linear decay.

    Rises as ``(step + 1) / warmup`` over the first ``warmup`` updates (reaching 1), then
    falls linearly to ``1 / (total - warmup)`` at the last update (never exactly 0, so no
    update is wasted).
    """
    if not 0 <= step < total:
        raise ValueError(f"step must be in [0, {total}), got {step}")
    if step < warmup:
        return (step + 1) / warmup
    return (total - step) / (total - warmup)


def train_members(
    net: nn.Module,
    a: Tensor,
    b: Tensor,
    z: Tensor,
    *,
    config: EnsembleConfig,
    epochs: int,
    generator: torch.Generator,
    pair_weights: Tensor | None = None,
    lr: float | None = None,
) -> Tensor:
    r"""Train all members of ``net`` at once on targets ``z``.

    Args:
        net: Member network ``(a, b) -> (s, n)``, parameters ``(s, ...)``.
        a, b: ``(n,)`` long gene ids (device of the network).
        z: ``(n,)`` targets in the network's dtype (transformed units).
        config: Optimiser settings (``batch_size``, ``warmup_fraction``,
            ``weight_decay``, ``grad_clip``).
        epochs: Passes over the data.
        generator: CPU generator for the mini-batch order.
        pair_weights: Optional ``(s, n)`` non-negative weights of each pair's squared error
            per member (bootstrap counts); member ``k``'s loss on a mini-batch ``B`` is then
            :math:`\frac{1}{|B|}\sum_{i \in B} w_{ki} (f_k(a_i, b_i) - z_i)^2`.
        lr: Peak learning rate; None = ``config.lr``, or the paper's 1e-2 where that is
            None too (models pass their resolved rate, ``PairEnsembleModel.resolve_lr``).

    Returns:
        Per-epoch training MSE ``(epochs, s)`` on ``z``'s device (the caller checks it).
    """
    n = a.numel()
    s = config.ensemble_size
    bs = n if config.batch_size is None else min(int(config.batch_size), n)
    steps_per_epoch = math.ceil(n / bs)
    total = epochs * steps_per_epoch
    warm = int(round(config.warmup_fraction * total))
    named = [(k, p) for k, p in net.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    # a network may compute its loss and gradients itself (bit-equal to autograd's, without
    # the graph): ``net.loss_and_grads(a, b, z, weights) -> (loss (s,), {name: grad}) | None``
    manual = getattr(net, "loss_and_grads", None)
    opt = BatchedAdam(params, weight_decay=config.weight_decay)
    peak = (PAPER_LR if config.lr is None else config.lr) if lr is None else lr
    lrs = [float(peak) * linear_warmup_decay(step, total, warm) for step in range(total)]
    fractions = [min(bs, n - k * bs) / n for k in range(steps_per_epoch)]
    clip = None if config.grad_clip is None else float(config.grad_clip)
    history = torch.empty(epochs, s, dtype=z.dtype, device=z.device)
    net.train()
    step = 0
    for epoch in range(epochs):
        if steps_per_epoch > 1:
            # one gather per epoch; the mini-batches are contiguous slices (views) of it
            perm = torch.randperm(n, generator=generator).to(a.device)
            ap, bp, zp = a[perm], b[perm], z[perm]
            wp = None if pair_weights is None else pair_weights[:, perm]
        else:
            ap, bp, zp, wp = a, b, z, pair_weights
        epoch_loss = torch.zeros(s, dtype=z.dtype, device=z.device)
        for k in range(steps_per_epoch):
            lo, hi = k * bs, (k + 1) * bs
            ab, bb, zb = ap[lo:hi], bp[lo:hi], zp[lo:hi]
            wb = None if wp is None else wp[:, lo:hi]
            res = None if manual is None else manual(ab, bb, zb, wb)
            if res is not None:
                per_member, by_name = res
                grads = [by_name.get(k) for k, _ in named]
            else:
                pred = net(ab, bb)
                sq = (pred - zb).pow(2)
                per_member = (sq if wb is None else sq * wb).mean(dim=-1)
                grads = list(torch.autograd.grad(per_member.sum(), params, allow_unused=True))
            if clip is not None:
                _clip_per_member(grads, s, clip)
            opt.step(grads, lrs[step])
            epoch_loss += per_member.detach() * fractions[k]
            step += 1
        history[epoch] = epoch_loss
    net.eval()
    return history


class BatchedAdam:
    r"""Adam (Kingma & Ba) on a fixed parameter list, one fused kernel call per step.

    The update is ``torch.optim.Adam(params, fused=True)``'s, bit for bit: it calls the same
    kernel (``torch._fused_adam_``, defaults ``betas=(0.9, 0.999)``, ``eps=1e-8``) with the
    same state (float32 step counters, zero moments), but skips ``torch.optim``'s per-step
    Python machinery (parameter groups, state dictionaries, hooks) and its
    ``torch._dynamo`` import on the first step (0.7-1.2 s per process). Where the fused
    kernel does not exist (e.g. the ``meta`` device) it falls back to ``torch.optim.Adam``.

    Args:
        params: Parameters updated in place; a gradient of ``None`` skips its parameter.
        weight_decay: L2 penalty added to the gradient (``Adam``'s, not ``AdamW``'s).
    """

    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __init__(self, params: list[Tensor], *, weight_decay: float = 0.0) -> None:
        self.params = list(params)
        self.weight_decay = float(weight_decay)
        self._state: dict[int, tuple[Tensor, Tensor, Tensor]] = {}
        fused = all(
            p.device.type in _FUSED_DEVICES and p.is_floating_point() for p in self.params
        )
        #: ``torch.optim.Adam`` (unfused) where the fused kernel is unavailable (e.g. ``meta``).
        self._fallback = None if fused else torch.optim.Adam(
            self.params, lr=1e-3, weight_decay=self.weight_decay
        )

    def step(self, grads: list[Tensor | None], lr: float) -> None:
        """One update of every parameter whose gradient is not ``None``, at rate ``lr``.

        Args:
            grads: One gradient per parameter (same shapes), or ``None``.
            lr: Learning rate of this step.
        """
        if self._fallback is not None:
            self._fallback_step(grads, lr)
            return
        ps, gs, m1, m2, steps = [], [], [], [], []
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if g is None:
                continue
            state = self._state.get(i)
            if state is None:
                state = self._state[i] = (
                    torch.zeros_like(p, memory_format=torch.preserve_format),
                    torch.zeros_like(p, memory_format=torch.preserve_format),
                    torch.zeros((), dtype=torch.float32, device=p.device),
                )
            ps.append(p)
            gs.append(g)
            m1.append(state[0])
            m2.append(state[1])
            steps.append(state[2])
        if not ps:
            return
        with torch.no_grad():
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(
                ps, gs, m1, m2, [], steps, amsgrad=False, lr=lr, beta1=self.betas[0],
                beta2=self.betas[1], weight_decay=self.weight_decay, eps=self.eps,
                maximize=False, grad_scale=None, found_inf=None,
            )

    def _fallback_step(self, grads: list[Tensor | None], lr: float) -> None:
        for p, g in zip(self.params, grads, strict=True):
            p.grad = g
        for group in self._fallback.param_groups:
            group["lr"] = lr
        self._fallback.step()


#: Device types with a fused Adam kernel.
_FUSED_DEVICES = ("cpu", "cuda", "mps")


def _clip_per_member(grads: list[Tensor | None], s: int, max_norm: float) -> None:
    """Scale each member's gradient to global norm <= max_norm (members independent)."""
    sq = None
    for grad in grads:
        if grad is None:
            continue
        g = grad.reshape(s, -1).pow(2).sum(dim=1)
        sq = g if sq is None else sq + g
    if sq is None:
        return
    scale = (max_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0)
    for grad in grads:
        if grad is not None:
            grad.mul_(scale.view(s, *([1] * (grad.ndim - 1))))
