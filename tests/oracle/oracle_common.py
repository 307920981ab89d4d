"""What the export oracles share: the inputs they feed a model and
Neuroglow alike, running the `neuroglow` command, and comparing outputs."""

import json
import os
import subprocess

import numpy as np

TOLERANCE = 1e-5

# Texts with unknown words, capitals and punctuation, one longer than any window.
TEXTS = [
    "A wonderful, moving film.",
    "the worst phone I have ever owned!!!",
    "Zyxxqv blorptastic; utterly UNBELIEVABLE",
    "not bad",
    "I loved it " * 30,
    "To be, or not to be: that is the question.",
]


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


def feature_rows(width, rng, count=24):
    """Rows of features around the normalized scale."""
    return rng.uniform(-2, 2, (count, width))


def neuroglow(binary, *args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout


class Report:
    """Prints each comparison and remembers the ones that failed."""

    def __init__(self):
        self.failures = []

    def check(self, what, ours, theirs, tolerance=TOLERANCE):
        ours, theirs = np.asarray(ours, dtype=np.float64).ravel(), np.asarray(theirs, dtype=np.float64).ravel()
        if ours.shape != theirs.shape:
            print(f"  {what}: {ours.size} values against {theirs.size} (MISMATCH)")
            self.failures.append(what)
            return
        difference = float(np.max(np.abs(ours - theirs)))
        verdict = "ok" if difference <= tolerance else f"MORE THAN {tolerance:.0e}"
        print(f"  {what}: {ours.size} values, largest difference {difference:.2e} ({verdict})")
        if difference > tolerance:
            self.failures.append(what)

    def fail(self, what):
        print(f"  {what} (MISMATCH)")
        self.failures.append(what)

    def finish(self, oracle, agreement):
        if self.failures:
            print(f"{oracle} disagrees with Neuroglow on: {'; '.join(self.failures)}")
            raise SystemExit(1)
        print(agreement)


def shipped_models(repo):
    """(name, directory, model.json) of every shipped model."""
    index = json.load(open(os.path.join(repo, "web/models/index.json")))
    for entry in index["models"]:
        model_dir = os.path.join(repo, "web/models", entry["name"])
        yield entry["name"], model_dir, json.load(open(os.path.join(model_dir, "model.json")))


def flat_weights(model):
    """A Keras model's weights, one vector."""
    return np.concatenate([w.ravel() for w in model.get_weights()])
