"""The training plan: every speed trick of minidl, behind one seam.

The modules hold only their math: one ``forward``, one ``backward``. A :class:`Plan` runs a
model's passes over batches of one shape; :class:`~minidl.Sequential` keeps one per batch
shape and :func:`~minidl.fit` drives it. Nothing here changes a number: the same kernels
run on the same operands, only the memory they write to and the thread count change.
Timings behind each choice are in ``benchmarks/README.md``; here is what and why.

- **Buffers.** A small layer's whole forward takes a few microseconds, and a fresh tensor
  costs a good part of one (a large one costs page faults). So the plan's first pass lets
  each module allocate its results, keeps them, and hands them back as ``out=`` in every
  later pass. A module whose methods take no ``out=`` just allocates, as it would anyway.
- **In-place schedule.** A module that declares ``in_place`` (element-wise math) writes over
  its argument when nothing else reads it: in the forward pass the output of a module that
  declares ``keeps_output = False`` (a Linear reads its input in backward, not its output);
  in the backward pass any gradient buffer of the plan (no module keeps a gradient).
- **No dL/dx of the data.** The plan sets ``input_grad = False`` on the first module (see
  ``Module``): nobody reads the gradient of the data, and a Linear then skips its product.
- **Fused loss step.** The loss's forward keeps the difference its backward needs (MSE: the
  gradient is twice it). A loss that declares ``in_place`` and takes ``out=`` in both methods
  keeps it in one plan buffer (``forward(y, t, out=b)``), and its backward writes the gradient
  over it (``backward(out=b)``): no tensor made per batch. And ``fit`` adds each batch's loss
  to a 0-d tensor on the device, read once per epoch: a host sync per batch costs more than a
  small step.
- **Flat parameters.** :func:`pack` moves all parameters into one flat tensor and their
  gradients into another, so that ``fit``'s plain SGD step is one ``add_`` rather than a
  kernel per tensor. The tensors stay the same Python objects; :func:`sgd_step` checks that
  they still live there once per epoch and packs again if not. The same flat tensor, checked
  by that same call, makes the per-epoch divergence check one dot product
  (:func:`nonfinite_parameters`). minidl's stateful optimizers (momentum, Adam), weight decay
  and L1 get the same treatment: their state moves into flat tensors laid out like the
  parameters (:func:`pack_like`), their checks run once per epoch, and each step runs their
  math once on the flat tensors (Adam: 2.6 -> 1.4 times plain SGD's epoch on the seed's
  network; L1's sign term masked to the weights, :func:`weight_mask`), all through the
  optimizer's public hooks (``check_step``, ``states``, ``update``, ``flat_state``).
- **Kept transposes.** A fresh ``.mT`` view costs about as much as a quarter of a small
  product (made, then freed). ``Linear`` keeps its W^T and g^T in a :class:`Kept`,
  which gives the same view while the same tensor comes back at the same address (the plan's
  gradient buffers do, every batch), and a fresh one once its storage moved (``w.data = ...``,
  :func:`pack`): no view can go stale.
- **Cheap calls.** Each pass is a list of (method, out) steps, made once; ``out`` goes by position.
  ``fit`` binds each batch's ``forward`` and ``backward`` once per call, not per batch.
- **Thread policy.** :func:`threads_for`: one intra-op thread for small matrix products,
  the caller's count for large ones, restored whenever ``fit`` yields or waits.
- **Inference mode.** ``fit`` runs batches under ``torch.inference_mode()``, which skips
  autograd's bookkeeping in every op. Buffers made there are inference tensors, which may
  not be written to outside it: a Sequential keeps separate plans for the two modes.

One trick stays inside ``Linear``, because only it can apply it: the vector of ones that makes
dL/db = g^T 1 one BLAS call, which keeps the numbers bit-identical to earlier versions; it is
kept with g^T, so a kept gradient buffer needs no check of the batch size.
Not taken: folding the SGD update into the weight-gradient product (``W.addmm_(g^T, x,
alpha=-eta)``) measured no faster than the flat step here, and changes the rounding.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import torch

from . import checks
from .checks import takes_out, unchecked
from .optim import SGD, Optimizer


class Plan:
    """A model's forward and backward passes over batches of one shape, each result written
    into a buffer kept from the first pass. The results of a pass are overwritten by the next."""

    def __init__(self, modules, loss):
        # A private copy of the loss: a caller's model.loss.compute(...) between two of our calls,
        # say from another thread while training, cannot change what our backward reads.
        self.modules, self.loss = list(modules), copy.copy(loss)
        self.modules[0].input_grad = False  # nobody reads dL/dx of the data (see Module)
        # Each pass as (method, out) steps, ``out`` a buffer, IN_PLACE or None (the module allocates);
        # a loop over them costs less than a closure per call.
        self._forward_steps: list | None = None
        self._backward_steps: list | None = None
        self._loss_forward = unchecked(self.loss.forward)
        self._loss_backward, self._loss_out = unchecked(self.loss.backward), None
        self.storages: set[int] = set()  # of every buffer, to spot a caller passing one back

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self._forward_steps is None:
            self._forward_steps, x = self._first_pass(self.modules, "forward", x, ours=False)
            return x
        for method, out in self._forward_steps:
            x = method(x) if out is None else method(x, x if out is IN_PLACE else out)
        return x

    def backward(self, output: torch.Tensor, target: torch.Tensor, total: torch.Tensor | None = None) -> None:
        """Fill the parameter gradients for ``loss(output, target)``, ``output`` from the last
        :meth:`forward`; with ``total`` (a 0-d tensor), also add the loss to it."""
        value = self._loss_forward(output, target) if self._loss_out is None \
            else self._loss_forward(output, target, self._loss_out)
        if total is not None:
            total.add_(value)
        if self._backward_steps is None:
            grad = self._loss_backward()
            if takes_out(self.loss.backward) and takes_out(self.loss.forward) and self.loss.in_place:
                self._loss_out = self._keep(grad)  # for what forward keeps, then the gradient over it
            self._backward_steps, _ = self._first_pass(self.modules[::-1], "backward", grad, self._loss_out is not None)
            return
        grad = self._loss_backward() if self._loss_out is None else self._loss_backward(self._loss_out)
        for method, out in self._backward_steps:
            grad = method(grad) if out is None else method(grad, grad if out is IN_PLACE else out)

    def _first_pass(self, modules, name: str, x: torch.Tensor, ours: bool):
        """Run one pass, letting each module allocate, and return its steps for the next passes.
        ``ours``: ``x`` is a buffer of this plan that nothing reads after the module it goes to."""
        steps = []
        for module in modules:
            method = unchecked(getattr(module, name))
            if not takes_out(method):
                x, out, ours = method(x), None, False
            elif module.in_place and ours:
                x, out = method(x, x), IN_PLACE
                ours = name == "backward" or not module.keeps_output  # no module keeps a gradient
            else:
                x = method(x)
                out = None if x is None else self._keep(x)  # None: the first module skipped dL/dx
                ours = name == "backward" or not module.keeps_output
            steps.append((method, out))
        return steps, x

    def _keep(self, buffer: torch.Tensor) -> torch.Tensor:
        self.storages.add(buffer.untyped_storage().data_ptr())
        return buffer


IN_PLACE = object()  # a step's out: write over the argument


class Kept:
    """``make(t)`` (views of ``t``, or a tuple holding one), kept while the same tensor comes back at
    the same address: call it with ``t``. A tensor whose storage moved (``t.data = ...``, :func:`pack`'s ``set_``)
    gets a fresh view: the kept view holds the old storage, so a new one cannot start at the
    same address."""

    __slots__ = ("make", "kept")

    def __init__(self, make):
        self.make = make
        self.kept = (None, 0, None)  # (tensor, its data_ptr, its view): one tuple, swapped atomically

    def __call__(self, t: torch.Tensor):
        kept = self.kept
        if kept[0] is not t or kept[1] != t.data_ptr():
            kept = self.kept = (t, t.data_ptr(), self.make(t))
        return kept[2]


def transposed(t: torch.Tensor) -> torch.Tensor:
    return t.mT


def flattened(t: torch.Tensor) -> torch.Tensor:
    return t.view(-1)


# -- flat parameters and the SGD step -----------------------------------------------------------------
class Packed(NamedTuple):
    """Parameters and their gradients moved into two flat tensors by :func:`pack`."""

    flat_params: torch.Tensor
    flat_grads: torch.Tensor
    params: tuple[torch.Tensor, ...]
    grads: tuple[torch.Tensor, ...]
    addresses: tuple[int, ...] = ()  # where each parameter, then each gradient, starts in them


def pack(params: list[torch.Tensor], grads: list[torch.Tensor], previous: Packed | None = None) -> Packed | None:
    """Move ``params`` into one flat tensor and ``grads`` into another, each pair at the same
    offset and with its own shape and strides. The tensors stay the same Python objects
    (``Tensor.set_`` moves their storage), so references to them stay valid; views made
    before do not follow.

    Returns a :class:`Packed`, ``previous`` when every tensor still lives there, or ``None``
    (and moves nothing) when they cannot be packed: mixed dtypes or devices, a tensor listed
    twice, a parameter laid out unlike its gradient, or a tensor sharing its storage.
    """
    if previous is not None and _still_packed(previous, params, grads):
        return previous  # checked once per epoch: the cheap test first
    tensors = [*params, *grads]
    if not params or len(params) != len(grads) or len(set(map(id, tensors))) != len(tensors):
        return None
    dtype, device = params[0].dtype, params[0].device
    for p, g in zip(params, grads, strict=True):
        if p.shape != g.shape or p.stride() != g.stride() or not (_owns_dense(p) and _owns_dense(g)):
            return None
        if p.dtype != dtype or g.dtype != dtype or p.device != device or g.device != device:
            return None
    total = sum(p.numel() for p in params)
    flat_params = torch.empty(total, dtype=dtype, device=device)
    flat_grads = torch.zeros(total, dtype=dtype, device=device)
    offset = 0
    with torch.no_grad():
        for p, g in zip(params, grads, strict=True):
            for t, flat in ((p, flat_params), (g, flat_grads)):
                flat.as_strided(t.shape, t.stride(), offset).copy_(t)
                t.set_(flat.untyped_storage(), offset, t.shape, t.stride())
            offset += p.numel()
    return Packed(flat_params, flat_grads, tuple(params), tuple(grads), tuple(t.data_ptr() for t in tensors))


def _still_packed(packed: Packed, params, grads) -> bool:
    """The same tensors, each still at its place in the flat tensors (``p.data = ...`` moves one out).
    An address is proof enough: ``packed`` keeps the flat tensors alive, so nothing else can start
    there (and it costs a third of asking each tensor for its storage, once per epoch)."""
    return (len(packed.params) == len(params) and len(packed.grads) == len(grads)
            and all(map(_is, packed.params, params)) and all(map(_is, packed.grads, grads))
            and tuple(t.data_ptr() for t in (*params, *grads)) == packed.addresses)


def _is(a, b) -> bool:
    return a is b


def _owns_dense(t: torch.Tensor) -> bool:
    """``t`` fills its storage alone, contiguous or (a matrix) transposed."""
    return (t.storage_offset() == 0 and t.untyped_storage().nbytes() == t.numel() * t.element_size()
            and (t.is_contiguous() or (t.dim() == 2 and t.t().is_contiguous())))


def sgd_step(model, optimizer):
    """``optimizer.step(model, model.grads())`` as a call without arguments, for ``fit``, and the
    :class:`Packed` flat parameters it updates, checked just now (``None`` if it updates no flat
    tensor): ``fit`` calls this once per epoch and hands the second to :func:`nonfinite_parameters`,
    so one check of where the parameters live serves the epoch's steps and its divergence check.

    Plain SGD (no momentum, no weight decay, no L1) becomes one ``add_`` on the flat parameters (see
    :func:`pack`) when every module with parameters takes ``out=`` in its backward: such a module
    is written for the plan and fills its gradient tensors in place. Any other optimizer, an SGD
    subclass included, has its own ``step`` called, with the gradient tensors fetched afresh: a
    module written without the plan in mind may make new ones in every backward."""
    planned = all(takes_out(m.backward) for m in model if m.parameters())
    plain = type(optimizer) is SGD and optimizer.stateless and not optimizer.weight_decay and not optimizer.l1
    if planned and isinstance(optimizer, Optimizer) and type(optimizer).step is Optimizer.step and not plain:
        return _flat_step(model, optimizer)
    if not (plain and planned):
        step = optimizer.step
        return (lambda: step(model, model.grads())), None
    params, grads = model.parameters(), model.grads()
    packed = model.flat = pack(params, grads, model.flat)
    largest, dtype = torch.finfo(model.dtype).max, model.dtype

    def sgd():
        eta = optimizer.eta * optimizer.eta_scale  # read at every step: the playground may change it during a run
        if eta > largest:
            checks.eta_fits(eta, dtype)
        if packed is None:
            for p, g in zip(params, grads, strict=True):
                p.add_(g, alpha=-eta)
        else:
            packed.flat_params.add_(packed.flat_grads, alpha=-eta)

    return sgd, packed


def _flat_step(model, optimizer: Optimizer):
    """:func:`sgd_step` for minidl's stateful optimizers (momentum, Adam), weight decay and L1: their
    arguments checked once per epoch rather than per step, and their math run on the flat parameters,
    gradients and state (:func:`pack_like`), a few kernels a step instead of a few per tensor. The
    same element-wise operations on the same numbers: the results are bit for bit those of ``step``.
    L1 applies to the weights only (:meth:`Optimizer.penalized`): on the flat tensors its sign term
    is multiplied by a 0/1 mask of the weights' places (:func:`weight_mask`), made at the first
    step with L1 of the epoch."""
    params, grads = model.parameters(), model.grads()
    optimizer.check_step(model, grads)
    packed = model.flat = pack(params, grads, model.flat)
    states = optimizer.states(params)
    flat = None if packed is None else _flat_states(optimizer, packed, states)
    if flat is not None:
        params, grads, states = [packed.flat_params], [packed.flat_grads], flat
    weights = None  # for L1; None: the optimizer tells weights from biases itself, on the model's tensors
    largest, dtype, update = torch.finfo(model.dtype).max, model.dtype, optimizer.update

    def step():
        nonlocal weights
        eta = optimizer.eta * optimizer.eta_scale  # read at every step, as plain SGD's
        if eta > largest:
            checks.eta_fits(eta, dtype, type(optimizer).__name__)
        optimizer.step_count += 1
        if not optimizer.l1:  # without L1, update is called as a user's optimizer may define it
            update(params, grads, states, eta)
            return
        if flat is not None and weights is None:  # the flat tensors hold weights and biases
            weights = [weight_mask(packed, optimizer.penalized(list(packed.params)))]
        update(params, grads, states, eta, weights)

    return step, packed


def _flat_states(optimizer, packed: Packed, states: list[list[torch.Tensor]]) -> list[list[torch.Tensor]] | None:
    """One flat tensor per state list, laid out like ``packed.flat_params``; kept in the optimizer's
    ``flat_state`` while its tensors still live there (a reset or a loaded state makes new ones, which
    are packed again)."""
    kept = optimizer.flat_state
    if kept is not None and kept[0] is packed and len(kept[1]) == len(states) and all(
            all(t.untyped_storage().data_ptr() == f.untyped_storage().data_ptr() for t in ts)
            for ts, f in zip(states, kept[1], strict=True)):
        return [[f] for f in kept[1]]
    flats = [pack_like(packed, ts) for ts in states]
    if any(f is None for f in flats):
        return None
    optimizer.flat_state = (packed, flats)
    return [[f] for f in flats]


def pack_like(packed: Packed, tensors: list[torch.Tensor]) -> torch.Tensor | None:
    """Move ``tensors`` (one per packed parameter, laid out like it) into one flat tensor laid out
    like ``packed.flat_params``, as :func:`pack` does; ``None`` (moving nothing) if one differs."""
    flat_params = packed.flat_params
    if len(tensors) != len(packed.params) or any(
            t.shape != p.shape or t.stride() != p.stride() or t.dtype != p.dtype or t.device != p.device
            or not _owns_dense(t) for t, p in zip(tensors, packed.params, strict=True)):
        return None
    flat = torch.empty_like(flat_params)
    with torch.no_grad():
        for t, p in zip(tensors, packed.params, strict=True):
            offset = p.storage_offset() - flat_params.storage_offset()
            flat.as_strided(t.shape, t.stride(), offset).copy_(t)
            t.set_(flat.untyped_storage(), offset, t.shape, t.stride())
    return flat


def weight_mask(packed: Packed, selected: list[bool]) -> torch.Tensor:
    """A flat tensor laid out like ``packed.flat_params``: 1 where a parameter of ``selected`` lies, else 0."""
    flat_params = packed.flat_params
    mask = torch.zeros_like(flat_params)
    for p, chosen in zip(packed.params, selected, strict=True):
        if chosen:  # a packed tensor fills p.numel() places from its offset (pack keeps only dense ones)
            offset = p.storage_offset() - flat_params.storage_offset()
            mask[offset:offset + p.numel()] = 1
    return mask


def nonfinite_parameters(model, packed: Packed | None) -> torch.Tensor:
    """A 0-d tensor: 0 when every parameter is finite, else NaN (read it with the epoch's loss).
    ``packed``: the flat parameters as :func:`sgd_step` returned them this epoch, or ``None``.
    It is the dot product of the parameters with zeros: 0 p is 0 for a finite p and NaN for an
    infinite or NaN one, so one product checks them all (isfinite costs several kernels)."""
    if packed is not None:
        flat = packed.flat_params
        return torch.dot(flat, torch.zeros_like(flat))
    return sum(torch.dot(p.reshape(-1), torch.zeros(p.numel(), dtype=p.dtype, device=p.device))
               for p in model.parameters())


# -- threads and autograd ------------------------------------------------------------------------------
SMALL_PRODUCT = 1 << 20  # multiply-adds


def threads_for(model, batch_size: int) -> int:
    """The intra-op thread count ``fit`` trains ``model`` with: one thread when every matrix
    product of a step has fewer than ``SMALL_PRODUCT`` multiply-adds, else the caller's count
    (``torch.get_num_threads()``); never more than the caller's. A small product is over before
    a second thread has done its share; from about a million multiply-adds two threads win."""
    caller = torch.get_num_threads()
    if model.device.type != "cpu":
        return caller
    largest = max((batch_size * p.numel() for p in model.parameters() if p.dim() == 2), default=0)
    return 1 if largest < SMALL_PRODUCT else caller


@contextmanager
def intra_op_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch intra-op threads, then restore the caller's count."""
    before = torch.get_num_threads()
    if count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def training_mode(threads: int) -> Iterator[None]:
    """Inference mode and ``threads`` intra-op threads for a run of batches. Never held across
    a ``yield`` of ``fit``: a generator that yields inside a context leaves it in force in the
    caller's code."""
    with torch.inference_mode(), intra_op_threads(threads):
        yield
