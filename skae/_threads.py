"""How many threads torch computes with, chosen from the work of a fit or an inference.

torch starts with one intra-op thread per physical core. The networks skae
trains are small: a step of the default dense autoencoder on scikit-learn's
digits (64 features, hidden layers of 256 and 128 units, batches of 128 rows)
is about 80 million floating-point operations, 2 ms on one core, and
splitting each of its matrix products between threads costs more in
synchronisation than it saves (the step runs 1.4 times slower on two
threads). Where other processes share the cores (a
``GridSearchCV(n_jobs=...)``, a busy server) every step waits for the
slowest thread and a fit can be many times slower than on one thread.
:func:`torch_threads` sets torch's thread count for the block it wraps from
the work of one step, within what the caller allows, and sets it back after.

This module imports nothing from skae.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from contextlib import contextmanager

import torch
from torch import nn

#: Floating-point operations of one step (a training batch's forward and
#: backward pass, or one inference batch) that each thread must have: below
#: twice this, torch computes on one thread; above, on one thread per this
#: many operations, at most what the caller allows. Measured by
#: ``benchmarks/bench_threads.py --calibrate`` (its figures: the benchmarks
#: page): small steps run faster on one thread, large ones on two.
WORK_PER_THREAD = 1.5e8

# Environment variables that cap the threads of OpenMP and MKL, read by torch
# when it starts and set by joblib in the workers of its process-based
# backends (to the cores divided by n_jobs).
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")

# The thread count of the outermost torch_threads block of each Python thread
# and whether the caller had set it: a nested block decides from the caller's
# setting, not from the one the outer block made.
_state = threading.local()

# Forward multiply-adds of one row, by module, then by (method, row shape).
_macs_cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _env_threads():
    """The smallest positive ``OMP_NUM_THREADS`` / ``MKL_NUM_THREADS`` set in the
    environment, or None."""
    values = []
    for name in _THREAD_ENV:
        try:
            value = int(os.environ.get(name, "").strip().split(",")[0])
        except ValueError:
            continue
        if value > 0:
            values.append(value)
    return min(values, default=None)


def _available_cpus():
    """CPUs this process may run on (its affinity mask), else the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _torch_default_threads():
    """torch's own intra-op default without an environment variable: one
    thread per physical core. torch gives its inter-op pool the same default
    and never changes it from the environment, so that count is read from it."""
    try:
        return torch.get_num_interop_threads()
    except RuntimeError:  # pragma: no cover - a build without the inter-op pool
        return os.cpu_count() or 1


def caller_threads():
    """The thread limit the caller set for torch, and whether it was set explicitly.

    Returns
    -------
    limit : int
        The most intra-op threads torch may use: torch's thread count now
        (which reflects ``torch.set_num_threads``, ``OMP_NUM_THREADS`` or
        ``MKL_NUM_THREADS`` at torch's start, and threadpoolctl's
        ``threadpool_limits`` on OpenMP), capped by ``OMP_NUM_THREADS`` /
        ``MKL_NUM_THREADS`` as set now (joblib sets them in its process-based
        workers) and by the CPUs this process may run on.
    explicit : bool
        Whether torch's thread count differs from both its default (one
        thread per physical core) and the environment's: the caller chose
        it, by ``torch.set_num_threads`` or ``threadpool_limits``. A count
        equal to the default cannot be told from it.
    """
    outer = getattr(_state, "outer", None)
    if outer is not None:
        return outer
    current = torch.get_num_threads()
    env = _env_threads()
    explicit = current != _torch_default_threads() and current != env
    limit = min(current, _available_cpus(), env or current)
    return max(limit, 1), explicit


def choose_threads(work, limit):
    """Intra-op threads for a step of ``work`` floating-point operations.

    Parameters
    ----------
    work : float
        Floating-point operations of one step: a training batch's forward and
        backward pass, or an inference batch's forward pass.
    limit : int
        The most threads allowed (see :func:`caller_threads`).

    Returns
    -------
    n_threads : int
        One thread per :data:`WORK_PER_THREAD` operations (rounded down), at
        least one and at most ``limit``.

    Examples
    --------
    >>> from skae._threads import choose_threads
    >>> choose_threads(8e7, limit=8)  # the default dense autoencoder on digits
    1
    >>> choose_threads(1e12, limit=8)
    8
    """
    return max(1, min(int(limit), int(work // WORK_PER_THREAD)))


_LINEAR = (nn.Linear, nn.Bilinear)
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_TRANSPOSE = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def _layer_macs(layer, inputs, output):
    """Multiply-adds of one call of a linear or convolution layer."""
    if isinstance(layer, nn.Linear):
        return output.numel() * layer.in_features
    if isinstance(layer, nn.Bilinear):
        return output.numel() * layer.in1_features * layer.in2_features
    kernel = math.prod(layer.kernel_size)
    if isinstance(layer, _CONV):
        return output.numel() * kernel * layer.in_channels // layer.groups
    return inputs[0].numel() * kernel * layer.out_channels // layer.groups


def row_macs(fn, row):
    """Multiply-adds of ``fn`` on one row: its linear and convolution layers.

    Counted by hooks on those layers during one forward pass of ``row``,
    without gradients, with every module in evaluation mode (set back
    after), so that nothing the module holds changes. Cached by module,
    method and row shape.

    Parameters
    ----------
    fn : torch.nn.Module or bound method of one
        E.g. the network, or its ``encode``.
    row : torch.Tensor
        One input row, shape ``(n_features,)`` or ``(1, n_features)``.

    Returns
    -------
    macs : int
        The multiply-adds of the layers the pass went through; the
        network's parameter count where none was found (a network that
        calls ``torch.nn.functional`` directly) or the pass failed.
    """
    module = fn if isinstance(fn, nn.Module) else getattr(fn, "__self__", None)
    if not isinstance(module, nn.Module):
        return 0
    x = row.reshape(1, -1)
    key = (getattr(fn, "__name__", "forward"), tuple(x.shape))
    cached = _macs_cache.setdefault(module, {})
    if key in cached:
        return cached[key]
    counted = []
    hooks = [
        layer.register_forward_hook(lambda m, i, o: counted.append(_layer_macs(m, i, o)))
        for layer in module.modules()
        if isinstance(layer, _LINEAR + _CONV + _CONV_TRANSPOSE)
    ]
    modes = [(m, m.training) for m in module.modules()]
    try:
        module.eval()
        with torch.no_grad():
            fn(x)
    except Exception:  # noqa: BLE001 - any failure: fall back on the parameter count
        counted = []
    finally:
        for hook in hooks:
            hook.remove()
        for m, training in modes:
            m.training = training
    macs = sum(counted) or sum(p.numel() for p in module.parameters())
    cached[key] = macs
    return macs


def _first_row(data):
    """One row of a tensor, or of a data set whose items are rows or
    ``(row, target)`` pairs; None for no rows."""
    if len(data) == 0:
        return None
    row = data[0]
    if isinstance(row, (tuple, list)):
        row = row[0]
    return torch.as_tensor(row)


@contextmanager
def torch_threads(fn, data, batch_size, *, training=False, device="cpu"):
    """Run the block with torch's intra-op threads chosen for the work.

    The thread count is one per :data:`WORK_PER_THREAD` floating-point
    operations a step (:func:`choose_threads`), within what the caller
    allows (:func:`caller_threads`); a count the caller set
    explicitly (``torch.set_num_threads``, threadpoolctl) is kept as it is.
    torch's thread count is set back to the caller's when the block ends,
    also on an error. A nested block keeps the outer block's decision about
    the caller's limit.

    Parameters
    ----------
    fn : torch.nn.Module or bound method of one
        What each step computes: the network (training) or, e.g., its
        ``encode`` (inference).
    data : torch.Tensor or dataset
        The rows: a tensor ``(n_samples, n_features)``, or a data set whose
        items are rows or ``(row, target)`` pairs. Its first row is passed
        once through ``fn`` to count the work (:func:`row_macs`).
    batch_size : int
        Rows a step; -1 or None: all of ``data`` at once.
    training : bool, default=False
        A training step: forward and backward pass, three times the forward
        pass's work.
    device : str or torch.device or None, default="cpu"
        Where ``fn`` computes; threads are chosen on the CPU only (None is
        the CPU), elsewhere the block runs with torch's setting unchanged.

    Yields
    ------
    n_threads : int
        torch's intra-op thread count inside the block.

    Examples
    --------
    >>> import torch
    >>> from skae._threads import torch_threads
    >>> net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.Linear(256, 64))
    >>> before = torch.get_num_threads()
    >>> with torch_threads(net, torch.zeros(1000, 64), 128, training=True) as n:
    ...     print(n)
    1
    >>> torch.get_num_threads() == before
    True
    """
    saved = torch.get_num_threads()
    if torch.device("cpu" if device is None else device).type != "cpu":
        yield saved
        return
    outer = getattr(_state, "outer", None)
    limit, explicit = caller_threads()
    row = None if explicit else _first_row(data)
    if row is None:
        n_threads = saved
    else:
        rows = len(data) if batch_size in (None, -1) else min(int(batch_size), len(data))
        work = 2.0 * row_macs(fn, row) * rows * (3 if training else 1)
        n_threads = choose_threads(work, limit)
    _state.outer = (limit, explicit) if outer is None else outer
    try:
        if n_threads != saved:
            torch.set_num_threads(n_threads)
        yield n_threads
    finally:
        if torch.get_num_threads() != saved:
            torch.set_num_threads(saved)
        _state.outer = outer
