"""Milliseconds per epoch of minidl against PyTorch, NumPy and (wide) the GEMM-only floor.

    .venv/bin/python benchmarks/bench_engine.py            # all workloads, about a minute
    .venv/bin/python benchmarks/bench_engine.py seed wide  # some of them

Every peer trains the same network (ReLU hidden layers, Tanh output) from the same
initial weights on the same float32 data, with summed squared error, plain SGD and the
same mini-batches in the same order (no shuffling), so each does the same number of
updates; the loss after the warm-up, equal to float rounding, is printed as the check.
Peers run round-robin, one repeat of each per round with a short pause between, after
one warm-up repeat each; a repeat is ``epochs`` epochs. The table gives the median (and
the minimum) over repeats in ms per epoch; each ratio is the median over rounds of the
ratio within a round, which holds still while the machine's speed drifts (on our
virtual machines by tens of percent over seconds). Run it on an otherwise idle machine:
on two cores any other busy process shows in the numbers (the load average is printed).

Peers, each run the way its user would:
- minidl: ``minidl.fit`` (the loop ``Sequential.train`` drives); it picks its own
  intra-op thread count per workload and restores the caller's afterwards;
- PyTorch: ``torch.nn.Sequential`` + autograd + ``torch.optim.SGD`` with
  ``((out - y) ** 2).sum()``, default threads, ``loss.item()`` per batch as tutorials do;
  also shown with one thread, for information (not a target);
- NumPy: ``numpy_peer.py``, hand-written forward/backward/SGD, NumPy as installed;
- GEMM floor (wide only): the same matrix products into preallocated buffers, nothing else.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

from numpy_peer import NumpyMLP  # noqa: E402 - after the sys.path lines above

import minidl  # noqa: E402
import minidl.plan  # noqa: E402, F401 - where the thread policy lives
from minidl import MSE, SGD, CrossEntropy, Linear, ReLU, Sequential, Tanh  # noqa: E402
from minidl.data import disc, one_hot  # noqa: E402


@dataclass(frozen=True)
class Workload:
    name: str
    sizes: tuple[int, ...]
    n: int
    batch_size: int
    eta: float
    epochs: int  # per repeat
    repeats: int
    # Seconds between two timed repeats: the previous peer's BLAS and OpenMP threads must stop
    # spinning first. OpenBLAS's workers busy-wait about 0.1 s after a large product, and a peer
    # started meanwhile shares the second core with them (measured: +80 ms on a 600 ms wide epoch).
    pause: float
    optimizer: str = "sgd"  # or "adam" (issue 15): minidl.Adam against torch.optim.Adam
    loss: str = "mse"  # or "xent": minidl.CrossEntropy against torch's cross_entropy, no Tanh at the end

    @property
    def seed_like(self) -> bool:
        return self.optimizer == "sgd" and self.loss == "mse"


WORKLOADS = {
    "seed": Workload("seed", (2, 25, 25, 25, 2), 1000, 100, 1e-3, 10, 31, 0.02),
    "batch1": Workload("batch1", (2, 25, 25, 25, 2), 1000, 1, 1e-3, 1, 9, 0.02),
    # A smaller step than the seed's: summed MSE over 512 rows of 1024-wide layers
    # would otherwise diverge, and NaNs would end minidl's run (and time nothing real).
    "wide": Workload("wide", (2, 1024, 1024, 1024, 2), 8192, 512, 1e-5, 1, 5, 0.3),
    # The seed's network and data with Adam, and with cross-entropy on raw scores (issue 15). No
    # NumPy peer here: the ratio against minidl's own seed run (plain SGD + MSE) is the reference.
    "adam": Workload("adam", (2, 25, 25, 25, 2), 1000, 100, 1e-3, 10, 31, 0.02, optimizer="adam"),
    "xent": Workload("xent", (2, 25, 25, 25, 2), 1000, 100, 1e-3, 10, 31, 0.02, loss="xent"),
}


def minidl_optimizer(w: Workload):
    return minidl.Adam(w.eta) if w.optimizer == "adam" else SGD(eta=w.eta)


# -- the peers: each returns a function that trains `epochs` epochs and returns the last epoch's loss ----------
def minidl_peer(w: Workload, model: Sequential, X, y):
    optimizer = minidl_optimizer(w)

    def run(epochs: int) -> float:
        records = list(minidl.fit(model, X, y, epochs, w.batch_size, optimizer))
        return records[-1].loss

    return run


def torch_peer(w: Workload, model: Sequential, X, y, threads: int | None = None):
    net = model.to_torch()  # nn.Sequential of nn.Linear/nn.ReLU/nn.Tanh with the same weights
    opt = torch.optim.Adam(net.parameters(), lr=w.eta) if w.optimizer == "adam" \
        else torch.optim.SGD(net.parameters(), lr=w.eta)
    n, bs = X.shape[0], w.batch_size
    xent = w.loss == "xent"

    def epoch() -> float:
        total = 0.0
        for s in range(0, n, bs):
            xb, yb = X[s:s + bs], y[s:s + bs]
            opt.zero_grad()
            out = net(xb)
            loss = torch.nn.functional.cross_entropy(out, yb, reduction="sum") if xent else ((out - yb) ** 2).sum()
            loss.backward()
            opt.step()
            total += loss.item()
        return total / n

    def run(epochs: int) -> float:
        before = torch.get_num_threads()
        if threads:
            torch.set_num_threads(threads)
        try:
            for _ in range(epochs):
                loss = epoch()
        finally:
            torch.set_num_threads(before)
        return loss

    return run


def numpy_peer(w: Workload, model: Sequential, X, y):
    linears = [m for m in model if isinstance(m, Linear)]
    mlp = NumpyMLP([m.weight.numpy() for m in linears], [m.bias.numpy() for m in linears])
    Xn, yn = X.numpy().copy(), y.numpy().copy()

    def run(epochs: int) -> float:
        for _ in range(epochs):
            loss = mlp.train_epoch(Xn, yn, w.batch_size, w.eta)
        return loss

    return run


def gemm_floor(w: Workload, model: Sequential, X, y, threads: int):
    """The matrix products of one training step and nothing else, into preallocated buffers:
    per layer the forward ``addmm`` and the weight-gradient ``mm``, and the input-gradient
    ``mm`` for every layer but the first (nobody needs dL/dX)."""
    linears = [m for m in model if isinstance(m, Linear)]
    bs = w.batch_size
    gen = torch.Generator().manual_seed(1)
    acts = [torch.rand(bs, m.in_features, generator=gen) for m in linears]
    outs = [torch.empty(bs, m.out_features) for m in linears]
    grads = [torch.rand(bs, m.out_features, generator=gen) - 0.5 for m in linears]
    # Each weight gradient in the layout minidl uses, the faster one: its longer side contiguous.
    wgrads = [torch.empty(m.in_features, m.out_features).t() if m.in_features < m.out_features
              else torch.empty_like(m.weight) for m in linears]
    igrads = [torch.empty(bs, m.in_features) for m in linears]
    W = [m.weight.clone() for m in linears]
    b = [m.bias.clone() for m in linears]
    steps = -(-X.shape[0] // bs)
    layers = range(len(linears))

    def run(epochs: int) -> float:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with torch.inference_mode():
                for _ in range(epochs * steps):
                    for i in layers:
                        torch.addmm(b[i], acts[i], W[i].t(), out=outs[i])
                    for i in reversed(layers):
                        torch.mm(grads[i].t(), acts[i], out=wgrads[i])
                        if i:
                            torch.mm(grads[i], W[i], out=igrads[i])
        finally:
            torch.set_num_threads(before)
        return float("nan")

    return run


# -- measuring ----------------------------------------------------------------------------------------------------
def minidl_threads(model, batch_size: int) -> int:
    """The intra-op thread count minidl's loop uses for this model and batch size."""
    policy = getattr(minidl, "plan", None) or minidl.training  # minidl.training before the plan existed
    choose = getattr(policy, "threads_for", None)
    return choose(model, batch_size) if choose else torch.get_num_threads()


@dataclass
class Result:
    times: dict[str, list[float]]  # ms per epoch of each repeat, repeat i of every peer in round i
    losses: dict[str, float]  # after the warm-up
    threads: int  # minidl's intra-op thread count

    def median(self, peer: str) -> float:
        return statistics.median(self.times[peer])

    def ratio(self, a: str, b: str) -> float:
        """Median over rounds of a's time / b's time in the same round. This machine's speed
        drifts by tens of percent over seconds; a round takes a fraction of a second (a few
        seconds for wide), so a ratio within a round compares like with like."""
        return statistics.median(x / y for x, y in zip(self.times[a], self.times[b], strict=True))


def measure(w: Workload) -> Result:
    X, labels = disc(w.n, seed=0)
    y = one_hot(labels)
    gen = torch.Generator().manual_seed(0)
    layers = []
    for i, (a, b) in enumerate(zip(w.sizes[:-1], w.sizes[1:], strict=True)):
        layers += [Linear(a, b, generator=gen), Tanh() if i == len(w.sizes) - 2 else ReLU()]
    if w.loss == "xent":
        layers.pop()  # cross-entropy takes raw scores
    reference = Sequential(*layers)

    def fresh() -> Sequential:  # every peer starts from the same weights
        model = Sequential(*[type(m)(m.in_features, m.out_features) if isinstance(m, Linear) else type(m)()
                             for m in reference])
        for mine, ref in zip(model.parameters(), reference.parameters(), strict=True):
            mine.copy_(ref)
        model.setLoss(CrossEntropy() if w.loss == "xent" else MSE())
        return model

    peers = {"minidl": minidl_peer(w, fresh(), X, y),
             "pytorch": torch_peer(w, fresh(), X, y),
             "pytorch 1 thread": torch_peer(w, fresh(), X, y, threads=1)}
    if w.seed_like:
        peers["numpy"] = numpy_peer(w, fresh(), X, y)
    else:  # minidl's seed run (plain SGD and MSE, Tanh output) on the same network and data
        plain = Workload("seed", w.sizes, w.n, w.batch_size, w.eta, w.epochs, w.repeats, w.pause)
        seed_model = Sequential(*[type(m)(m.in_features, m.out_features) if isinstance(m, Linear) else type(m)()
                                  for m in reference], *([Tanh()] if w.loss == "xent" else []))
        seed_model.setLoss(MSE())
        peers["minidl SGD+MSE"] = minidl_peer(plain, seed_model, X, y)
    threads = minidl_threads(reference, w.batch_size)
    if w.name == "wide":
        peers["gemm floor"] = gemm_floor(w, fresh(), X, y, threads)
    times: dict[str, list[float]] = {name: [] for name in peers}
    # Warm-up (allocations, thread pools, caches). Its last epoch's loss is the check that the
    # peers compute the same thing: same start, same updates, so they agree to float rounding
    # here; over hundreds of epochs the rounding differences grow and the losses drift apart.
    losses = {name: run(w.epochs) for name, run in peers.items()}
    for _ in range(w.repeats):
        for name, run in peers.items():
            time.sleep(w.pause)  # see Workload.pause
            gc.collect()
            gc.disable()  # as timeit does: a collection would land on whichever peer runs then
            try:
                start = time.perf_counter()
                run(w.epochs)
                times[name].append((time.perf_counter() - start) * 1e3 / w.epochs)
            finally:
                gc.enable()
    return Result(times, losses, threads)


# -- reporting ----------------------------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    t = os.times()
    return t.user + t.system


def numpy_blas() -> str:
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')} ({blas.get('openblas configuration', '').strip()})"
    except Exception:  # older NumPy: no dict mode
        return "unknown"


def header() -> None:
    env = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                      "OPENBLAS_CORETYPE") if k in os.environ}
    print(f"date      {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"machine   {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}")
    print(f"python    {platform.python_version()}, torch {torch.__version__}, numpy {np.__version__}, "
          f"minidl {minidl.__version__}")
    print(f"threads   torch intra-op {torch.get_num_threads()} (default, used by the PyTorch peer), "
          f"inter-op {torch.get_num_interop_threads()}; env {env or 'none set'}")
    print(f"numpy     BLAS {numpy_blas()}, default threads")
    print(f"load      {load()} (1-minute load average before the run; other work on the machine skews timings)")


def report(w: Workload, r: Result) -> list[str]:
    print(f"\n{w.name}: {'-'.join(map(str, w.sizes))}, {w.n} points, batch {w.batch_size}, eta {w.eta:g}, "
          f"{w.epochs} epoch(s) x {w.repeats} repeats; minidl used {r.threads} intra-op thread(s)")
    print(f"  {'peer':<18}{'ms/epoch':>10}{'min':>10}   loss after warm-up")
    for name, t in r.times.items():
        print(f"  {name:<18}{statistics.median(t):>10.3f}{min(t):>10.3f}   {r.losses[name]:.6f}")
    speedup = r.ratio("pytorch", "minidl")
    numpy_ratio = r.ratio("minidl", "numpy") if "numpy" in r.times else None
    print("  ratios (median over rounds of the ratio within a round)")
    print(f"  minidl speed-up vs PyTorch   {speedup:.2f}x"
          f"   (vs PyTorch on 1 thread {r.ratio('pytorch 1 thread', 'minidl'):.2f}x)")
    if numpy_ratio is not None:
        print(f"  minidl / NumPy time          {numpy_ratio:.2f}")
    else:
        print(f"  minidl / minidl SGD+MSE time {r.ratio('minidl', 'minidl SGD+MSE'):.2f}")
    if "gemm floor" in r.times:
        print(f"  minidl / GEMM floor time     {r.ratio('minidl', 'gemm floor'):.2f}")
    verdicts = []
    if w.name == "seed":
        verdicts += [("seed: >= 3.0x PyTorch", speedup >= 3.0), ("seed: minidl/NumPy < 1.0", numpy_ratio < 1.0)]
    elif w.name == "batch1":
        verdicts.append(("batch1: >= 2.0x PyTorch", speedup >= 2.0))
    elif w.name == "wide":
        verdicts.append(("wide: <= 1.2x GEMM floor", r.ratio("minidl", "gemm floor") <= 1.2))
    return [f"{label:<28}{'met' if ok else 'MISSED'}" for label, ok in verdicts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workloads", nargs="*", metavar="workload",
                        help=f"any of {', '.join(WORKLOADS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(sorted(unknown))}; choose from {', '.join(WORKLOADS)}")
    header()
    verdicts = []
    start, busy, own = time.perf_counter(), busy_seconds(), own_seconds()
    for name in args.workloads or WORKLOADS:
        w = WORKLOADS[name]
        verdicts += report(w, measure(w))
    print(f"\nload      {load()} after the run", end="")
    if busy is not None:  # the machine's busy time minus this process's: what else ran meanwhile
        others = (busy_seconds() - busy - (own_seconds() - own)) / (time.perf_counter() - start)
        print(f"; other processes kept about {max(others, 0):.2f} cores busy meanwhile", end="")
    print()
    print("targets")
    for line in verdicts:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
