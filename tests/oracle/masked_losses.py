"""Keras 3 (JAX, CPU) as the oracle for sequence losses with padding: the
loss, accuracy and one SGD step of a character model whose text has
characters outside its vocabulary (id 0, the padding id, so masked), and the
shipped `shakespeare-char` model's held-out loss, next to Neuroglow's.

Usage: masked_losses.py NEUROGLOW_BINARY SCRATCH_DIR   (run by `cargo xtask test`)
"""

import json
import os
import shutil
import sys

import numpy as np

from neuroglow_files import char_windows, keras_model, keras_weights, neuroglow, read_safetensors, write_safetensors

failures = []


def check(what, ours, theirs, tolerance):
    difference = float(np.max(np.abs(np.asarray(ours, dtype=np.float64) - np.asarray(theirs, dtype=np.float64))))
    verdict = "ok" if difference <= tolerance else f"MORE THAN {tolerance:.0e}"
    print(f"  {what}: largest difference {difference:.2e} ({verdict})")
    if difference > tolerance:
        failures.append(what)


def write_small_char_model(model_dir, text_file):
    """A character tagger with random weights, and a text in which about a
    quarter of the characters are outside its vocabulary."""
    chars, maxlen, units = list("abcdefgh"), 8, 6
    vocab = len(chars) + 1
    spec = {
        "name": "oracle-chars",
        "input_shape": [maxlen],
        "seed": 1,
        "loss": "sparse_categorical_crossentropy",
        "optimizer": {"type": "sgd", "learning_rate": 0.5},
        "layers": [
            {"name": "embedding", "type": "embedding", "input_dim": vocab, "output_dim": 4, "mask_zero": True},
            {"name": "lstm", "type": "lstm", "units": units, "return_sequences": True},
            {"name": "dense", "type": "dense", "units": vocab, "activation": "softmax"},
        ],
        "text_encoder": {"type": "chars", "vocab": {"chars": chars}, "maxlen": maxlen},
    }
    rng = np.random.default_rng(5)
    shapes = {
        "embedding/embeddings": (vocab, 4),
        "lstm/kernel": (4, 4 * units),
        "lstm/recurrent_kernel": (units, 4 * units),
        "lstm/bias": (4 * units,),
        "dense/kernel": (units, vocab),
        "dense/bias": (vocab,),
    }
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(spec, f)
    write_safetensors(
        os.path.join(model_dir, "model.safetensors"),
        {name: rng.normal(0.0, 0.6, shape).astype("float32") for name, shape in shapes.items()},
    )
    alphabet = chars + list("xyz")
    text = "".join(rng.choice(alphabet, 12 * maxlen + 1))
    with open(text_file, "w") as f:
        f.write(text)
    return text, chars, maxlen


def small_model(binary, scratch):
    print("A character tagger, text with unknown (masked) characters:")
    model_dir, text_file = os.path.join(scratch, "chars"), os.path.join(scratch, "chars.txt")
    text, chars, maxlen = write_small_char_model(model_dir, text_file)
    x, y = char_windows(text, chars, maxlen)
    padding = float(np.mean(x == 0))
    assert 0.1 < padding < 0.5, f"{padding:.0%} of the steps are padding"
    model, spec = keras_model(model_dir)
    # Batches of 5: 5, 5 and 2 windows, each with its own share of padding.
    ours = json.loads(neuroglow(binary, "evaluate", model_dir, text_file, "--batch-size", "5", "--json"))
    theirs = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    check("loss (batch-weighted mean of masked batch means)", ours["loss"], theirs["loss"], 1e-5)
    check("accuracy (over unmasked steps)", ours["accuracy"], theirs["accuracy"], 1e-6)
    # One SGD step on every window at once.
    trained_dir = os.path.join(scratch, "chars-trained")
    neuroglow(binary, "train", model_dir, text_file, "--epochs", "1", "--batch-size", str(len(x)), "--out", trained_dir)
    model.train_on_batch(x, y)
    ours = read_safetensors(os.path.join(trained_dir, "model.safetensors"))
    for name, value in keras_weights(model, spec).items():
        check(f"{name} after one step", ours[name], value, 1e-5)


def shipped_model(binary, repo):
    print("The shipped shakespeare-char model on its held-out text:")
    model_dir = os.path.join(repo, "web/models/shakespeare-char")
    model, spec = keras_model(model_dir)
    encoder = spec["text_encoder"]
    with open(os.path.join(model_dir, "valid.txt")) as f:
        x, y = char_windows(f.read(), encoder["vocab"]["chars"], encoder["maxlen"])
    print(f"  {np.sum(x == 0)} of {x.size} steps are characters outside the vocabulary (masked)")
    ours = json.loads(neuroglow(binary, "evaluate", model_dir, os.path.join(model_dir, "valid.txt"), "--json"))
    theirs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    check("loss", ours["loss"], theirs["loss"], 1e-4)
    check("accuracy", ours["accuracy"], theirs["accuracy"], 1e-4)
    card = spec["metadata"]["card"]
    check("the card's test loss (4 decimals)", card["test_loss"], theirs["loss"], 6e-5)
    check("the card's bits per character (4 decimals)", card["test_bits_per_char"], theirs["loss"] / np.log(2), 6e-5)


def main():
    binary, scratch = sys.argv[1], sys.argv[2]
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    small_model(binary, scratch)
    shipped_model(binary, repo)
    if failures:
        sys.exit(f"Neuroglow and Keras disagree: {', '.join(failures)}")
    print("Neuroglow agrees with Keras.")


if __name__ == "__main__":
    main()
