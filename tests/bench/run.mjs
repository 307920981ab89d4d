// Drives the benchmark pages in one headless Chromium (WebGPU on SwiftShader)
// and prints, per workload, Neuroglow (CPU in wasm, WebGPU) next to
// TensorFlow.js 4.22 (webgl, webgpu, wasm, cpu), with the ratios we track.
import { openBrowser } from '../e2e/browser.mjs';

const url = process.env.NEUROGLOW_BENCH_URL;
const quick = process.argv.includes('--quick');
const [warmup, steps] = quick ? [1, 3] : [2, 10];
// TF.js needs minutes per LSTM step on some backends here: after the first
// step, each run gets this much time and reports the steps it managed.
const budgetMs = quick ? 20_000 : 60_000;
const workloads = ['lstm_clf', 'lstm_stack', 'mlp_small', 'mlp_mnist'];

const context = await openBrowser({ webgpu: true });
const open = async (page) => {
  const tab = await context.newPage();
  tab.setDefaultTimeout(1_800_000);
  await tab.goto(`${url}/${page}`);
  await tab.waitForFunction(() => document.getElementById('status').textContent === 'ready');
  return tab;
};
const neuroglow = await open('index.html');
const tfjs = await open('tfjs.html');

const runs = [
  ['neuroglow', 'cpu', (n) => neuroglow.evaluate(([n, w, s]) => window.neuroglowBench(n, 'cpu', w, s), [n, warmup, steps])],
  ['neuroglow', 'webgpu', (n) => neuroglow.evaluate(([n, w, s]) => window.neuroglowBench(n, 'webgpu', w, s), [n, warmup, steps])],
  ...['webgl', 'webgpu', 'wasm', 'cpu'].map((b) => ['tfjs', b, (n) =>
    tfjs.evaluate(([n, b, w, s, budget]) => window.tfjsBench(n, b, w, s, budget), [n, b, warmup, steps, budgetMs])]),
];

const fmt = (v, digits = 1) => (v === undefined ? '–' : v.toFixed(digits));
console.log('Training step and inference in headless Chromium (WebGPU here is SwiftShader, a CPU emulation)');
console.log(`${'workload'.padEnd(11)} ${'engine'.padEnd(17)} ${'first step ms'.padStart(14)} ${'step ms (med)'.padStart(14)} ${'steps'.padStart(6)} ${'recording ms'.padStart(13)} ${'inference ms'.padStart(13)}`);
for (const name of workloads) {
  const results = {};
  for (const [engine, backend, run] of runs) {
    const label = `${engine} ${backend}`;
    let r;
    try {
      r = JSON.parse(await run(name));
    } catch (e) {
      r = { error: String(e.message ?? e).split('\n')[0] };
    }
    results[label] = r;
    if (r.error) {
      console.log(`${name.padEnd(11)} ${label.padEnd(17)} failed: ${r.error}`);
    } else {
      console.log(`${name.padEnd(11)} ${label.padEnd(17)} ${fmt(r.first_step_ms).padStart(14)} ${fmt(r.step_ms, 2).padStart(14)} ${String(r.steps).padStart(6)} ${fmt(r.record_ms, 2).padStart(13)} ${fmt(r.inference_ms, 2).padStart(13)}`);
    }
  }
  const best = (labels) => Math.min(...labels.map((l) => results[l]?.step_ms ?? Infinity));
  // The browser's clock is coarsened to 0.1 ms: below that, a bound is all we know.
  const ratio = (ours, theirs) => {
    const mine = results[ours]?.step_ms;
    if (mine === undefined || theirs === Infinity) return 'n/a';
    return mine < 0.1 ? `over ${(theirs / 0.1).toFixed(0)}×` : `${(theirs / mine).toFixed(1)}×`;
  };
  console.log(`${name.padEnd(11)} speed-up: WebGPU vs fastest TF.js GPU backend ${ratio('neuroglow webgpu', best(['tfjs webgl', 'tfjs webgpu']))}, ` +
    `CPU-in-wasm vs fastest TF.js CPU backend ${ratio('neuroglow cpu', best(['tfjs wasm', 'tfjs cpu']))}`);
}
await context.close();
