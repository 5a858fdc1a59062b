"""PyTorch peer of bench/suites/engine.ts: the same networks (bench/networks.ts), batch and passes.

Run by the bench harness with Debian's /usr/bin/python3 (python3-torch), which sets the glibc
malloc environment the lead measured with; prints one JSON object on stdout:

  {"torch": "1.13.0", "threads": 2, "batch": 128, "reps": 10,
   "results": {"small-cnn": {"params": 591274, "train_ms": [...], "gradient_ms": [...], "inference_ms": [...]}, ...}}

Passes (all on a fixed random batch, NCHW float32):
  train      SGD (lr 0.01, momentum 0.9): zero_grad, forward (train mode), cross-entropy, backward, step
  gradient   vanilla gradient: d(sum of true-class logits)/d(input), eval mode
  inference  forward in eval mode under no_grad
  scaat      one SCAAT step as docs/method.md §2 (defaults: ε 8/255, q 0.5 at the start, γ 0.02,
             q in [0.05, 0.95], λ 1, loss clean+adv): saliency in eval mode (vanilla gradient of the
             true-class logit, per-pixel Σ_c|g|), the mask of the floor(q·H·W) lowest pixels (ties
             by index), masked PGD-7 (α = ε/4, random start, valid-box projection) in eval mode,
             CE(f(x)) + λ·CE(f(x_adv)) in train mode (x_adv first), one SGD update, the ratio update ±γ
  scaat-fgsm the same with FGSM-RS (one step, α = 1.25ε) as the attack
  scaat-shared  SCAAT's sharedBackward step (FGSM-RS, 2 passes): train mode, forward f(x), backward
             of CE(f(x)) to the parameters and to x; the mask from Σ_c|∂CE/∂x|, x_adv one FGSM-RS step
             along sign(∂CE/∂x) inside it; forward f(x_adv), backward of λ·CE(f(x_adv)) (the
             gradients add up), one SGD update, the ratio update ±γ
  scaat-onepass  SCAAT's one-pass step (attack 'noise', loss 'adv-only', saliencySource
             'train-backward'): the mask from the previous step's Σ_c|∂CE(f(x_adv))/∂x_adv|,
             x_adv = x + M ⊙ Π(δ0), δ0 ~ U(−ε, ε); train mode, forward f(x_adv), backward of
             CE(f(x_adv)) to the parameters and to x_adv (the next step's map), one SGD update; an
             eval-mode forward of x for clean accuracy; the ratio update ±γ
  pgd-at     whole-image PGD-7 (no saliency, no mask), the same loss and update
  evaluation per batch: SmoothGrad-50 (σ = 0.15·(max − min) per image) and IG-50 (black baseline,
             midpoint rule), each map Σ_c|A| per pixel, then AOPC MoRF and LeRF of each map in the
             default regime (P = max(1, round(side/28)), L = round(0.1·patches), uniform fill,
             256 perturbed images per forward), target = label, eval mode
"""
import argparse
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def small_cnn() -> nn.Module:
    """conv32-conv32-maxpool-conv64-conv64-maxpool-dense128-dense10, ReLU, 3x3 'same' convs."""
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(8 * 8 * 64, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet20(nn.Module):
    """CIFAR ResNet-20: 3 stages x 3 basic blocks (16/32/64), projection shortcuts, GAP, dense10."""

    def __init__(self, blocks: int = 3, num_classes: int = 10):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for stage, cout in enumerate([16, 32, 64]):
            for b in range(blocks):
                layers.append(BasicBlock(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn(self.conv(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


NETWORKS = {"small-cnn": small_cnn, "resnet20": ResNet20}
PASSES = ("train", "gradient", "inference", "scaat", "scaat-fgsm", "scaat-shared", "scaat-onepass", "scaat-kept", "scaat-onepass-fgsm", "scaat-twoforward", "pgd-at", "evaluation")

# docs/method.md §2 defaults
EPSILON = 8 / 255
RATIO_INIT, RATIO_MIN, RATIO_MAX, RATIO_STEP = 0.5, 0.05, 0.95, 0.02
LAMBDA = 1.0


def snap(q: torch.Tensor) -> torch.Tensor:
    """q on the 1e-6 grid (method.md §2.2, §2.5)."""
    return torch.round(q.double() * 1e6) / 1e6


def saliency(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-pixel Σ_c |∂ logit_y / ∂x| in eval mode, [B, H, W] (method.md §2.1)."""
    model.eval()
    xi = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(xi).gather(1, y[:, None]).sum(), xi)
    return g.abs().sum(1)


def low_saliency_mask(scores: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """[B, 1, H, W] float mask of the floor(q·H·W) lowest-score pixels per image, ties to the lower flat index."""
    b, h, w = scores.shape
    n = h * w
    k = torch.floor(torch.round(q.double().clamp(0, 1) * 1e6) * n / 1e6).long()  # masks.ts irrelevantCount
    flat = scores.reshape(b, n).nan_to_num(nan=float("inf"))
    order = torch.sort(flat, dim=1, stable=True).indices  # ascending, ties by index
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n).expand(b, n).contiguous())
    return (rank < k[:, None]).float().reshape(b, 1, h, w)


def masked_pgd(model: nn.Module, x, y, mask, epsilon: float, alpha: float, steps: int, gen: torch.Generator):
    """L∞ PGD inside the mask with the valid-box projection Π(δ) = clip(δ, −x, 1 − x), eval mode (method.md §2.3)."""
    model.eval()
    lo, hi = -x, 1 - x
    delta = ((torch.rand(x.shape, generator=gen) * 2 - 1) * epsilon)
    delta = torch.max(torch.min(delta, hi), lo) * mask
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = F.cross_entropy(model(x + delta), y, reduction="sum")
        (g,) = torch.autograd.grad(loss, delta)
        delta = (delta.detach() + alpha * g.sign()).clamp(-epsilon, epsilon)
        delta = torch.max(torch.min(delta, hi), lo) * mask
    return (x + delta).clamp(0, 1).detach()


def adversarial_update(model: nn.Module, opt, x, y, x_adv):
    """CE(f(x)) + λ·CE(f(x_adv)) in train mode (the x_adv forward first), one backward, one update;
    returns (loss, [argmax f(x_adv) = y]) (method.md §2.4, feedback 'training-pass')."""
    model.train()
    opt.zero_grad(set_to_none=True)
    za = model(x_adv)
    zc = model(x)
    loss = F.cross_entropy(zc, y) + LAMBDA * F.cross_entropy(za, y)
    loss.backward()
    opt.step()
    return loss.detach(), (za.detach().argmax(1) == y)


def ramp(q, adv_correct):
    """The poster's ratio update: q_i ± γ by the masked attack's outcome, clipped, on the 1e-6 grid."""
    step = torch.where(adv_correct, RATIO_STEP, -RATIO_STEP).double()
    return snap((q + step).clamp(RATIO_MIN, RATIO_MAX))


def fgsm_along(x, mask, signs, gen: torch.Generator):
    """FGSM-RS inside the mask along a given direction's signs: the random start, one step of 1.25ε
    along `signs`, the ε-clip and the valid-box projection (method.md §2.3; the direction of the
    sharedBackward step, or kept from the previous step: attackGradient 'train-backward', §2.6)."""
    lo, hi = -x, 1 - x
    delta = ((torch.rand(x.shape, generator=gen) * 2 - 1) * EPSILON)
    delta = torch.max(torch.min(delta, hi), lo) * mask
    delta = (delta + 1.25 * EPSILON * signs).clamp(-EPSILON, EPSILON)
    return (x + torch.max(torch.min(delta, hi), lo) * mask).clamp(0, 1)


def scaat_shared_step(model, opt, x, y, q, gen: torch.Generator):
    """SCAAT's sharedBackward step (train/_shared-pass.ts): the clean training backward yields the
    mask's map and the FGSM-RS direction; returns (loss, q after the ratio update)."""
    model.train()
    opt.zero_grad(set_to_none=True)
    xi = x.detach().clone().requires_grad_(True)
    loss_clean = F.cross_entropy(model(xi), y)
    loss_clean.backward()  # ∂/∂θ accumulates in .grad, ∂/∂x in xi.grad
    g = xi.grad
    mask = low_saliency_mask(g.abs().sum(1), q)
    x_adv = fgsm_along(x, mask, g.sign(), gen)
    za = model(x_adv)
    loss_adv = LAMBDA * F.cross_entropy(za, y)
    loss_adv.backward()
    opt.step()
    return (loss_clean + loss_adv).item(), ramp(q, za.detach().argmax(1) == y)


def adv_only_update(model, opt, x, y, q, x_adv):
    """The one-pass steps' update: CE(f(x_adv)) in train mode, one backward (∂/∂θ and ∂/∂x_adv),
    one update, then the inference forward that measures clean accuracy, as scaat does; returns
    (loss, q after the ratio update, ∂L/∂x_adv)."""
    x_adv = x_adv.requires_grad_(True)
    model.train()
    opt.zero_grad(set_to_none=True)
    za = model(x_adv)
    loss = F.cross_entropy(za, y)
    loss.backward()  # ∂/∂θ in .grad, ∂/∂x_adv in x_adv.grad
    opt.step()
    model.eval()
    with torch.no_grad():
        clean_correct = model(x).argmax(1) == y  # the clean accuracy scaat reports
    del clean_correct  # computed (CPU tensors are eager), as scaat computes it; not returned
    return loss.item(), ramp(q, za.detach().argmax(1) == y), x_adv.grad


def scaat_onepass_step(model, opt, x, y, q, scores, gen: torch.Generator):
    """SCAAT's one-pass step (method.md §2.6): noise inside the mask of the cached map `scores`
    ([B, H, W], from the previous step's training backward), loss CE(f(x_adv)); returns (loss, q
    after the ratio update, this step's map for the next)."""
    mask = low_saliency_mask(scores, q)
    lo, hi = -x, 1 - x
    delta = ((torch.rand(x.shape, generator=gen) * 2 - 1) * EPSILON)
    x_adv = (x + torch.max(torch.min(delta, hi), lo) * mask).clamp(0, 1)
    loss, q, g = adv_only_update(model, opt, x, y, q, x_adv)
    return loss, q, g.abs().sum(1)


def scaat_kept_step(model, opt, x, y, q, signs, gen: torch.Generator):
    """SCAAT with FGSM-RS along the previous training backward's sign(∂L/∂x_adv) (attackGradient
    'train-backward', loss 'clean+adv', fresh maps): the saliency pass and the two training forwards,
    no attack pass; returns (loss, q after the ratio update, this step's signs for the next)."""
    mask = low_saliency_mask(saliency(model, x, y), q)
    x_adv = fgsm_along(x, mask, signs, gen).requires_grad_(True)
    loss, adv_correct = adversarial_update(model, opt, x, y, x_adv)  # ∂/∂x_adv lands in x_adv.grad
    return loss.item(), ramp(q, adv_correct), x_adv.grad.sign()


def scaat_onepass_fgsm_step(model, opt, x, y, q, scores, signs, gen: torch.Generator):
    """The one-pass step with an adversary: FGSM-RS along the kept signs inside the mask of the
    cached map, loss CE(f(x_adv)); its backward gives the next map and the next signs."""
    mask = low_saliency_mask(scores, q)
    loss, q, g = adv_only_update(model, opt, x, y, q, fgsm_along(x, mask, signs, gen))
    return loss, q, g.abs().sum(1), g.sign()


def scaat_twoforward_step(model, opt, x, y, q, scores, signs, gen: torch.Generator):
    """The two-forward step: FGSM-RS along the kept signs inside the mask of the cached map, loss
    'clean+adv'; its backward gives the next map (|∂L/∂x| of the clean term, channels summed) and
    the next signs (sign ∂L/∂x_adv): no saliency pass, no attack pass."""
    mask = low_saliency_mask(scores, q)
    x_adv = fgsm_along(x, mask, signs, gen).requires_grad_(True)
    xi = x.detach().clone().requires_grad_(True)
    loss, adv_correct = adversarial_update(model, opt, xi, y, x_adv)
    return loss.item(), ramp(q, adv_correct), xi.grad.abs().sum(1), x_adv.grad.sign()


def scaat_step(model, opt, x, y, q, attack: str, gen: torch.Generator):
    """One SCAAT step (method.md §2); returns (loss, q after the ratio update)."""
    mask = low_saliency_mask(saliency(model, x, y), q)
    if attack == "pgd":
        x_adv = masked_pgd(model, x, y, mask, EPSILON, EPSILON / 4, 7, gen)
    else:
        x_adv = masked_pgd(model, x, y, mask, EPSILON, 1.25 * EPSILON, 1, gen)
    loss, adv_correct = adversarial_update(model, opt, x, y, x_adv)
    return loss.item(), ramp(q, adv_correct)


def target_logit_grad(model, x, y):
    xi = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(model(xi).gather(1, y[:, None]).sum(), xi)
    return g


def smooth_grad(model, x, y, samples: int, noise_level: float, gen: torch.Generator):
    """Mean over `samples` noisy copies of the vanilla gradient, σ = noise_level·(max − min) per image."""
    sigma = noise_level * (x.amax((1, 2, 3), keepdim=True) - x.amin((1, 2, 3), keepdim=True))
    total = torch.zeros_like(x)
    for _ in range(samples):
        total += target_logit_grad(model, x + sigma * torch.randn(x.shape, generator=gen), y)
    return total / samples


def integrated_gradients(model, x, y, steps: int):
    """(x − 0) · Σ_j w_j ∂logit_y(α_j x)/∂x, midpoint nodes α_j = (j + ½)/m, w_j = 1/m."""
    total = torch.zeros_like(x)
    for j in range(steps):
        total += target_logit_grad(model, x * ((j + 0.5) / steps), y)
    return total / steps * x


def aopc(model, x, y, scores, order: str, gen: torch.Generator, fraction: float = 0.1, per_forward: int = 256):
    """Mean AOPC over the batch (method.md §4.4), uniform fill drawn once per image."""
    b, c, h, w = x.shape
    p = max(1, round(max(h, w) / 28))
    ph, pw = -(-h // p), -(-w // p)
    patches = ph * pw
    steps = min(patches, max(1, round(fraction * patches)))
    sums = F.pad(scores, (0, pw * p - w, 0, ph * p - h)).reshape(b, ph, p, pw, p).sum((2, 4)).reshape(b, patches).double()
    key = -sums if order == "morf" else sums
    porder = torch.sort(key, dim=1, stable=True).indices
    prank = torch.empty_like(porder)
    prank.scatter_(1, porder, torch.arange(patches).expand(b, patches).contiguous())
    rank = prank.reshape(b, ph, pw).repeat_interleave(p, 1).repeat_interleave(p, 2)[:, :h, :w].reshape(b, 1, h, w)
    delta = torch.rand(x.shape, generator=gen) - x
    probs = []
    per = max(1, per_forward // b)
    with torch.no_grad():
        for k0 in range(0, steps + 1, per):
            ks = torch.arange(k0, min(steps + 1, k0 + per))
            masks = (rank[None] < ks[:, None, None, None, None]).float()
            xk = (x[None] + delta[None] * masks).reshape(-1, c, h, w)
            probs.append(F.softmax(model(xk), 1).reshape(len(ks), b, -1).gather(2, y[None, :, None].expand(len(ks), b, 1))[..., 0])
    pr = torch.cat(probs).double()  # [L+1, B]
    return (pr[0:1] - pr).mean(0).mean().item()


def evaluation(model, x, y, gen: torch.Generator):
    model.eval()
    out = 0.0
    for attribution in (smooth_grad(model, x, y, 50, 0.15, gen), integrated_gradients(model, x, y, 50)):
        scores = attribution.abs().sum(1)
        out += aopc(model, x, y, scores, "morf", gen) - aopc(model, x, y, scores, "lerf", gen)
    return out


def timed(fn, warmup: int, reps: int):
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def bench(name: str, batch: int, warmup: int, reps: int, passes) -> dict:
    torch.manual_seed(0)
    model = NETWORKS[name]()
    x = torch.rand(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    result = {"params": sum(p.numel() for p in model.parameters() if p.requires_grad)}

    def train():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def gradient():
        model.eval()
        xi = x.clone().requires_grad_(True)
        logits = model(xi)
        (g,) = torch.autograd.grad(logits.gather(1, y[:, None]).sum(), xi)
        return g.sum().item()

    def inference():
        model.eval()
        with torch.no_grad():
            return model(x).sum().item()

    gen = torch.Generator().manual_seed(1)
    q = torch.full((batch,), RATIO_INIT, dtype=torch.float64)

    def scaat(attack: str):
        def run():
            nonlocal q
            loss, q = scaat_step(model, opt, x, y, q, attack, gen)
            return loss
        return run

    def scaat_shared():
        nonlocal q
        loss, q = scaat_shared_step(model, opt, x, y, q, gen)
        return loss

    scores = saliency(model, x, y)  # the first visit's map; later steps take the training backward's

    def scaat_onepass():
        nonlocal q, scores
        loss, q, scores = scaat_onepass_step(model, opt, x, y, q, scores, gen)
        return loss

    signs = torch.zeros_like(x)  # replaced by the first step's own; later steps take the previous step's
    signs_1p = torch.zeros_like(x)
    scores_1p = scores.clone()

    def scaat_kept():
        nonlocal q, signs
        loss, q, signs = scaat_kept_step(model, opt, x, y, q, signs, gen)
        return loss

    def scaat_onepass_fgsm():
        nonlocal q, scores_1p, signs_1p
        loss, q, scores_1p, signs_1p = scaat_onepass_fgsm_step(model, opt, x, y, q, scores_1p, signs_1p, gen)
        return loss

    signs_2f = torch.zeros_like(x)
    scores_2f = scores.clone()

    def scaat_twoforward():
        nonlocal q, scores_2f, signs_2f
        loss, q, scores_2f, signs_2f = scaat_twoforward_step(model, opt, x, y, q, scores_2f, signs_2f, gen)
        return loss

    def pgd_at():
        x_adv = masked_pgd(model, x, y, torch.ones(batch, 1, 32, 32), EPSILON, EPSILON / 4, 7, gen)
        return adversarial_update(model, opt, x, y, x_adv)[0].item()

    fns = (("train", train), ("gradient", gradient), ("inference", inference), ("scaat", scaat("pgd")),
           ("scaat-fgsm", scaat("fgsm-rs")), ("scaat-shared", scaat_shared), ("scaat-onepass", scaat_onepass),
           ("scaat-kept", scaat_kept), ("scaat-onepass-fgsm", scaat_onepass_fgsm),
           ("scaat-twoforward", scaat_twoforward), ("pgd-at", pgd_at), ("evaluation", lambda: evaluation(model, x, y, gen)))
    for p, fn in fns:
        if p in passes:
            result[f"{p}_ms"] = timed(fn, warmup, reps)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--passes", default="train,gradient,inference")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    nets = [n for n in args.networks.split(",") if n]
    unknown = [n for n in nets if n not in NETWORKS]
    if unknown:
        sys.exit(f"peer_torch.py: unknown network(s) {unknown}; expected some of {list(NETWORKS)}")
    passes = set(args.passes.split(","))
    if passes - set(PASSES):
        sys.exit(f"peer_torch.py: unknown pass(es) {sorted(passes - set(PASSES))}; expected some of {list(PASSES)}")
    results = {n: bench(n, args.batch, args.warmup, args.reps, passes) for n in nets}
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
               "reps": args.reps, "results": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
