"""Learnability and shortcut check of scaat's synthetic dataset (run by scripts/check-synthetic.ts).

Reads the uint8 dumps written by check-synthetic.ts, trains a small CNN (conv16-pool-conv32-pool-
conv64-global max pool-linear, Adam 1e-3, batch 64) and reports, every 100 steps, test accuracy on
the images and on the same images rendered without the object (a model that needs the object is at
chance there); then fits a logistic regression on per-image colour statistics (channel means,
standard deviations, 16-bin histograms), which must stay near chance if colours and areas do not
give the class away.
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
folder, steps = sys.argv[1], int(sys.argv[2])
meta = json.load(open(f'{folder}/meta.json'))
K, S, C = meta['numClasses'], meta['imageSize'], meta['channels']


def images(name):
    x = np.fromfile(f'{folder}/{name}.u8', np.uint8).reshape(-1, S, S, C).astype(np.float32) / 255
    return torch.tensor(x).permute(0, 3, 1, 2).contiguous()


def labels(name):
    return torch.tensor(np.fromfile(f'{folder}/{name}.u8', np.uint8).astype(np.int64))


xtr, ytr = images('train-x'), labels('train-y')
xte, yte, xno = images('test-x'), labels('test-y'), images('test-x-without-object')
net = nn.Sequential(
    nn.Conv2d(C, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(64, K))
opt = torch.optim.Adam(net.parameters(), 1e-3)


def accuracy(x, y):
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


out = {'chance': 1 / K, 'curve': []}
g = torch.Generator().manual_seed(0)
t0 = time.time()
for s in range(steps):
    idx = torch.randint(0, len(ytr), (64,), generator=g)
    loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if (s + 1) % 100 == 0 or s + 1 == steps:
        row = {'step': s + 1, 'loss': round(loss.item(), 4), 'test_acc': accuracy(xte, yte), 'without_object_acc': accuracy(xno, yte)}
        out['curve'].append(row)
        print(f"step {row['step']:4d}  loss {row['loss']:.3f}  test acc {row['test_acc']:.3f}  "
              f"without object {row['without_object_acc']:.3f}  ({time.time() - t0:.0f} s)", flush=True)


def colour_stats(x):
    f = [x.mean((2, 3)), x.std((2, 3))]
    for c in range(C):
        bins = (x[:, c].reshape(len(x), -1) * 16).long().clamp(0, 15)
        f.append(torch.zeros(len(x), 16).scatter_add_(1, bins, torch.ones(bins.shape)) / (S * S))
    return torch.cat(f, 1)


ftr, fte = colour_stats(xtr), colour_stats(xte)
mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
probe = nn.Linear(ftr.shape[1], K)
o2 = torch.optim.Adam(probe.parameters(), 1e-2)
for _ in range(2000):
    loss = F.cross_entropy(probe((ftr - mu) / sd), ytr)
    o2.zero_grad()
    loss.backward()
    o2.step()
with torch.no_grad():
    out['colour_probe_train_acc'] = (probe((ftr - mu) / sd).argmax(1) == ytr).float().mean().item()
    out['colour_probe_test_acc'] = (probe((fte - mu) / sd).argmax(1) == yte).float().mean().item()
print(f"colour-statistics probe: train {out['colour_probe_train_acc']:.3f}  test {out['colour_probe_test_acc']:.3f}  (chance {1 / K:.3f})")
print('JSON ' + json.dumps(out))
