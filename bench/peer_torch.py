"""PyTorch peer of bench/suites/engine.ts: the same networks (bench/networks.ts), batch and passes.

Run by the bench harness with Debian's /usr/bin/python3 (python3-torch), which sets the glibc
malloc environment the lead measured with; prints one JSON object on stdout:

  {"torch": "1.13.0", "threads": 2, "batch": 128, "reps": 10,
   "results": {"small-cnn": {"params": 591274, "train_ms": [...], "gradient_ms": [...], "inference_ms": [...]}, ...}}

Passes (all on a fixed random batch, NCHW float32):
  train      SGD (lr 0.01, momentum 0.9): zero_grad, forward (train mode), cross-entropy, backward, step
  gradient   vanilla gradient: d(sum of true-class logits)/d(input), eval mode
  inference  forward in eval mode under no_grad
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

    for p, fn in (("train", train), ("gradient", gradient), ("inference", inference)):
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
    results = {n: bench(n, args.batch, args.warmup, args.reps, passes) for n in nets}
    json.dump({"torch": torch.__version__, "threads": torch.get_num_threads(), "batch": args.batch,
               "reps": args.reps, "results": results}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
