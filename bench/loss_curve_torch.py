#!/usr/bin/python3
"""PyTorch reference training of the SDD network (../shared/bench/sdd_torch.py's SkipMLP)
on the same data and recipe as sddcell train, printing the mean loss per window of steps.
usage: loss_curve_torch.py FILE.h5ad HVG.tsv STEPS LR WINDOW THREADS
HVG.tsv is `sddcell hvg FILE` output (highly_variable in the last column), so both sides
model the same genes; preprocessing here is normalize_total(1e4) + log1p on the QC'd cells
as scanpy (QC: genes in >= 3 cells, then cells with >= 10 of them)."""
import math, os, sys, time
import numpy as np, h5py, scipy.sparse as sp, torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench"))
from sdd_torch import SkipMLP, gamma

path, hvg, steps, lr, win, th = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(th); torch.manual_seed(0)
with h5py.File(path) as f:
    g = f["X"]
    X = sp.csr_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=tuple(g.attrs["shape"])).astype(np.float32)
keep_g = np.asarray((X > 0).sum(0)).ravel() >= 3
X = X[:, keep_g]
keep_c = np.asarray((X > 0).sum(1)).ravel() >= 10
X = X[keep_c]
tot = np.asarray(X.sum(1)).ravel()
X = sp.diags((1e4 / np.where(tot > 0, tot, 1)).astype(np.float32)) @ X
X.data = np.log1p(X.data)
rows = [l.rstrip("\n").split("\t") for l in open(hvg)]
hv = np.array([r[-1] in ("True", "true", "1") for r in rows[1:]])
hv = hv[keep_g]
X = X[:, np.where(hv)[0]].toarray()
M = X.max()
x0all = torch.from_numpy(np.concatenate([2 * X / M - 1, np.where(X > 0, 1.0, -1.0)], 1).astype(np.float32))
n, D = x0all.shape
print(f"# torch: {n} cells, {D // 2} genes", file=sys.stderr)
net = SkipMLP(2 * D, D)
opt = torch.optim.Adam(net.parameters(), lr=lr)
ema = [p.detach().clone() for p in net.parameters()]
B, acc, t0 = 256, [], time.perf_counter()
for k in range(steps):
    x0 = x0all[torch.randint(0, n, (B,))]
    t = torch.rand(B); gm = gamma(t).float()[:, None]
    xt = gm.sqrt() * x0 + (1 - gm).sqrt() * torch.randn_like(x0)
    sc = torch.zeros_like(x0); h = B // 2
    with torch.no_grad():
        e = net(torch.cat([xt[:h], torch.zeros_like(x0[:h])], -1), t[:h])
        sc[:h] = torch.cat([e[:, :D // 2].clamp(-1, 1), e[:, D // 2:].clamp(-1, 1)], -1)
    loss = ((net(torch.cat([xt, sc], -1), t) - x0) ** 2).mean()
    opt.zero_grad(); loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step()
    d = min(0.9999, (1 + k) / (10 + k))
    with torch.no_grad():
        for e_, p in zip(ema, net.parameters()): e_.mul_(d).add_(p, alpha=1 - d)
    acc.append(loss.item())
    if len(acc) == win:
        print(f"{k + 1}\t{sum(acc) / win:.5f}", flush=True); acc = []
print(f"torch: {steps} steps in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
