"""PyTorch peer of bench_nn.c: the same network, loss, optimizer and batch size on the same data.

Usage: python3 bench_nn_torch.py DATA.h5 TRAIN_ROWS EPOCHS PREDICT_ROWS  (one thread)
Prints "torch   train: <samples/s>" and "torch   predict: <samples/s>" lines that bench_nn parses.
"""
import sys
import time

import h5py
import numpy as np
import torch

torch.set_num_threads(1)
torch.manual_seed(1)
BANDS = "grizy"


class Net(torch.nn.Module):
    """5 -> 4 x Dense(200, ReLU) -> concat(input, last hidden) -> Dense(1)."""

    def __init__(self):
        super().__init__()
        self.hidden = torch.nn.ModuleList(
            [torch.nn.Linear(5 if i == 0 else 200, 200) for i in range(4)])
        self.out = torch.nn.Linear(205, 1)
        for layer in list(self.hidden) + [self.out]:
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.zeros_(layer.bias)

    def forward(self, x):
        h = x
        for layer in self.hidden:
            h = torch.relu(layer(h))
        return self.out(torch.cat([x, h], dim=1)).squeeze(1)


def hsc_loss(pred, true):
    dz = (pred - true) / (1 + true)
    return torch.mean(1 - 1 / (1 + (dz / 0.15) ** 2))


def main():
    path, ntrain, epochs, npred = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with h5py.File(path, "r") as f:
        x = np.stack([f[b + "_cmodel_mag"][:] for b in BANDS], axis=1).astype(np.float32)
        z = f["z"][:].astype(np.float32)
    lo, hi = x[:ntrain].min(0), x[:ntrain].max(0)
    x = (x - lo) / (hi - lo)
    xt, zt = torch.from_numpy(x[:ntrain]), torch.from_numpy(z[:ntrain])
    xv, zv = torch.from_numpy(x[ntrain:]), torch.from_numpy(z[ntrain:])
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=5e-4, betas=(0.9, 0.999), eps=1e-7)
    best = float("inf")
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(ntrain)
        total = 0.0
        for s in range(0, ntrain, 100):
            idx = perm[s:s + 100]
            opt.zero_grad(set_to_none=True)
            loss = hsc_loss(net(xt[idx]), zt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        with torch.no_grad():
            hsc_loss(net(xv), zv).item()
        best = min(best, time.perf_counter() - t0)
    print(f"torch   train: {ntrain / best:9.0f} samples/s  (best of {epochs} epochs of {ntrain} rows: {best:.2f} s; "
          f"final train loss {total / ntrain:.5f})")

    rng = np.random.default_rng(11)
    px = torch.from_numpy(((rng.uniform(19, 25, (npred, 5)).astype(np.float32) - lo) / (hi - lo)).astype(np.float32))
    out = torch.empty(npred)
    with torch.no_grad():
        net(px[:8192])
        for chunk, label in ((4096, "predict:"), (100, "predict at batch 100:")):
            best = float("inf")
            for _ in range(3 if chunk == 4096 else 1):
                t0 = time.perf_counter()
                for s in range(0, npred, chunk):
                    out[s:s + chunk] = net(px[s:s + chunk])
                best = min(best, time.perf_counter() - t0)
            print(f"torch   {label} {npred / best:9.0f} samples/s  ({chunk}-row batches, best pass over {npred} rows: "
                  f"{best:.3f} s)")


if __name__ == "__main__":
    main()
