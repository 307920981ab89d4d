// The 2-D lab trains a small MLP and the loss falls: on WebGPU (SwiftShader)
// when Chromium offers it, else on the CPU in wasm, with the reason shown.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { longTasks, openBrowser, openPage, screenshotDir, watchLongTasks } from './browser.mjs';

for (const webgpu of [false, true]) {
  const mode = webgpu ? 'with --enable-unsafe-webgpu' : 'without WebGPU';
  describe(`2-D lab ${mode}`, () => {
    let context;
    before(async () => { context = await openBrowser({ webgpu }); });
    after(async () => { await context?.close(); });

    test(`the circle MLP trains in the browser and its loss falls`, async () => {
      const { page, errors } = await openPage(context, '/');
      const badge = page.locator('[data-backend]');
      await badge.waitFor();
      assert.equal(await badge.getAttribute('data-backend'), webgpu ? 'webgpu' : 'cpu');
      if (!webgpu) assert.match(await badge.textContent(), /no usable GPU/);

      // Watch for main-thread tasks over 100 ms while training.
      await watchLongTasks(page);

      await page.click('#play');
      const stats = page.locator('#stats');
      await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) >= 1);
      const firstLoss = Number(await stats.getAttribute('data-train-loss'));
      await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) >= 60, null, { timeout: 60_000 });
      await page.click('#play'); // pause
      const epoch = Number(await stats.getAttribute('data-epoch'));
      const trainLoss = Number(await stats.getAttribute('data-train-loss'));
      const testLoss = Number(await stats.getAttribute('data-test-loss'));

      assert.ok(trainLoss < firstLoss / 3, `training loss fell only from ${firstLoss} to ${trainLoss}`);
      assert.ok(testLoss < 0.1, `test loss ${testLoss} after ${epoch} epochs`);
      assert.deepEqual((await longTasks(page)).filter((d) => d > 100), [], 'the page froze while training');
      await page.screenshot({ path: `${screenshotDir}lab-${webgpu ? 'webgpu' : 'cpu'}.png` });
      assert.deepEqual(errors, []);
    });

    test(`?backend=cpu trains on the CPU and says so`, async () => {
      const { page, errors } = await openPage(context, '/?backend=cpu');
      const badge = page.locator('[data-backend]');
      await badge.waitFor();
      assert.equal(await badge.getAttribute('data-backend'), 'cpu');
      assert.match(await badge.textContent(), /CPU was chosen \(backend=cpu\)/);
      await page.click('#step');
      await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) === 1);
      assert.deepEqual(errors, []);
    });

    test(`a bad layer size shows an error and the page keeps working`, async () => {
      const { page, errors } = await openPage(context, '/');
      const hidden = page.getByLabel('Hidden layers');
      await hidden.fill('8, lots');
      await hidden.press('Enter');
      await hidden.blur();
      await page.getByRole('alert').filter({ hasText: '`lots` is not a layer size' }).waitFor();
      await hidden.fill('4');
      await hidden.blur();
      await page.waitForFunction(() => document.querySelector('[role=alert]').textContent === '');
      await page.click('#step');
      await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) === 1);
      assert.deepEqual(errors, []);
    });
  });
}

describe('2-D lab settings', () => {
  let context;
  before(async () => { context = await openBrowser({ webgpu: false }); });
  after(async () => { await context?.close(); });

  test('a link carries the whole setup: feature crosses learn exclusive-or with one small layer', async () => {
    const { page, errors } = await openPage(context, '/?dataset=xor&features=x1,x2,x1_times_x2&hidden=2&lr=0.03&seed=3&batch=10#lab');
    await page.waitForSelector('#play:not([disabled])');
    assert.equal(await page.inputValue('#hidden'), '2');
    const pressed = await page.$$eval('.feature[aria-pressed="true"]', (b) => b.map((e) => e.textContent));
    assert.deepEqual(pressed, ['x₁', 'x₂', 'x₁x₂']);
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) >= 40, null, { timeout: 60_000 });
    await page.click('#play');
    const testLoss = Number(await page.locator('#stats').getAttribute('data-test-loss'));
    assert.ok(testLoss < 0.25, `test loss ${testLoss}`);

    // Changing a control rewrites the link.
    await page.getByLabel('Dataset').selectOption('spiral');
    await page.waitForFunction(() => location.search.includes('dataset=spiral'));
    assert.match(page.url(), /features=x1%2Cx2%2Cx1_times_x2|features=x1,x2,x1_times_x2/);
    assert.match(page.url(), /#lab$/);
    await page.getByLabel('Activation').selectOption('relu');
    await page.getByLabel('Optimizer').selectOption('sgd');
    await page.getByLabel('Regularization').first().selectOption('l2');
    await page.waitForFunction(() => ['activation=relu', 'optimizer=sgd', 'penalty=l2'].every((p) => location.search.includes(p)));
    assert.equal(await page.getByLabel('Optimizer').inputValue(), 'sgd');

    // A link sets only what the controls offer: the batch slider stops at 30, 0.05 is not a listed rate.
    await page.goto(`${page.url().split('?')[0]}?batch=100&lr=0.05#lab`);
    await page.waitForSelector('#play:not([disabled])');
    const batch = page.locator('[data-control="batch-size"] input');
    assert.deepEqual([await batch.inputValue(), await batch.getAttribute('max')], ['30', '30']);
    assert.match(await page.locator('[data-control="batch-size"]').textContent(), /Batch size 30/);
    assert.equal(await page.locator('[data-control="learning-rate"] select').inputValue(), '0.03');
    assert.deepEqual(errors, []);
  });

  test('the network diagram: a map per neuron, links by weight, hover one to see it large, click a link to change it', async () => {
    const { page, errors } = await openPage(context, '/?dataset=xor&hidden=4,3&seed=1#lab');
    await page.waitForSelector('#play:not([disabled])');
    await page.waitForFunction(() => document.querySelectorAll('.neuron').length === 2 + 4 + 3 + 1);
    assert.equal(await page.locator('.links line').count(), 2 * 4 + 4 * 3 + 3 * 1);
    const output = () => page.evaluate(() => document.querySelector('.output canvas').toDataURL());
    const plain = await output();
    await page.hover('.neuron >> nth=3');
    await page.waitForFunction((before) => document.querySelector('.output canvas').toDataURL() !== before, plain);
    await page.mouse.move(0, 0);
    await page.waitForFunction((before) => document.querySelector('.output canvas').toDataURL() === before, plain);

    const link = page.locator('.links line').first();
    assert.match(await link.textContent(), /x₁ → neuron 1 of layer 1: weight -?\d\.\d{3}/);
    await link.focus();
    await page.keyboard.press('Enter');
    await page.fill('#weight-value', '-5');
    await page.click('#weight-set');
    await page.waitForFunction(() => document.querySelector('.links line').textContent.endsWith('weight -5.000'));
    assert.equal(await link.getAttribute('class'), 'negative');
    assert.notEqual(await output(), plain, 'the output did not follow the new weight');
    await page.screenshot({ path: `${screenshotDir}lab-network.png` });
    assert.deepEqual(errors, []);
  });

  test('?embed=1 shows one view for an iframe, with the controls the address hides left out', async () => {
    const { page, errors } = await openPage(context, '/?embed=1&hide=noise,seed&regenerate_hide=true&dataset=spiral#lab');
    await page.waitForSelector('#play:not([disabled])');
    assert.equal(await page.locator('nav').isVisible(), false);
    for (const hidden of ['noise', 'seed', 'regenerate']) {
      assert.equal(await page.locator(`.lab [data-control="${hidden}"]`).isVisible(), false, hidden);
    }
    assert.equal(await page.getByLabel('Dataset').inputValue(), 'spiral');
    const full = new URL(await page.getByText('Open in Neuroglow').getAttribute('href'));
    assert.equal(full.searchParams.get('embed'), null);
    assert.equal(full.searchParams.get('dataset'), 'spiral');
    await page.click('#step');
    await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) === 1);
    await page.screenshot({ path: `${screenshotDir}lab-embedded.png` });
    assert.deepEqual(errors, []);
  });

  test('regression on the plane: a linear output learns the tilt', async () => {
    const { page, errors } = await openPage(context, '/?dataset=plane&hidden=4&lr=0.01&seed=2#lab');
    await page.getByText('Regression: linear output, mean squared error').waitFor();
    await page.waitForSelector('#play:not([disabled])');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#stats').dataset.epoch) >= 30, null, { timeout: 60_000 });
    await page.click('#play');
    const testLoss = Number(await page.locator('#stats').getAttribute('data-test-loss'));
    assert.ok(testLoss < 0.02, `test mean squared error ${testLoss}`);
    await page.check('text=Discretize output');
    await page.screenshot({ path: `${screenshotDir}lab-regression.png` });
    assert.deepEqual(errors, []);
  });
});
