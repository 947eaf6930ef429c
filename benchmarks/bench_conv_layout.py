"""Training step of the convolutional network: channels-last, contiguous and compiled.

Builds skae's default convolutional autoencoder network for 28 x 28 images
(:class:`skae._nn.ConvEncoder` and :class:`skae._nn.ConvDecoder`, channels
(16, 32), 3 x 3 kernels, max-pooling down, nearest upsampling and a
convolution up, as ``ConvolutionalAutoencoder`` builds it) three times: as
skae builds it (kernels stored channels-last), converted back to contiguous
(channels-first) kernels, the layout PyTorch uses by default, and as skae
builds it wrapped in ``torch.compile`` (inductor's default mode; needs a C++
compiler; ``--no-compile`` leaves it out). All train with Adam and binary
cross-entropy on the same random batches of 128 images, alternating over
``--repeats`` rounds after a warm-up round (which also compiles); prints
seconds per MNIST-sized epoch (60 000 images) and the speed-up over the
contiguous layout. About two minutes. Run from the repository root::

    python benchmarks/bench_conv_layout.py --threads 2
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from skae._nn import ConvDecoder, ConvEncoder

EPOCH = 60_000


def network(channels_last):
    module = nn.Sequential(
        ConvEncoder((28, 28), 1, (16, 32), 3, 32, "relu"),
        ConvDecoder(32, (28, 28), 1, (16, 32), 3, "relu", "nearest"),
    )
    if not channels_last:
        module = module.to(memory_format=torch.contiguous_format)
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=4096, help="images per round")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds per layout")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--no-compile", dest="compile", action="store_false", help="leave torch.compile out"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    X = torch.rand(args.rows, 784)

    layouts = {"contiguous (PyTorch default)": False, "channels-last (skae)": True}
    nets = {name: network(cl) for name, cl in layouts.items()}
    opts = {name: torch.optim.Adam(net.parameters(), 1e-3) for name, net in nets.items()}
    if args.compile:
        name = "channels-last, torch.compile"
        layouts[name] = True
        nets[name] = network(True)
        opts[name] = torch.optim.Adam(nets[name].parameters(), 1e-3)
        nets[name] = torch.compile(nets[name])
    seconds = dict.fromkeys(layouts, 0.0)
    for round_ in range(args.repeats + 1):
        order = list(layouts)[round_ % len(layouts) :] + list(layouts)[: round_ % len(layouts)]
        for name in order:
            net, opt = nets[name], opts[name]
            start = time.perf_counter()
            for i in range(0, args.rows, args.batch_size):
                xb = X[i : i + args.batch_size]
                loss = nn.functional.binary_cross_entropy_with_logits(net(xb), xb)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if round_:  # round 0 warms up
                seconds[name] += time.perf_counter() - start

    print(f"torch threads {torch.get_num_threads()}, batch size {args.batch_size}")
    base = seconds["contiguous (PyTorch default)"]
    for name, total in seconds.items():
        per_epoch = total / args.repeats / args.rows * EPOCH
        print(f"{name:<30} {per_epoch:7.1f} s per 60 000 images   {base / total:5.2f}x")


if __name__ == "__main__":
    main()
