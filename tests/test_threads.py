"""torch's threads chosen by skae from the work, within what the caller allows."""

import os

import joblib
import pytest
import torch
from joblib import Parallel, delayed
from threadpoolctl import threadpool_info, threadpool_limits
from torch import nn

from skae import _threads
from skae._threads import (
    WORK_PER_THREAD,
    caller_threads,
    choose_threads,
    row_macs,
    torch_threads,
)


@pytest.fixture(autouse=True)
def _caller_setting(monkeypatch):
    """Each test starts from torch's thread count of the session, without the
    session's OMP_NUM_THREADS / MKL_NUM_THREADS, and gets it back."""
    saved = torch.get_num_threads()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    yield
    torch.set_num_threads(saved)


def _machine(monkeypatch, cpus):
    """A machine of ``cpus`` cores on which torch runs with its default, one
    thread a core, as nothing set it."""
    monkeypatch.setattr(_threads, "_available_cpus", lambda: cpus)
    monkeypatch.setattr(_threads, "_torch_default_threads", lambda: cpus)
    torch.set_num_threads(cpus)


def _dense(n_features=64, hidden=256):
    return nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_features))


SMALL = _dense()  # 2 * 64 * 256 multiply-adds a row
BIG = _dense(2048, 4096)  # 16.8 million multiply-adds a row


def test_choose_threads_gives_each_thread_enough_work():
    assert choose_threads(0, limit=8) == 1
    assert choose_threads(1.99 * WORK_PER_THREAD, limit=8) == 1
    assert choose_threads(2 * WORK_PER_THREAD, limit=8) == 2
    assert choose_threads(5.5 * WORK_PER_THREAD, limit=8) == 5
    assert choose_threads(1e15, limit=8) == 8
    assert choose_threads(1e15, limit=1) == 1


def test_row_macs_counts_linear_and_convolution_layers():
    assert row_macs(SMALL, torch.zeros(64)) == 2 * 64 * 256
    conv = nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, 4, 3, padding=1),  # 8 x 8 outputs x 4 channels x 9 taps
        nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2),  # 4 x 4 x 6 x 2 x 9
        nn.ConvTranspose2d(6, 2, 2, stride=2),  # 4 x 4 inputs x 6 x 2 x 4
        nn.Flatten(),
    )
    assert row_macs(conv, torch.zeros(1, 64)) == 8 * 8 * 4 * 9 + 4 * 4 * 6 * 2 * 9 + 16 * 6 * 2 * 4


def test_row_macs_of_a_method_and_a_functional_network():
    class Codec(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.decoder = nn.Linear(10, 3), nn.Linear(3, 10)

        def encode(self, x):
            return self.encoder(x)

        def forward(self, x):
            return self.decoder(self.encode(x))

    codec = Codec()
    assert row_macs(codec.encode, torch.zeros(10)) == 30
    assert row_macs(codec, torch.zeros(10)) == 60

    class Functional(nn.Module):  # no layer to hook: its parameter count
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.zeros(5, 7))

        def forward(self, x):
            return nn.functional.linear(x, self.weight)

    assert row_macs(Functional(), torch.zeros(7)) == 35


def test_row_macs_leaves_the_network_as_it_was():
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 4))
    net.train()
    net[2].eval()
    stats = net[1].running_mean.clone()
    assert row_macs(net, torch.ones(4)) == 64  # one row: BatchNorm would refuse it in training
    assert net.training and net[1].training and not net[2].training
    assert torch.equal(net[1].running_mean, stats) and int(net[1].num_batches_tracked) == 0


def test_small_work_runs_on_one_thread_and_the_setting_comes_back(monkeypatch):
    _machine(monkeypatch, 4)
    X = torch.zeros(1000, 64)
    with torch_threads(SMALL, X, 128, training=True) as n_threads:
        assert n_threads == torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4
    with pytest.raises(RuntimeError, match="inside"):
        with torch_threads(SMALL, X, 128):
            raise RuntimeError("inside")
    assert torch.get_num_threads() == 4


def test_large_work_gets_the_threads_the_caller_allows(monkeypatch):
    _machine(monkeypatch, 4)
    X = torch.zeros(512, 2048)
    with torch_threads(BIG, X, 128, training=True) as n_threads:
        assert n_threads == torch.get_num_threads() == 4
    # Fewer rows a step, less work: 2 * 16.8e6 * 10 / 1.5e8 = 2 threads for inference.
    with torch_threads(BIG, X, 10) as n_threads:
        assert n_threads == int(2 * row_macs(BIG, X[0]) * 10 // WORK_PER_THREAD) == 2
    # batch_size -1: the whole data set a step; 2 rows: 6.7e7 operations, 1 thread.
    with torch_threads(BIG, X[:20], -1) as n_threads:
        assert n_threads == 4
    with torch_threads(BIG, X[:2], -1) as n_threads:
        assert n_threads == 1
    assert torch.get_num_threads() == 4


def test_the_cpus_of_the_process_cap_the_threads(monkeypatch):
    _machine(monkeypatch, 8)
    monkeypatch.setattr(_threads, "_available_cpus", lambda: 3)  # an affinity mask
    with torch_threads(BIG, torch.zeros(512, 2048), 128, training=True) as n_threads:
        assert n_threads == 3
    assert torch.get_num_threads() == 8


def test_an_explicit_torch_setting_is_kept(monkeypatch):
    _machine(monkeypatch, 4)
    torch.set_num_threads(3)  # not torch's default of 4: the caller's choice
    assert caller_threads() == (3, True)
    with torch_threads(SMALL, torch.zeros(100, 64), 128) as n_threads:
        assert n_threads == torch.get_num_threads() == 3
    with torch_threads(BIG, torch.zeros(512, 2048), 128) as n_threads:
        assert n_threads == 3
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("name", ["OMP_NUM_THREADS", "MKL_NUM_THREADS"])
def test_the_environment_caps_the_threads(monkeypatch, name):
    _machine(monkeypatch, 4)
    monkeypatch.setenv(name, "2")
    assert caller_threads() == (2, False)
    with torch_threads(BIG, torch.zeros(512, 2048), 128, training=True) as n_threads:
        assert n_threads == 2
    with torch_threads(SMALL, torch.zeros(100, 64), 128, training=True) as n_threads:
        assert n_threads == 1
    assert torch.get_num_threads() == 4
    # torch started under OMP_NUM_THREADS=2: its count is the environment's, not a choice.
    torch.set_num_threads(2)
    assert caller_threads() == (2, False)
    with torch_threads(SMALL, torch.zeros(100, 64), 128, training=True) as n_threads:
        assert n_threads == 1
    assert torch.get_num_threads() == 2


@pytest.mark.skipif(
    not any(pool["user_api"] == "openmp" for pool in threadpool_info()),
    reason="torch computes without OpenMP here: threadpoolctl does not reach it",
)
def test_threadpoolctl_limits_are_kept(monkeypatch):
    _machine(monkeypatch, 2)
    with threadpool_limits(limits=1, user_api="openmp"):
        assert torch.get_num_threads() == 1  # torch's OpenMP runtime took the limit
        with torch_threads(BIG, torch.zeros(512, 2048), 128, training=True) as n_threads:
            assert n_threads == torch.get_num_threads() == 1
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 2


def test_nested_blocks_decide_from_the_callers_setting(monkeypatch):
    _machine(monkeypatch, 4)
    with torch_threads(SMALL, torch.zeros(100, 64), 128, training=True) as outer:
        assert outer == 1
        # The inner block sees the caller's 4 threads, not the outer block's 1.
        with torch_threads(BIG, torch.zeros(512, 2048), 128, training=True) as inner:
            assert inner == torch.get_num_threads() == 4
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 4 and caller_threads() == (4, False)


def test_other_devices_and_empty_data_leave_torch_alone(monkeypatch):
    _machine(monkeypatch, 4)

    def never(x):
        raise AssertionError("no pass to count the work off the CPU")

    with torch_threads(never, torch.zeros(10, 3), 128, device="cuda") as n_threads:
        assert n_threads == torch.get_num_threads() == 4
    with torch_threads(never, torch.zeros(0, 3), 128) as n_threads:
        assert n_threads == 4
    with torch_threads(SMALL, torch.zeros(100, 64), 128, device=None) as n_threads:
        assert n_threads == 1


def test_datasets_of_row_pairs_are_read():
    class Pairs(torch.utils.data.Dataset):  # as skae's TensorData: (row, row) items
        def __len__(self):
            return 100

        def __getitem__(self, i):
            return torch.zeros(64), torch.zeros(64)

    with torch_threads(SMALL, Pairs(), 128, training=True) as n_threads:
        assert n_threads == 1


def _in_a_worker():
    with torch_threads(BIG, torch.zeros(512, 2048), 128, training=True) as n_threads:
        return n_threads, os.environ.get("OMP_NUM_THREADS")


def test_joblib_workers_stay_within_their_share():
    # joblib's process workers get OMP_NUM_THREADS = CPUs // n_jobs.
    results = Parallel(n_jobs=2, backend="loky")(delayed(_in_a_worker)() for _ in range(2))
    share = max(joblib.cpu_count() // 2, 1)
    for n_threads, env in results:
        assert env == str(share) and n_threads <= share
