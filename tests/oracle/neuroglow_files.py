"""Neuroglow's model files on the Keras side, for the oracle tests: read and
write `model.safetensors`, and build the Keras model a `model.json` describes
with its weights. Only what the oracle tests use: Embedding, LSTM and Dense.

Neuroglow stores weights as Keras does (the LSTM's gates in the order
i, f, c, o, kernels as `[inputs, units]`), named `<layer>/<weight>`.
"""

import json
import os
import subprocess

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from safetensors_file import read_safetensors, write_safetensors  # noqa: E402,F401  (re-exported)


WEIGHTS = {"embedding": ["embeddings"], "lstm": ["kernel", "recurrent_kernel", "bias"], "dense": ["kernel", "bias"]}


def keras_model(model_dir):
    """The Keras model for `model_dir/model.json`, with its weights, loss
    and optimizer."""
    with open(os.path.join(model_dir, "model.json")) as f:
        spec = json.load(f)
    tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    layers = [keras.Input(tuple(spec["input_shape"]))]
    for config in spec["layers"]:
        kind = config["type"]
        if kind == "embedding":
            layer = keras.layers.Embedding(config["input_dim"], config["output_dim"], mask_zero=config.get("mask_zero", False))
        elif kind == "lstm":
            layer = keras.layers.LSTM(config["units"], return_sequences=config.get("return_sequences", False))
        elif kind == "dense":
            layer = keras.layers.Dense(config["units"], activation=config.get("activation", "linear"))
        else:
            raise ValueError(f"the oracle does not build {kind} layers")
        layers.append(layer)
    model = keras.Sequential(layers)
    for config, layer in zip(spec["layers"], model.layers):
        names = [n for n in WEIGHTS[config["type"]] if f"{config['name']}/{n}" in tensors]
        layer.set_weights([tensors[f"{config['name']}/{n}"] for n in names])
    model.compile(loss=spec["loss"], optimizer=keras_optimizer(spec.get("optimizer", {})), metrics=["accuracy"])
    return model, spec


def keras_optimizer(config):
    """Keras's optimizer for Neuroglow's `optimizer` settings."""
    settings = {k: v for k, v in config.items() if k != "type"}
    kind = config.get("type", "sgd")
    if kind == "sgd":
        return keras.optimizers.SGD(**settings)
    if kind == "adam":
        return keras.optimizers.Adam(**settings)
    raise ValueError(f"the oracle does not build {kind} optimizers")


def keras_weights(model, spec):
    """The Keras model's weights under Neuroglow's names."""
    weights = {}
    for config, layer in zip(spec["layers"], model.layers):
        for name, value in zip(WEIGHTS[config["type"]], layer.get_weights()):
            weights[f"{config['name']}/{name}"] = value
    return weights


def neuroglow(binary, *args):
    """Runs the CLI; its standard output, or an exception with its error."""
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"neuroglow {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def char_windows(text, chars, maxlen):
    """Next-character windows as Neuroglow cuts them: ids (0 for a character
    outside the vocabulary, the padding id), consecutive windows of `maxlen`,
    the target at every position the id that follows."""
    index = {c: i + 1 for i, c in enumerate(chars)}
    ids = np.array([index.get(c, 0) for c in text])
    windows = (len(ids) - 1) // maxlen
    x = np.stack([ids[w * maxlen : w * maxlen + maxlen] for w in range(windows)])
    y = np.stack([ids[w * maxlen + 1 : w * maxlen + maxlen + 1] for w in range(windows)])
    return x, y
