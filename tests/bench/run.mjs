// Drives the browser benchmark page in headless Chromium and prints a table.
import { openBrowser } from '../e2e/browser.mjs';

const url = process.env.NEUROGLOW_BENCH_URL;
const quick = process.argv.includes('--quick');
const [warmup, steps] = quick ? [1, 3] : [2, 10];
const workloads = ['lstm_clf', 'lstm_stack', 'mlp_small', 'mlp_mnist'];

const context = await openBrowser({ webgpu: true });
const page = await context.newPage();
page.setDefaultTimeout(600_000);
await page.goto(url + '/index.html');
await page.waitForFunction(() => document.getElementById('status').textContent === 'ready');
console.log('Neuroglow in wasm (headless Chromium; WebGPU here is SwiftShader, a CPU emulation)');
console.log(`${'workload'.padEnd(12)} ${'backend'.padEnd(8)} ${'first step ms'.padStart(14)} ${'step ms (med)'.padStart(14)} ${'inference ms'.padStart(16)}`);
for (const name of workloads) {
  for (const backend of ['cpu', 'webgpu']) {
    const t = JSON.parse(await page.evaluate(([n, b, w, s]) => window.neuroglowBench(n, b, w, s), [name, backend, warmup, steps]));
    console.log(`${name.padEnd(12)} ${backend.padEnd(8)} ${t.first_step_ms.toFixed(2).padStart(14)} ${t.step_ms.toFixed(2).padStart(14)} ${t.inference_ms.toFixed(3).padStart(16)}`);
  }
}
await context.close();
