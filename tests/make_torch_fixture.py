#!/usr/bin/python3
"""Write tests/data/torch_fixture.txt: the SDD skip-MLP of doc/method.md §4 in PyTorch, with
weights and inputs from a hash formula that tests/test_torch.c reproduces exactly, and its
outputs, loss, sampled parameter gradients, and sampled weights and EMA weights after 10
steps of clip + Adam + EMA on one fixed batch.

usage: /usr/bin/python3 tests/make_torch_fixture.py [OUT]   (needs python3-torch)

Tensor names are the C parameter table's names. For the default widths the network is
checked to be the very module of ../shared/bench/sdd_torch.py when that file is present.
"""
import math, os, sys
import numpy as np
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(1)
MASK = (1 << 64) - 1


def name_hash(name):
    h = 0
    for c in name.encode():
        h = (h * 31 + c) & 0xFFFFFFFF
    return h


def hash_uniform(name, n):
    """u_i in [0,1): splitmix-style mix of (i + 1) * golden + name hash, in uint64."""
    with np.errstate(over="ignore"):
        z = (np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             + np.uint64(name_hash(name)))
        z ^= z >> np.uint64(31)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(29)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def hash_tensor(name, shape, lo, hi):
    u = hash_uniform(name, int(np.prod(shape)))
    return torch.from_numpy((lo + (hi - lo) * u).astype(np.float32).reshape(shape))


def sinus(t, dim):
    half = dim // 2
    f = torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half)
    a = t[:, None].float() * f[None]
    return torch.cat([torch.cos(a), torch.sin(a)], -1)


class RB(nn.Module):
    def __init__(s, i, o, e):
        super().__init__(); s.l = nn.Linear(i, o); s.e = nn.Linear(e, o); s.n = nn.LayerNorm(o)

    def forward(s, x, emb):
        return F.silu(s.n(s.l(x) + s.e(F.silu(emb))))


class SkipMLP(nn.Module):
    def __init__(s, din, dout, hid, head, E, n_labels):
        super().__init__()
        s.E = E
        s.t1 = nn.Linear(E, E); s.t2 = nn.Linear(E, E)
        h = hid
        s.enc = nn.ModuleList([RB(din, h[0], E), RB(h[0], h[1], E), RB(h[1], h[2], E), RB(h[2], h[3], E)])
        s.dec = nn.ModuleList([RB(h[3], h[2], E), RB(h[2], h[1], E), RB(h[1], h[0], E)])
        s.o1 = nn.Linear(h[0], head); s.on = nn.LayerNorm(head); s.o2 = nn.Linear(head, dout)
        s.label = nn.Embedding(n_labels + 1, E) if n_labels else None

    def forward(s, x, t, y=None):
        emb = s.t2(F.silu(s.t1(sinus(1000 * t, s.E))))
        if s.label is not None:
            emb = emb + s.label(y)
        h0 = s.enc[0](x, emb); h1 = s.enc[1](h0, emb); h2 = s.enc[2](h1, emb); h3 = s.enc[3](h2, emb)
        u = s.dec[0](h3, emb) + h2; u = s.dec[1](u, emb) + h1; u = s.dec[2](u, emb) + h0
        return s.o2(F.silu(s.on(s.o1(u))))


def set_weights(net):
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name.endswith("n.weight") or name == "on.weight":
                p.copy_(hash_tensor(name, p.shape, 0.5, 1.5))
            elif name.endswith("n.bias") or name == "on.bias":
                p.copy_(hash_tensor(name, p.shape, -0.5, 0.5))
            elif name == "label.weight":
                p.copy_(hash_tensor(name, p.shape, -1.0, 1.0))
            else:
                fan_in = p.shape[1] if p.dim() == 2 else dict(net.named_parameters())[name[:-4] + "weight"].shape[1]
                b = 1.0 / math.sqrt(fan_in)
                p.copy_(hash_tensor(name, p.shape, -b, b))


def sample_idx(n, k=48):
    if n <= k:
        return list(range(n))
    return sorted(set((j * 7919 * 104729 + j * j * 13) % n for j in range(k)))


def run(out, cfg):
    name, G, bits, hid, head, E, nl, B, nsc, bw, wzero = cfg
    D = 2 * G if bits else G
    net = SkipMLP(2 * D, D, hid, head, E, nl)
    set_weights(net)
    if hid == (512, 512, 256, 128) and head == 1024 and E == 512 and not nl:
        bench = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "bench")
        if os.path.exists(os.path.join(bench, "sdd_torch.py")):
            sys.path.insert(0, bench)
            import sdd_torch
            ref = sdd_torch.SkipMLP(2 * D, D)
            ref.load_state_dict(net.state_dict())
    else:
        ref = None
    xt = hash_tensor(name + ".xt", (B, D), -2, 2)
    sc = hash_tensor(name + ".sc", (B, D), -1, 1)
    sc[nsc:] = 0
    t = hash_tensor(name + ".t", (B,), 0, 1)
    x0 = torch.where(hash_tensor(name + ".x0", (B, D), 0, 1) < 0.4, -1.0, 0.7)
    y = torch.tensor([k % (nl + 1) for k in range(B)]) if nl else None
    w = torch.ones(B, D)
    if bits:
        w[:, G:] = bw
        w[:, :G] = torch.where(x0[:, G:] < 0, wzero, 1.0)
    x = torch.cat([xt, sc], -1)
    names = [n for n, _ in net.named_parameters()]
    params = dict(net.named_parameters())
    p0 = {n: p.detach().clone() for n, p in params.items()}
    ema = {n: p.detach().clone() for n, p in params.items()}
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lines = [f"config {name} {G} {bits} {' '.join(map(str, hid))} {head} {E} {nl} {B} {nsc} {bw!r} {wzero!r}"]
    for k in range(10):
        o = net(x, t, y)
        if k == 0 and ref is not None:
            assert torch.allclose(ref(x, t), o, rtol=0, atol=0), "differs from sdd_torch.SkipMLP"
        loss = (w * (o - x0) ** 2).sum() / (B * D)
        opt.zero_grad()
        loss.backward()
        if k == 0:
            lines.append("array out " + " ".join(f"{v:.9g}" for v in o.detach().flatten().tolist()))
            lines.append(f"loss {loss.item():.12g}")
            for n in names:
                g = params[n].grad.flatten()
                idx = sample_idx(g.numel())
                lines.append(f"grad {n} {g.numel()} {len(idx)} " + " ".join(f"{i}:{g[i].item():.9g}" for i in idx))
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        d = min(0.9999, (1 + k) / (10 + k))
        with torch.no_grad():
            for n in names:
                ema[n].mul_(d).add_(params[n].detach(), alpha=1 - d)
    for tag, src in (("param10", params), ("ema10", ema)):
        for n in names:
            p = src[n].detach().flatten()
            q = p0[n].flatten()
            idx = sample_idx(p.numel())
            lines.append(f"{tag} {n} {p.numel()} {len(idx)} " +
                         " ".join(f"{i}:{p[i].item() - q[i].item():.9g}" for i in idx))
    lines.append("end")
    out.write("\n".join(lines) + "\n")


CONFIGS = [
    # name, G, bits, hidden, head, E, n_labels, B, n_sc, bit_weight, w_zero_value
    ("small", 16, 1, (32, 32, 16, 8), 64, 32, 3, 6, 3, 0.5, 0.0),
    ("nobits", 16, 0, (24, 20, 12, 8), 40, 16, 0, 5, 2, 1.0, 1.0),
    ("default", 4, 1, (512, 512, 256, 128), 1024, 512, 0, 4, 2, 1.0, 1.0),
]

if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "torch_fixture.txt")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"# written by tests/make_torch_fixture.py with torch {torch.__version__}\n")
        for c in CONFIGS:
            run(f, c)
    print(path)
