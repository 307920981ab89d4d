"""safetensors.torch.load_file, over NumPy (see ../README.md)."""

from safetensors_file import read_safetensors


def load_file(path):
    return dict(read_safetensors(path))
