// TensorFlow.js (its layers API on the CPU backend) as the oracle for
// Neuroglow's TF.js import and export:
// - every shipped model, exported by `neuroglow export --format tfjs`, loads
//   with `tf.loadLayersModel` over HTTP, unchanged, and predicts what
//   Neuroglow predicts on the same inputs (padded and unknown tokens
//   included);
// - one training step in TF.js, compiled from the exported trainingConfig,
//   equals the step `neuroglow train` takes;
// - models built, trained and saved by TF.js itself import with
//   `neuroglow import` and predict what TF.js predicts; one with TF.js's
//   default hard-sigmoid gate is refused with a reason.
//
// Usage: node tfjs_oracle.mjs NEUROGLOW_BINARY REPO_ROOT SCRATCH_DIR
// (run by `cargo xtask test`).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs';

const [neuroglowBinary, repo, scratch] = process.argv.slice(2);
const TOLERANCE = 1e-5;
const failures = [];

await tf.setBackend('cpu');
fs.rmSync(scratch, { recursive: true, force: true });
fs.mkdirSync(scratch, { recursive: true });

function neuroglow(...args) {
  const options = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 };
  return execFileSync(neuroglowBinary, args, options);
}

/// JSON with sorted keys, to compare values whatever order they were written in.
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

function check(what, ours, theirs, tolerance = TOLERANCE) {
  if (ours.length !== theirs.length) {
    console.log(`  ${what}: ${ours.length} values against ${theirs.length} (MISMATCH)`);
    failures.push(what);
    return;
  }
  let largest = 0;
  for (let i = 0; i < ours.length; i++) largest = Math.max(largest, Math.abs(ours[i] - theirs[i]));
  const verdict = largest <= tolerance ? 'ok' : `MORE THAN ${tolerance.toExponential(0)}`;
  console.log(`  ${what}: ${ours.length} values, largest difference ${largest.toExponential(2)} (${verdict})`);
  if (!(largest <= tolerance)) failures.push(what);
}

// TF.js loads models over HTTP as a page would: serve the scratch folder.
const server = http.createServer((request, response) => {
  const file = path.join(scratch, decodeURIComponent(new URL(request.url, 'http://x').pathname));
  if (!file.startsWith(scratch) || !fs.existsSync(file)) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200).end(fs.readFileSync(file));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const served = (dir) => `http://127.0.0.1:${server.address().port}/${path.relative(scratch, dir)}/model.json`;

/// Neuroglow's outputs for rows of first-layer inputs, flattened.
function neuroglowPredict(modelDir, rows, name) {
  const csv = path.join(scratch, `${name}-inputs.csv`);
  fs.writeFileSync(csv, rows.map((r) => r.join(',')).join('\n') + '\n');
  return JSON.parse(neuroglow('predict', modelDir, csv, '--encoded', '--json')).flat();
}

async function tfjsPredict(model, rows) {
  const input = tf.tensor2d(rows, undefined, 'float32');
  const output = model.predict(input);
  const values = Array.from(await output.data());
  tf.dispose([input, output]);
  return values;
}

/// A seeded generator, so a failure can be rerun.
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/// Token ids for a model reading `length` ids below `vocabulary`: texts of
/// every length padded in front (Keras's default), a text padded behind, one
/// all padding, and unknown words (id 1, the out-of-vocabulary id).
function tokenRows(length, vocabulary, count, next) {
  const rows = [];
  for (let r = 0; r < count; r++) {
    const used = Math.max(1, Math.round((r / (count - 1)) * length));
    const ids = Array.from({ length: used }, () => 1 + Math.floor(next() * (vocabulary - 1)));
    if (r % 3 === 0) ids[Math.floor(next() * used)] = 1;
    rows.push([...new Array(length - used).fill(0), ...ids]);
  }
  rows.push([...rows[count >> 1].filter((id) => id !== 0), ...new Array(length).fill(0)].slice(0, length));
  rows.push(new Array(length).fill(0));
  return rows;
}

/// Inputs after normalization: values around the normalized scale.
function featureRows(width, count, next) {
  return Array.from({ length: count }, () => Array.from({ length: width }, () => (next() - 0.5) * 4));
}

console.log('Shipped models: exported by Neuroglow, loaded and run by tf.loadLayersModel');
const shipped = JSON.parse(fs.readFileSync(path.join(repo, 'web/models/index.json'), 'utf8'));
const names = (shipped.models ?? shipped).map((m) => m.id ?? m.name ?? m);
for (const name of names) {
  const modelDir = path.join(repo, 'web/models', name);
  const spec = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8'));
  const out = path.join(scratch, `${name}-tfjs`);
  const trainable = spec.optimizer?.global_clipnorm == null;
  neuroglow('export', modelDir, '--format', 'tfjs', '--out', out, ...(trainable ? [] : ['--inference-only']));
  const model = await tf.loadLayersModel(served(out));
  const first = spec.layers[0];
  const next = random(name.length);
  const rows =
    first.type === 'embedding'
      ? tokenRows(spec.input_shape[0], first.input_dim, 22, next)
      : featureRows(spec.input_shape[0], 24, next);
  check(`${name} (${rows.length} inputs)`, neuroglowPredict(modelDir, rows, name), await tfjsPredict(model, rows));
  const metadata = model.getUserDefinedMetadata()?.neuroglow;
  if (canonical(metadata?.text_encoder) !== canonical(spec.text_encoder)) {
    console.log(`  ${name}: the text encoder did not travel in userDefinedMetadata (MISMATCH)`);
    failures.push(`${name} metadata`);
  }
  if (trainable && model.optimizer == null) {
    console.log(`  ${name}: TF.js compiled no optimizer from the trainingConfig (MISMATCH)`);
    failures.push(`${name} trainingConfig`);
  }
  model.dispose();
}

// Adam is left out: TF.js adds epsilon after the bias correction, Keras (and
// Neuroglow) before it, so TF.js's Adam steps differ from Keras's by up to
// lr·ε/√(1−β₂ᵗ)/|g| (Neuroglow's Adam is checked against Keras instead).
console.log('Three training steps: TF.js compiled from the exported trainingConfig against neuroglow train');
for (const [optimizer, loss, activation, classes] of [
  [{ type: 'sgd', learning_rate: 0.3, momentum: 0.5 }, 'sparse_categorical_crossentropy', 'softmax', 3],
  [{ type: 'sgd', learning_rate: 0.2 }, 'binary_crossentropy', 'sigmoid', 1],
  [{ type: 'sgd', learning_rate: 0.1, momentum: 0.9 }, 'mean_squared_error', 'linear', 1],
]) {
  const name = `steps-${loss}`;
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir);
  const spec = {
    name,
    input_shape: [3],
    seed: 4,
    loss,
    optimizer,
    layers: [
      { type: 'dense', units: 5, activation: 'tanh', kernel_regularizer: { l2: 0.01 } },
      { type: 'dense', units: classes, activation },
    ],
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(spec));
  const next = random(name.length);
  const x = featureRows(3, 16, next);
  const y = x.map((row) => (loss === 'mean_squared_error' ? row[0] - row[1] : Math.floor(next() * Math.max(classes, 2))));
  const csv = path.join(scratch, `${name}.csv`);
  fs.writeFileSync(csv, x.map((row, i) => [...row, y[i]].join(',')).join('\n') + '\n');
  // Both sides start from the same weights: the export of the untrained model.
  neuroglow('export', dir, '--format', 'tfjs', '--out', `${dir}-before`);
  // One batch per epoch: the step does not depend on the order of the rows.
  neuroglow('train', dir, csv, '--epochs', '3', '--batch-size', '16', '--out', `${dir}-trained`);
  neuroglow('export', `${dir}-trained`, '--format', 'tfjs', '--out', `${dir}-after`);
  const model = await tf.loadLayersModel(served(`${dir}-before`));
  await model.fit(tf.tensor2d(x), tf.tensor2d(y, [y.length, 1]), { epochs: 3, batchSize: 16, verbose: 0 });
  const theirs = (await Promise.all(model.getWeights().map((w) => w.data()))).flatMap((d) => Array.from(d));
  const trained = await tf.loadLayersModel(served(`${dir}-after`));
  const ours = (await Promise.all(trained.getWeights().map((w) => w.data()))).flatMap((d) => Array.from(d));
  const momentum = optimizer.momentum ? ` (momentum ${optimizer.momentum})` : '';
  check(`SGD${momentum}, ${loss}: weights after three steps`, ours, theirs);
}

console.log('Models made by TF.js: built, trained and saved there, imported by neuroglow import');
async function saveTfjs(model, dir) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightsManifest = [{ paths: ['./model.weights.bin'], weights: artifacts.weightSpecs }];
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest,
        trainingConfig: artifacts.trainingConfig,
      };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      fs.writeFileSync(path.join(dir, 'model.weights.bin'), Buffer.from(artifacts.weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
}

const madeByTfjs = [
  [
    'tfjs-mlp',
    () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ units: 6, activation: 'relu', inputShape: [4], kernelRegularizer: tf.regularizers.l2() }));
      m.add(tf.layers.dropout({ rate: 0.1 }));
      m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
      m.compile({ loss: 'sparseCategoricalCrossentropy', optimizer: tf.train.momentum(0.1, 0.9), metrics: ['accuracy'] });
      return m;
    },
    (next) => featureRows(4, 20, next),
    (rows, next) => rows.map(() => Math.floor(next() * 3)),
  ],
  [
    'tfjs-lstm',
    () => {
      const m = tf.sequential();
      m.add(tf.layers.embedding({ inputDim: 12, outputDim: 5, maskZero: true, inputLength: 7 }));
      m.add(tf.layers.lstm({ units: 4, returnSequences: true, recurrentActivation: 'sigmoid' }));
      m.add(tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' }));
      m.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
      m.compile({ loss: 'binaryCrossentropy', optimizer: tf.train.adam(0.02) });
      return m;
    },
    (next) => tokenRows(7, 12, 20, next),
    (rows, next) => rows.map(() => (next() < 0.5 ? 0 : 1)),
  ],
];
for (const [name, build, inputs, labels] of madeByTfjs) {
  const model = build();
  const next = random(name.length);
  const rows = inputs(next);
  await model.fit(tf.tensor2d(rows), tf.tensor2d(labels(rows, next), [rows.length, 1]), { epochs: 2, verbose: 0 });
  const saved = path.join(scratch, name);
  await saveTfjs(model, saved);
  const imported = `${saved}-imported`;
  neuroglow('import', path.join(saved, 'model.json'), '--out', imported);
  check(`${name} (${rows.length} inputs)`, neuroglowPredict(imported, rows, name), await tfjsPredict(model, rows));
}

// TF.js's own default gate is hard_sigmoid, which Neuroglow does not compute.
const hard = tf.sequential();
hard.add(tf.layers.embedding({ inputDim: 5, outputDim: 2, inputLength: 3 }));
hard.add(tf.layers.lstm({ units: 2 }));
hard.compile({ loss: 'meanSquaredError', optimizer: 'sgd' });
await saveTfjs(hard, path.join(scratch, 'tfjs-hard-sigmoid'));
try {
  neuroglow('import', path.join(scratch, 'tfjs-hard-sigmoid'), '--out', path.join(scratch, 'refused'));
  console.log('  an LSTM with the hard-sigmoid gate was imported (MISMATCH: it must be refused)');
  failures.push('hard sigmoid');
} catch (error) {
  const message = String(error.stderr);
  const ok = message.includes('recurrent_activation') && message.includes('hard_sigmoid');
  console.log(`  an LSTM with TF.js's default hard-sigmoid gate is refused: ${ok ? 'ok' : 'UNCLEAR'}: ${message.trim()}`);
  if (!ok) failures.push('hard sigmoid message');
}

server.close();
if (failures.length > 0) {
  console.error(`TF.js disagrees with Neuroglow on: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('TF.js agrees with Neuroglow on every check.');
