"""torch.nn's Module, Linear, Embedding, LSTM and Dropout, transcribed from
PyTorch's documentation (the parameter names, shapes and equations there)."""

import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class Module:
    def __init__(self):
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_parameters", {})
        self.training = True

    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def _parameter(self, name, *shape):
        self._parameters[name] = np.zeros(shape)

    def __getattr__(self, name):
        parameters = object.__getattribute__(self, "_parameters")
        if name in parameters:
            return parameters[name]
        raise AttributeError(name)

    def __call__(self, *args):
        return self.forward(*args)

    def named_parameters(self, prefix=""):
        for name, value in self._parameters.items():
            yield prefix + name, self, name, value
        for name, module in self._modules.items():
            yield from module.named_parameters(prefix + name + ".")

    def load_state_dict(self, state_dict):
        """Strict, as PyTorch's default: every parameter given, no other key, same shapes."""
        expected = {name: (owner, key, value) for name, owner, key, value in self.named_parameters()}
        missing = sorted(set(expected) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(expected))
        if missing or unexpected:
            raise RuntimeError(f"Missing key(s): {missing}. Unexpected key(s): {unexpected}.")
        for name, (owner, key, value) in expected.items():
            given = np.asarray(state_dict[name], dtype=np.float64)
            if given.shape != value.shape:
                raise RuntimeError(f"size mismatch for {name}: copying {given.shape}, the model has {value.shape}")
            owner._parameters[key] = given

    def eval(self):
        self.training = False
        for module in self._modules.values():
            module.eval()
        return self

    def requires_grad_(self, flag=True):
        return self


class Linear(Module):
    """y = x Wᵀ + b, weight [out_features, in_features]."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self._parameter("weight", out_features, in_features)
        if bias:
            self._parameter("bias", out_features)

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if "bias" in self._parameters else y


class Embedding(Module):
    """Rows of weight [num_embeddings, embedding_dim]."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self._parameter("weight", num_embeddings, embedding_dim)

    def forward(self, ids):
        return self.weight[ids]


class Dropout(Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        assert not self.training, "the stand-in runs models in eval mode only"
        return x


class LSTM(Module):
    """One layer, batch_first. With W_ih = [W_ii|W_if|W_ig|W_io] (rows) and W_hh likewise:
    i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(…), g = tanh(…), o = σ(…),
    c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c')."""

    def __init__(self, input_size, hidden_size, batch_first=False):
        super().__init__()
        assert batch_first, "model.py builds batch_first LSTMs"
        self.hidden_size = hidden_size
        self._parameter("weight_ih_l0", 4 * hidden_size, input_size)
        self._parameter("weight_hh_l0", 4 * hidden_size, hidden_size)
        self._parameter("bias_ih_l0", 4 * hidden_size)
        self._parameter("bias_hh_l0", 4 * hidden_size)

    def forward(self, x, state=None):
        batch, time, _ = x.shape
        n = self.hidden_size
        h, c = (np.zeros((batch, n)), np.zeros((batch, n))) if state is None else (state[0][0], state[1][0])
        outputs = []
        for t in range(time):
            gates = x[:, t] @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T + self.bias_hh_l0
            i, f, g, o = (gates[:, k * n : (k + 1) * n] for k in range(4))
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            outputs.append(h)
        return np.stack(outputs, axis=1), (h[None], c[None])
