"""The PyTorch export against PyTorch's documented semantics: for every
shipped model, `neuroglow export --format pytorch` writes state_dict.safetensors,
model.py and preprocessing.json; model.py, run on a NumPy transcription of
the torch API it uses (torch_standin/, since PyTorch's wheel is gigabytes),
must load the state_dict strictly and give Neuroglow's outputs, on encoded
inputs (padded in front and behind, all padding, unknown ids) and from raw
texts or feature rows through its own preprocessing.

Usage: pytorch_export.py NEUROGLOW_BINARY REPO_ROOT SCRATCH_DIR   (run by `cargo xtask test`)
"""

import importlib.util
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "torch_standin"))

import numpy as np  # noqa: E402

from oracle_common import TEXTS, Report, feature_rows, neuroglow, shipped_models, token_rows  # noqa: E402

binary, repo, scratch = sys.argv[1:4]
report = Report()


def load_module(directory, name):
    spec = importlib.util.spec_from_file_location(f"exported_{name.replace('-', '_')}", os.path.join(directory, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)
print("Shipped models: exported for PyTorch, run by model.py on the NumPy stand-in for torch")
for name, model_dir, spec in shipped_models(repo):
    out = os.path.join(scratch, name)
    neuroglow(binary, "export", model_dir, "--format", "pytorch", "--out", out)
    exported = load_module(out, name)
    model = exported.load()
    rng = np.random.default_rng(len(name))
    first = spec["layers"][0]
    if first["type"] == "embedding":
        x = token_rows(spec["input_shape"][0], first["input_dim"], rng)
    else:
        x = feature_rows(spec["input_shape"][0], rng)
    csv = os.path.join(scratch, f"{name}-inputs.csv")
    np.savetxt(csv, x, delimiter=",", fmt="%d" if x.dtype == np.int64 else "%.9g")
    ours = json.loads(neuroglow(binary, "predict", model_dir, csv, "--encoded", "--json"))
    report.check(f"{name} ({len(x)} encoded inputs)", ours, model(x))

    # From raw inputs, through model.py's own preprocessing.
    raw = os.path.join(scratch, f"{name}-raw")
    if "text_encoder" in spec:
        inputs = TEXTS
        with open(raw, "w") as f:
            f.write("\n".join(inputs) + "\n")
    else:
        table = np.loadtxt(os.path.join(model_dir, "test.csv"), delimiter=",", skiprows=1)[:20, :-1]
        inputs = table.tolist()
        np.savetxt(raw, table, delimiter=",", fmt="%.9g")
    ours = json.loads(neuroglow(binary, "predict", model_dir, raw, "--json"))
    report.check(f"{name} ({len(inputs)} raw inputs, preprocessed by model.py)", ours, exported.predict(model, inputs))

report.finish("PyTorch's documented semantics", "model.py computes what Neuroglow computes on every check.")
