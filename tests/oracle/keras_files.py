"""Keras 3 (JAX, CPU) as the oracle for Neuroglow's `.keras` export and import:

- every shipped model, exported by `neuroglow export --format keras`, opens
  with `keras.saving.load_model` unchanged, compiled with the model's loss
  and optimizer, and predicts what Neuroglow predicts (padded and unknown
  inputs included);
- steps of `model.fit` in Keras on the exported model equal the steps
  `neuroglow train` takes (Adam with gradient clipping; SGD with momentum):
  the compile config carries the training settings, and the optimizer's
  state goes both ways, so a step after the other side's steps is the same;
- models built, trained and saved by Keras itself import with
  `neuroglow import` and predict what Keras predicts; a layer Neuroglow
  lacks is refused with its name.

Usage: keras_files.py NEUROGLOW_BINARY REPO_ROOT SCRATCH_DIR   (run by `cargo xtask test`)
"""

import json
import os
import shutil
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from oracle_common import Report, feature_rows, flat_weights, neuroglow, shipped_models, token_rows  # noqa: E402

binary, repo, scratch = sys.argv[1:4]
report = Report()
shutil.rmtree(scratch, ignore_errors=True)
os.makedirs(scratch)


def predict_encoded(model_dir, x, name):
    csv = os.path.join(scratch, f"{name}-inputs.csv")
    np.savetxt(csv, x, delimiter=",", fmt="%d" if x.dtype == np.int64 else "%.9g")
    return json.loads(neuroglow(binary, "predict", model_dir, csv, "--encoded", "--json"))


def inputs_for(spec, rng):
    first = spec["layers"][0]
    if first["type"] == "embedding":
        return token_rows(spec["input_shape"][0], first["input_dim"], rng)
    return feature_rows(spec["input_shape"][0], rng)


print("Shipped models: exported by Neuroglow, opened by keras.saving.load_model")
for name, model_dir, spec in shipped_models(repo):
    out = os.path.join(scratch, name)
    neuroglow(binary, "export", model_dir, "--format", "keras", "--out", out)
    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    x = inputs_for(spec, np.random.default_rng(len(name)))
    report.check(f"{name} ({len(x)} inputs)", predict_encoded(model_dir, x, name), model.predict(x, verbose=0))
    if model.loss != spec["loss"]:
        report.fail(f"{name}: Keras compiled the loss {model.loss!r}, not {spec['loss']!r}")
    optimizer = model.optimizer.get_config()
    ours = spec["optimizer"]
    clip = ours.get("global_clipnorm")
    if abs(optimizer["learning_rate"] - ours["learning_rate"]) > 1e-9 or optimizer["global_clipnorm"] != clip:
        report.fail(f"{name}: Keras compiled {optimizer}, not {ours}")

print("Training steps: Keras's model.fit on the exported model against neuroglow train")
for optimizer in [
    {"type": "adam", "learning_rate": 0.05, "global_clipnorm": 0.5},
    {"type": "sgd", "learning_rate": 0.2, "momentum": 0.9},
]:
    name = f"steps-{optimizer['type']}"
    model_dir = os.path.join(scratch, name)
    os.makedirs(model_dir)
    spec = {
        "name": name,
        "input_shape": [6],
        "seed": 3,
        "loss": "binary_crossentropy",
        "optimizer": optimizer,
        "layers": [
            {"type": "embedding", "input_dim": 9, "output_dim": 4, "mask_zero": True},
            {"type": "lstm", "units": 5},
            {"type": "dense", "units": 1, "activation": "sigmoid", "kernel_regularizer": {"l2": 0.01}},
        ],
    }
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump(spec, f)
    rng = np.random.default_rng(11)
    x = token_rows(6, 9, rng)
    y = rng.integers(0, 2, len(x))
    csv = os.path.join(scratch, f"{name}.csv")
    np.savetxt(csv, np.column_stack([x, y]), delimiter=",", fmt="%d")
    # Both start from the untrained model's weights; one batch per epoch, so the order of rows does not matter.
    neuroglow(binary, "export", model_dir, "--format", "keras", "--out", f"{model_dir}-keras")
    trained = f"{model_dir}-trained"
    neuroglow(binary, "train", model_dir, csv, "--epochs", "3", "--batch-size", str(len(x)), "--out", trained)
    keras_model = keras.saving.load_model(os.path.join(f"{model_dir}-keras", "model.keras"))
    keras_model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
    neuroglow(binary, "export", trained, "--format", "keras", "--out", f"{trained}-keras")
    ours = keras.saving.load_model(os.path.join(f"{trained}-keras", "model.keras"))
    report.check(f"{optimizer}: weights after three steps", flat_weights(ours), flat_weights(keras_model))

    # The optimizer's state both ways: one more step each side, from the state the other side saved.
    neuroglow(binary, "export", trained, "--format", "keras", "--out", f"{trained}-state")
    continued = keras.saving.load_model(os.path.join(f"{trained}-state", "model.keras"))
    if int(continued.optimizer.iterations.numpy()) != 3:
        report.fail(f"{optimizer}: Keras resumed at step {int(continued.optimizer.iterations.numpy())}, not 3")
    continued.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    neuroglow(binary, "train", trained, csv, "--epochs", "1", "--batch-size", str(len(x)), "--out", f"{trained}-4")
    neuroglow(binary, "export", f"{trained}-4", "--format", "keras", "--out", f"{trained}-4-keras")
    fourth = keras.saving.load_model(os.path.join(f"{trained}-4-keras", "model.keras"))
    what = f"{optimizer}: a fourth step in Keras from Neuroglow's optimizer state"
    report.check(what, flat_weights(fourth), flat_weights(continued))
    saved = os.path.join(scratch, f"{name}-after-keras.keras")
    keras_model.save(saved)
    neuroglow(binary, "import", saved, "--out", f"{model_dir}-from-keras")
    neuroglow(binary, "train", f"{model_dir}-from-keras", csv, "--epochs", "1", "--batch-size", str(len(x)),
              "--out", f"{model_dir}-from-keras-4")
    keras_model.fit(x, y, epochs=1, batch_size=len(x), shuffle=False, verbose=0)
    neuroglow(binary, "export", f"{model_dir}-from-keras-4", "--format", "keras", "--out", f"{model_dir}-from-keras-4k")
    ours_fourth = keras.saving.load_model(os.path.join(f"{model_dir}-from-keras-4k", "model.keras"))
    what = f"{optimizer}: a fourth step in Neuroglow from Keras's optimizer state"
    report.check(what, flat_weights(ours_fourth), flat_weights(keras_model))

print("Models made by Keras: built, trained and saved there, imported by neuroglow import")
made_by_keras = {
    "keras-lstm": (
        keras.Sequential([
            keras.Input((7,)),
            keras.layers.Embedding(12, 5, mask_zero=True),
            keras.layers.LSTM(4, return_sequences=True),
            keras.layers.LSTM(3),
            keras.layers.Dropout(0.1),
            keras.layers.Dense(1, activation="sigmoid"),
        ]),
        "binary_crossentropy",
        keras.optimizers.Adam(0.02, global_clipnorm=1.0),
        lambda rng: token_rows(7, 12, rng),
    ),
    "keras-mlp": (
        keras.Sequential([
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)),
            keras.layers.Dense(3, activation="softmax"),
        ]),
        "sparse_categorical_crossentropy",
        keras.optimizers.SGD(0.1, momentum=0.9),
        lambda rng: feature_rows(4, rng),
    ),
}
for name, (model, loss, optimizer, inputs) in made_by_keras.items():
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    rng = np.random.default_rng(5)
    x = inputs(rng)
    y = rng.integers(0, model.output_shape[-1] if model.output_shape[-1] > 1 else 2, len(x))
    model.fit(x, y, epochs=2, verbose=0)
    saved = os.path.join(scratch, f"{name}.keras")
    model.save(saved)
    imported = os.path.join(scratch, f"{name}-imported")
    neuroglow(binary, "import", saved, "--out", imported)
    report.check(f"{name} ({len(x)} inputs)", predict_encoded(imported, x, name), model.predict(x, verbose=0))

conv = keras.Sequential([keras.Input((8, 2)), keras.layers.Conv1D(2, 3), keras.layers.Flatten(), keras.layers.Dense(1)])
conv.compile(optimizer="adam", loss="mean_squared_error")
conv.save(os.path.join(scratch, "conv.keras"))
refused = subprocess.run(
    [binary, "import", os.path.join(scratch, "conv.keras"), "--out", os.path.join(scratch, "conv-imported")],
    capture_output=True,
    text=True,
)
message = refused.stderr.strip()
print(f"  a Conv1D model is refused: {message}")
if refused.returncode == 0 or "`Conv1D` is a layer Neuroglow does not have" not in message:
    report.fail("the Conv1D model's refusal")

report.finish("Keras", "Keras agrees with Neuroglow's .keras files on every check.")
