"""Builds the PyTorch artifacts `modelpack init` is tested on: the state dict of a small network
(Linear 4->8, ReLU, Linear 8->3, seeded) saved by torch.save, and a checkpoint that wraps it
({"epoch": ..., "state_dict": ...}), as training loops save them. torch.save writes a random
serialization id into each file, so a re-run gives other bytes with the same tensors.

    python3 make_torch.py     # needs torch
"""
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent


def main() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    torch.save(net.state_dict(), HERE / "torch_state_dict.pt")
    torch.save({"epoch": 3, "state_dict": net.state_dict()}, HERE / "torch_checkpoint.pt")
    for name, tensor in net.state_dict().items():
        print(name, tuple(tensor.shape), tensor.dtype)


if __name__ == "__main__":
    main()
