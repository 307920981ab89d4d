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
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "torch_standin"))

import numpy as np  # noqa: E402

neuroglow_binary, repo, scratch = sys.argv[1:4]
TOLERANCE = 1e-5
failures = []

# Texts with unknown words, capitals and punctuation, one longer than any window.
TEXTS = [
    "A wonderful, moving film.",
    "the worst phone I have ever owned!!!",
    "Zyxxqv blorptastic; utterly UNBELIEVABLE",
    "not bad",
    "I loved it " * 30,
    "To be, or not to be: that is the question.",
]


def neuroglow(*args):
    return subprocess.run([neuroglow_binary, *args], check=True, capture_output=True, text=True).stdout


def check(what, ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64).ravel(), np.asarray(theirs, dtype=np.float64).ravel()
    if ours.shape != theirs.shape:
        print(f"  {what}: {ours.size} values against {theirs.size} (MISMATCH)")
        failures.append(what)
        return
    difference = float(np.max(np.abs(ours - theirs)))
    verdict = "ok" if difference <= TOLERANCE else f"MORE THAN {TOLERANCE:.0e}"
    print(f"  {what}: {ours.size} values, largest difference {difference:.2e} ({verdict})")
    if difference > TOLERANCE:
        failures.append(what)


def load_module(directory, name):
    spec = importlib.util.spec_from_file_location(f"exported_{name.replace('-', '_')}", os.path.join(directory, "model.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def token_rows(length, vocabulary, rng):
    """Texts of every length padded in front, one padded behind, one all padding, unknown (id 1) words."""
    rows = []
    for r in range(22):
        used = max(1, round(r / 21 * length))
        ids = list(rng.integers(1, vocabulary, used))
        if r % 3 == 0:
            ids[rng.integers(0, used)] = 1
        rows.append([0] * (length - used) + ids)
    rows.append((rows[11][-5:] + [0] * length)[:length])
    rows.append([0] * length)
    return np.array(rows, dtype=np.int64)


shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)
index = json.load(open(os.path.join(repo, "web/models/index.json")))
print("Shipped models: exported for PyTorch, run by model.py on the NumPy stand-in for torch")
for entry in index["models"]:
    name = entry["name"]
    model_dir = os.path.join(repo, "web/models", name)
    spec = json.load(open(os.path.join(model_dir, "model.json")))
    out = os.path.join(scratch, name)
    neuroglow("export", model_dir, "--format", "pytorch", "--out", out)
    exported = load_module(out, name)
    model = exported.load()
    rng = np.random.default_rng(len(name))
    first = spec["layers"][0]
    if first["type"] == "embedding":
        x = token_rows(spec["input_shape"][0], first["input_dim"], rng)
    else:
        x = rng.uniform(-2, 2, (24, spec["input_shape"][0]))
    csv = os.path.join(scratch, f"{name}-inputs.csv")
    np.savetxt(csv, x, delimiter=",", fmt="%d" if x.dtype == np.int64 else "%.9g")
    ours = json.loads(neuroglow("predict", model_dir, csv, "--encoded", "--json"))
    check(f"{name} ({len(x)} encoded inputs)", ours, model(x))

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
    ours = json.loads(neuroglow("predict", model_dir, raw, "--json"))
    check(f"{name} ({len(inputs)} raw inputs, preprocessed by model.py)", ours, exported.predict(model, inputs))

if failures:
    print(f"PyTorch's semantics disagree with Neuroglow on: {'; '.join(failures)}")
    sys.exit(1)
print("model.py computes what Neuroglow computes on every check.")
