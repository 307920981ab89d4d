// The <neuroglow-demo> widget in a host page (tests/fixtures/widgets.html,
// served beside the built site) under a strict Content-Security-Policy, with
// and without WebGPU: the demos work, share one engine and one GPU device,
// start when scrolled into view, keep their styles to themselves, show a bad
// model address inside their box, read a TF.js model's directory as they read
// Neuroglow's own, and show hostile text as text.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { baseUrl, openBrowser, screenshotDir } from './browser.mjs';

const fixtures = new URL('../fixtures/', import.meta.url);
const MISSING_MODEL = '/models/no-such-model/';
const HOSTILE = '<img src=x onerror="window.__injected = true">';

// Opens the fixture page. Records console errors except the one the broken
// demo causes on purpose (the browser logs its 404), every wasm download, and
// every GPU device the page asks for.
async function openHostPage(context) {
  const page = await context.newPage();
  await page.route(`${baseUrl}/fixture/*`, (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    const type = name.endsWith('.css') ? 'text/css' : 'text/html';
    route.fulfill({ body: readFileSync(new URL(name, fixtures)), contentType: type });
  });
  const errors = [];
  const wasmDownloads = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.location().url.includes(MISSING_MODEL)) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => { errors.push(`a dialog opened: ${d.message()}`); d.dismiss(); });
  page.on('request', (r) => { if (r.url().endsWith('.wasm')) wasmDownloads.push(r.url()); });
  await page.addInitScript(() => {
    window.__devices = 0;
    if (window.GPUAdapter) {
      const requestDevice = GPUAdapter.prototype.requestDevice;
      GPUAdapter.prototype.requestDevice = function (...args) {
        window.__devices += 1;
        return requestDevice.apply(this, args);
      };
    }
  });
  await page.goto(`${baseUrl}/fixture/widgets.html`);
  return { page, errors, wasmDownloads };
}

// The shipped sentiment model exported by the CLI as a TF.js layers model,
// served at /tfjs/sentiment/; returns the paths the page asked for.
function serveTfjsSentiment(page) {
  const cli = process.env.NEUROGLOW_CLI ?? new URL('../../target/debug/neuroglow', import.meta.url).pathname;
  assert.ok(existsSync(cli), `no neuroglow command at ${cli}: build it first (cargo build -p neuroglow-cli)`);
  const dir = join(mkdtempSync(join(tmpdir(), 'neuroglow-tfjs-')), 'sentiment');
  const model = new URL('../../web/models/sentiment-lstm', import.meta.url).pathname;
  execFileSync(cli, ['export', model, '--format', 'tfjs', '--out', dir]);
  const asked = [];
  page.route(`${baseUrl}/tfjs/sentiment/*`, (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop();
    asked.push(name);
    route.fulfill({ body: readFileSync(join(dir, name)), contentType: name.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
  });
  return asked;
}

const hostStyles = (page) => page.evaluate(() => {
  const style = (id) => {
    const s = getComputedStyle(document.getElementById(id));
    return [s.color, s.fontSize, s.backgroundColor, s.borderTopColor, s.fontFamily].join(' | ');
  };
  return {
    text: style('host-text'),
    button: style('host-button'),
    sheets: document.styleSheets.length,
    head: document.head.children.length,
  };
});

for (const webgpu of [false, true]) {
  describe(`embedded demos, ${webgpu ? 'with' : 'without'} WebGPU`, () => {
    let context;
    before(async () => { context = await openBrowser({ webgpu }); });
    after(async () => { await context.close(); });

    test('two demos work under a strict CSP, share one engine and keep to their own box', async () => {
      const { page, errors, wasmDownloads } = await openHostPage(context);
      const before = await hostStyles(page);

      const verdict = page.locator('#classify #sentiment-result');
      await page.waitForFunction(() =>
        document.querySelector('#classify').shadowRoot.querySelector('#sentiment-result')?.dataset.probability);
      await page.fill('#classify #sentiment-text', 'a wonderful, moving film');
      await page.waitForFunction(() =>
        document.querySelector('#classify').shadowRoot.querySelectorAll('.word').length === 4);
      assert.ok(Number(await verdict.getAttribute('data-probability')) > 0.5);
      const badge = page.locator('#classify [data-backend]');
      assert.equal(await badge.getAttribute('data-backend'), webgpu ? 'webgpu' : 'cpu');

      await page.fill('#generate #generator-prompt', HOSTILE);
      await page.click('#generate #generator-run');
      const output = page.locator('#generate #generated');
      await page.waitForFunction(() => {
        const out = document.querySelector('#generate').shadowRoot.querySelector('#generated');
        return out.dataset.state === 'idle' && out.textContent.length > 200;
      });
      assert.ok((await output.textContent()).startsWith(HOSTILE), 'the prompt is shown as typed, as text');

      // Hostile text typed into the classifier is only ever text, too.
      await page.fill('#classify #sentiment-text', HOSTILE);
      await page.waitForTimeout(300);
      const injected = await page.evaluate(() => window.__injected === true
        || [...document.querySelectorAll('neuroglow-demo')].some((d) => d.shadowRoot.querySelector('img')));
      assert.equal(injected, false, 'user text became HTML');

      // The demos' styles stay inside them, and the host's stay outside.
      assert.deepEqual(await hostStyles(page), before);
      const inside = await page.evaluate(() => {
        const root = document.querySelector('#classify').shadowRoot;
        const s = (el) => getComputedStyle(el);
        return {
          buttonBackground: s(root.querySelector('button')).backgroundColor,
          textareaOutline: s(root.querySelector('textarea')).outlineStyle,
          boxOutline: s(root.querySelector('.box')).outlineStyle,
        };
      });
      assert.notEqual(inside.buttonBackground, 'rgb(255, 255, 0)');
      assert.notEqual(inside.textareaOutline, 'dashed');
      assert.notEqual(inside.boxOutline, 'dashed');

      // One engine download for both demos, and at most one GPU device.
      assert.equal(wasmDownloads.length, 1, wasmDownloads.join(', '));
      assert.equal(await page.evaluate(() => window.__devices), webgpu ? 1 : 0);
      await page.screenshot({ path: `${screenshotDir}widgets-${webgpu ? 'webgpu' : 'cpu'}.png`, fullPage: true });
      assert.deepEqual(errors, []);
    });

    test('a demo starts when scrolled into view, shows a bad model address inside its box, and follows its attributes', async () => {
      const { page, errors } = await openHostPage(context);
      const broken = page.locator('#broken');
      await page.waitForFunction(() =>
        document.querySelector('#classify').shadowRoot.querySelector('#sentiment-result')?.dataset.probability);
      assert.match(await broken.evaluate((d) => d.shadowRoot.textContent), /Loading the Neuroglow demo/,
        'a demo far below the fold started before it was scrolled to');

      await broken.scrollIntoViewIfNeeded();
      const error = page.locator('#broken .error');
      await error.waitFor();
      assert.match(await error.textContent(), /no-such-model\/model\.json.*404/);
      assert.equal(await page.locator('#host-footer').isVisible(), true);

      // Pointing it at a real model brings it to life.
      await broken.evaluate((d) => d.setAttribute('model', '/models/sentiment-lstm/'));
      await page.waitForFunction(() =>
        document.querySelector('#broken').shadowRoot.querySelector('#sentiment-result')?.dataset.probability);
      assert.equal((await page.locator('#broken .error').textContent()).trim(), '');
      const probability = () => broken.evaluate((d) => d.shadowRoot.querySelector('#sentiment-result').dataset.probability);
      const ours = await probability();

      // So does the same model exported for TensorFlow.js, in a demo of its own, and it reads the sentence the same.
      const asked = serveTfjsSentiment(page);
      await page.evaluate(() => {
        const demo = document.createElement('neuroglow-demo');
        Object.assign(demo, { id: 'tfjs' });
        demo.setAttribute('task', 'classify');
        demo.setAttribute('model', '/tfjs/sentiment/');
        document.getElementById('host-footer').before(demo);
      });
      const tfjs = page.locator('#tfjs');
      await tfjs.scrollIntoViewIfNeeded();
      await page.waitForFunction(() =>
        document.querySelector('#tfjs').shadowRoot.querySelector('#sentiment-result')?.dataset.probability);
      assert.deepEqual(asked.sort(), ['group1-shard1of1.bin', 'model.json']);
      assert.equal(await tfjs.evaluate((d) => d.shadowRoot.querySelector('#sentiment-result').dataset.probability), ours);

      // A theme is a restyle, not a rebuild.
      const background = () => broken.evaluate((d) => getComputedStyle(d.shadowRoot.querySelector('.box')).backgroundColor);
      const light = await background();
      await broken.evaluate((d) => d.setAttribute('theme', 'dark'));
      assert.notEqual(await background(), light);
      assert.deepEqual(errors, []);
    });
  });
}

describe('the embedding guide (embed.html)', () => {
  let context;
  before(async () => { context = await openBrowser({ webgpu: false }); });
  after(async () => { await context.close(); });

  test('shows a working demo of every task and a working iframe', async () => {
    const page = await context.newPage();
    const errors = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${baseUrl}/embed.html`);
    const ready = {
      'example-classify': '#sentiment-result[data-probability]:not([data-probability=""])',
      'example-generate': '#generator-run:not([disabled])',
      'example-playground': '#step:not([disabled])',
      'example-digits': '#digit-pad',
    };
    for (const [id, selector] of Object.entries(ready)) {
      await page.locator(`#${id}`).scrollIntoViewIfNeeded();
      await page.locator(`#${id} ${selector}`).waitFor();
      assert.equal(await page.locator(`#${id} .error`).filter({ hasText: /\S/ }).count(), 0, id);
    }
    await page.click('#example-playground #step');
    await page.waitForFunction(() =>
      document.querySelector('#example-playground').shadowRoot.querySelector('#stats').dataset.epoch === '1');
    const frame = page.frameLocator('#example-iframe');
    await page.locator('#example-iframe').scrollIntoViewIfNeeded();
    await frame.locator('#step:not([disabled])').waitFor();
    await page.screenshot({ path: `${screenshotDir}embed-guide.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });
});
