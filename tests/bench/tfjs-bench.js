// The benchmark workloads of crates/bench, built with TensorFlow.js layers
// so both engines train the same models on the same shapes. TF.js's LSTM
// defaults to a hard sigmoid for its gates; 'sigmoid' matches Keras and us.
/* global tf */
tf.wasm.setWasmPaths('tfjs/');

const lstm = (units, returnSequences) => tf.layers.lstm({ units, returnSequences, recurrentActivation: 'sigmoid' });

const workloads = {
  lstm_clf: {
    batch: 32,
    input: { shape: [100], vocab: 10000 },
    classes: 1,
    build: () => [
      tf.layers.embedding({ inputDim: 10000, outputDim: 16, inputLength: 100 }),
      lstm(128, false),
      tf.layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
    optimizer: () => tf.train.adam(),
    loss: 'binaryCrossentropy',
  },
  lstm_stack: {
    batch: 32,
    input: { shape: [64], vocab: 96 },
    classes: 96,
    build: () => [
      tf.layers.embedding({ inputDim: 96, outputDim: 32, inputLength: 64 }),
      lstm(128, true),
      lstm(128, true),
      lstm(128, false),
      tf.layers.dense({ units: 96, activation: 'softmax' }),
    ],
    optimizer: () => tf.train.adam(),
    loss: 'categoricalCrossentropy',
  },
  mlp_small: {
    batch: 32,
    input: { shape: [2] },
    classes: 1,
    build: () => [
      tf.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }),
      tf.layers.dense({ units: 8, activation: 'tanh' }),
      tf.layers.dense({ units: 1, activation: 'sigmoid' }),
    ],
    optimizer: () => tf.train.sgd(0.03),
    loss: 'binaryCrossentropy',
  },
  mlp_mnist: {
    batch: 128,
    input: { shape: [784] },
    classes: 10,
    build: () => [
      tf.layers.dense({ units: 256, activation: 'relu', inputShape: [784] }),
      tf.layers.dense({ units: 128, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
    optimizer: () => tf.train.adam(),
    loss: 'categoricalCrossentropy',
  },
};

function batchData(w) {
  const shape = [w.batch, ...w.input.shape];
  const x = w.input.vocab
    ? tf.randomUniform(shape, 0, w.input.vocab, 'int32')
    : tf.randomNormal(shape);
  const labels = tf.randomUniform([w.batch], 0, Math.max(w.classes, 2), 'int32');
  const y = w.classes === 1 ? labels.reshape([w.batch, 1]).toFloat() : tf.oneHot(labels, w.classes).toFloat();
  return { x, y };
}

const median = (v) => v.slice().sort((a, b) => a - b)[Math.floor(v.length / 2)];

// Times training steps on `backend`: the first one separately, then up to
// `steps` after `warmup`, stopping early once `budgetMs` is spent (TF.js
// needs minutes per LSTM step on some backends here).
window.tfjsBench = async (name, backend, warmup, steps, budgetMs) => {
  try {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} is unavailable`);
    await tf.ready();
    const w = workloads[name];
    const model = tf.sequential({ layers: w.build() });
    model.compile({ optimizer: w.optimizer(), loss: w.loss });
    const { x, y } = batchData(w);
    const step = async () => {
      const start = performance.now();
      await model.trainOnBatch(x, y);
      return performance.now() - start;
    };
    const first = await step();
    const started = performance.now();
    for (let i = 0; i < warmup && performance.now() - started < budgetMs; i++) await step();
    const times = [];
    while (times.length < steps && (times.length === 0 || performance.now() - started < budgetMs)) times.push(await step());
    const one = x.slice([0], [1]);
    const latencies = [];
    for (let i = 0; i < Math.max(steps, 5) && (i === 0 || performance.now() - started < budgetMs); i++) {
      const t0 = performance.now();
      const out = model.predict(one);
      await out.data();
      out.dispose();
      latencies.push(performance.now() - t0);
    }
    tf.dispose([x, y, one]);
    model.dispose();
    return JSON.stringify({ first_step_ms: first, step_ms: median(times), inference_ms: median(latencies), steps: times.length });
  } catch (e) {
    return JSON.stringify({ error: String(e.message ?? e).split('\n')[0] });
  }
};
document.getElementById('status').textContent = 'ready';
