// The model views: the text classifier, the generator, digits and the models
// page, with their pretrained models, fine-tuning, evaluation and import/export.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { longTasks, openBrowser, openPage, screenshotDir, watchLongTasks } from './browser.mjs';

const LABELLED = [
  '1\tI loved every minute of it',
  '1\tThe staff were friendly and the food was great',
  '1\tA wonderful, moving film',
  '1\tBest purchase I have made this year',
  '1\tWorks perfectly and looks great',
  '1\tWe will certainly come back',
  '0\tThe battery died after two days',
  '0\tCold food and a very long wait',
  '0\tA boring film with terrible acting',
  '0\tIt broke the first time I used it',
  '0\tRude staff and a dirty room',
  '0\tI would not recommend it to anyone',
].join('\n');

const probability = (page) =>
  page.evaluate(() => document.querySelector('#sentiment-result').dataset.probability);

async function typeSentence(page, text) {
  await page.fill('#sentiment-text', text);
  // Wait until the reading matches the whole sentence: one word span per word.
  await page.waitForFunction(
    (n) => document.querySelectorAll('.words .word').length === n,
    text.split(/\s+/).length,
  );
  return Number(await probability(page));
}

// Opens the text classifier with its fine-tuning form filled in.
async function openClassifierFineTuning(context, epochs, lines = LABELLED) {
  const opened = await openPage(context, '/#text');
  const { page } = opened;
  await page.waitForFunction(() => document.querySelector('#sentiment-result').dataset.probability !== '');
  await page.click('.sentiment summary');
  // Settings read as typed, not as f32's widening (0.0010000000474974513).
  assert.equal(await page.locator('.sentiment').getByLabel('Learning rate').inputValue(), '0.001');
  assert.equal(await page.locator('.sentiment').getByLabel('Validation share').inputValue(), '0.2');
  await page.fill('#sentiment-lines', lines);
  await page.getByLabel('Epochs').first().fill(String(epochs));
  await page.getByLabel('Epochs').first().blur();
  return opened;
}

describe('model views without WebGPU', () => {
  let context;
  before(async () => { context = await openBrowser({ webgpu: false }); });
  after(async () => { await context?.close(); });

  test('the text classifier reads a sentence word by word and its test accuracy matches its card', async () => {
    const { page, errors } = await openPage(context, '/#text');
    await page.waitForFunction(() => document.querySelector('#sentiment-result').dataset.probability !== '');
    const happy = await typeSentence(page, 'What a lovely place with great food');
    const sad = await typeSentence(page, 'Terrible service and the food was awful');
    assert.ok(happy > 0.7, `a happy sentence scored ${happy}`);
    assert.ok(sad < 0.3, `an unhappy sentence scored ${sad}`);
    const steps = await page.$$eval('.words .word', (spans) => spans.map((s) => s.getAttribute('title')));
    assert.match(steps[0], /^after “terrible”: \d+ % positive/);

    await watchLongTasks(page);
    await page.click('#sentiment-evaluate');
    const report = page.locator('.sentiment .report');
    await report.waitFor();
    assert.deepEqual((await longTasks(page)).filter((d) => d > 100), [], 'the page froze while evaluating');
    const accuracy = Number(await report.getAttribute('data-accuracy'));
    const index = await (await page.request.get(new URL('models/index.json', page.url()).href)).json();
    const card = index.models.find((m) => m.name === 'sentiment-lstm').card;
    assert.ok(Math.abs(accuracy - card.test_accuracy) < 0.003, `accuracy ${accuracy}, card ${card.test_accuracy}`);
    assert.equal(await report.locator('.confusion tbody tr').count(), 2);
    assert.equal(await report.locator('.worst li').count(), 5);
    await page.screenshot({ path: `${screenshotDir}text-classifier.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('markup typed by the user is shown as text, never run', async () => {
    const { page, errors } = await openPage(context, '/#text');
    let dialogs = 0;
    page.on('dialog', (d) => { dialogs += 1; d.dismiss(); });
    await page.waitForFunction(() => document.querySelector('#sentiment-result').dataset.probability !== '');
    await page.fill('#sentiment-text', '<img src=x onerror=alert(1)> nice');
    await page.waitForFunction(() => document.querySelectorAll('.words .word').length >= 4);
    assert.equal(await page.locator('.sentiment img').count(), 0);
    assert.equal(dialogs, 0);
    assert.deepEqual(errors, []);
  });

  test('fine-tuning the classifier logs each epoch, keeps the page responsive and evaluates', async () => {
    const { page, errors } = await openClassifierFineTuning(context, 2);
    await watchLongTasks(page);
    await page.click('#sentiment-train');
    await page.locator('.sentiment .report h3', { hasText: 'validation lines (2)' }).waitFor({ timeout: 60_000 });
    const log = await page.locator('.sentiment .log').textContent();
    assert.match(log, /^Epoch 1 - \d+ steps - \d+m?s\/step - \d+ examples\/s - loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: /);
    assert.match(log, /\nEpoch 2 - /);
    assert.deepEqual((await longTasks(page)).filter((d) => d > 100), [], 'the page froze while training');
    // Bad input is explained, and the fine-tuned model keeps answering.
    await page.fill('#sentiment-lines', '1\tonly one line');
    await page.click('#sentiment-train');
    await page.getByRole('alert').filter({ hasText: 'too few' }).waitFor();
    const tuned = await typeSentence(page, 'great food');

    // The fine-tuned model is saved in the browser: a reload brings it back,
    // and "Reset to pretrained" forgets it.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('#sentiment-result').dataset.probability !== '');
    assert.equal(await typeSentence(page, 'great food'), tuned);
    await page.click('nav a[href="#models"]');
    const card = page.locator('.card[data-model="sentiment-lstm"]');
    assert.equal(await card.locator('.origin').getAttribute('data-own'), 'true');
    await card.getByRole('button', { name: 'Reset to pretrained' }).click();
    await card.locator('.origin[data-own="false"]').waitFor();
    await page.reload();
    await page.click('nav a[href="#text"]');
    await page.waitForFunction(() => document.querySelector('#sentiment-result').dataset.probability !== '');
    assert.notEqual(await typeSentence(page, 'great food'), tuned);
    assert.deepEqual(errors, []);
  });

  test('pausing one view\'s training leaves another view free to train', async () => {
    // Enough lines that a hundred epochs outlast the clicks below on a fast machine.
    const { page, errors } = await openClassifierFineTuning(context, 100, Array(5).fill(LABELLED).join('\n'));
    await watchLongTasks(page);
    await page.click('#sentiment-train');
    const classifier = page.locator('.sentiment .training');
    await page.locator('.sentiment .training:not([data-epochs="0"])').waitFor();
    await classifier.getByRole('button', { name: 'Pause' }).click();
    await classifier.getByRole('button', { name: 'Resume' }).waitFor();
    assert.deepEqual((await longTasks(page)).filter((d) => d > 100), [], 'the page froze while training');
    const progressOf = () => classifier.locator('progress').evaluate((p) => p.value);
    // Training stops at its next pause point, a batch or so later: wait until the bar holds still.
    let pausedAt = await progressOf();
    for (let before = -1; before !== pausedAt; pausedAt = await progressOf()) {
      before = pausedAt;
      await page.waitForTimeout(500);
    }

    // The generator trains to the end while the classifier stays paused.
    await page.click('nav a[href="#generate"]');
    await page.waitForSelector('#generator-run:not([disabled])');
    await page.click('text=Fine-tune on your own text');
    await page.fill('#generator-own-text', 'Now is the winter of our discontent made glorious summer. '.repeat(3));
    const epochs = page.locator('.generator').getByLabel('Epochs');
    await epochs.fill('1');
    await epochs.blur();
    await page.click('#generator-train');
    await page.locator('.generator .training[data-state="idle"][data-epochs="1"]').waitFor({ timeout: 120_000 });
    assert.equal(await progressOf(), pausedAt);
    assert.equal(await classifier.getAttribute('data-state'), 'running');

    await page.click('nav a[href="#text"]');
    await classifier.getByRole('button', { name: 'Resume' }).click();
    await page.waitForFunction((at) => document.querySelector('.sentiment .training progress').value > at, pausedAt);
    await classifier.getByRole('button', { name: 'Stop' }).click();
    await page.locator('.sentiment .training[data-state="idle"]').waitFor();

    // Both fine-tuned models were saved; the tests after this one want the pretrained ones.
    await page.click('nav a[href="#models"]');
    for (const name of ['sentiment-lstm', 'shakespeare-char']) {
      const card = page.locator(`.card[data-model="${name}"]`);
      await card.getByRole('button', { name: 'Reset to pretrained' }).click();
      await card.locator('.origin[data-own="false"]').waitFor();
    }
    assert.deepEqual(errors, []);
  });

  test('the generator streams Shakespeare-like text, the same for the same seed', async () => {
    const { page, errors } = await openPage(context, '/#generate');
    const run = async () => {
      await page.waitForSelector('#generator-run:not([disabled])');
      await page.click('#generator-run');
      await page.waitForSelector('#generated[data-state="running"]');
      await page.waitForSelector('#generated[data-state="idle"]', { timeout: 60_000 });
      return page.evaluate(() => document.querySelector('#generated').childNodes[1]?.textContent ?? '');
    };
    await page.getByLabel('Length').fill('120');
    await page.getByLabel('Length').blur();
    await watchLongTasks(page);
    const first = await run();
    assert.equal([...first].length, 120);
    assert.match(first, /[a-z]{3,} [a-z]{2,}/, `not English-looking: ${first}`);
    assert.equal(await run(), first);
    assert.deepEqual((await longTasks(page)).filter((d) => d > 100), [], 'the page froze while generating');
    assert.deepEqual(errors, []);
  });

  test('uploaded files fill the fine-tuning boxes: a CSV of labelled sentences, a text to learn from', async () => {
    const { page, errors } = await openPage(context, '/#text');
    await page.click('text=Fine-tune on your own sentences');
    const csv = 'label,text\n1,"Lovely, kind staff"\n0,"Cold ""fresh"" bread"\n';
    await page.setInputFiles('.sentiment .upload input', { name: 'mine.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.waitForFunction(() => document.querySelector('#sentiment-lines').value !== '');
    assert.equal(await page.inputValue('#sentiment-lines'), '1\tLovely, kind staff\n0\tCold "fresh" bread');
    await page.setInputFiles('.sentiment .upload input', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('1,"never closed') });
    await page.locator('.sentiment .error').filter({ hasText: 'bad.csv' }).waitFor();

    await page.goto(`${page.url().split('#')[0]}#generate`);
    await page.click('text=Fine-tune on your own text');
    await page.setInputFiles('.generator .upload input', { name: 'verse.txt', mimeType: 'text/plain', buffer: Buffer.from('Shall I compare thee') });
    await page.waitForFunction(() => document.querySelector('#generator-own-text').value === 'Shall I compare thee');
    assert.deepEqual(errors, []);
  });

  test('fine-tuning the generator shows what it writes after each epoch', async () => {
    const { page, errors } = await openPage(context, '/#generate');
    await page.waitForSelector('#generator-run:not([disabled])');
    await page.click('text=Fine-tune on your own text');
    const verse = 'To be, or not to be, that is the question: whether tis nobler in the mind to suffer. ';
    await page.fill('#generator-own-text', verse.repeat(4));
    const epochs = page.locator('.generator').getByLabel('Epochs');
    await epochs.fill('2');
    await epochs.blur();
    await page.click('#generator-train');
    await page.waitForFunction(() => document.querySelectorAll('#generator-samples li').length === 2, null, { timeout: 120_000 });
    const samples = await page.$$eval('#generator-samples pre', (p) => p.map((e) => e.textContent));
    assert.ok(samples.every((s) => [...s].length === 120), samples.join(' | '));
    assert.match(await page.locator('.generator .log').textContent(), /Epoch 2 - /);
    assert.deepEqual(errors, []);
  });

  test('a drawn digit is classified and the digits test accuracy matches the card', async () => {
    const { page, errors } = await openPage(context, '/#digits');
    await page.waitForSelector('#digits-evaluate:not([disabled])');
    const pad = await page.locator('#digit-pad').boundingBox();
    const draw = async (points) => {
      await page.click('#digit-clear');
      await page.mouse.move(pad.x + pad.width * points[0][0], pad.y + pad.height * points[0][1]);
      await page.mouse.down();
      for (const [x, y] of points.slice(1)) await page.mouse.move(pad.x + pad.width * x, pad.y + pad.height * y, { steps: 4 });
      await page.mouse.up();
      await page.waitForFunction(() => document.querySelector('#digit-probabilities').dataset.best !== '');
      return page.evaluate(() => document.querySelector('#digit-probabilities').dataset.best);
    };
    assert.equal(await draw([[0.5, 0.15], [0.5, 0.85]]), '1');
    const ring = [...Array(25).keys()].map((i) => {
      const angle = (i / 24) * 2 * Math.PI;
      return [0.5 + 0.25 * Math.sin(angle), 0.5 - 0.33 * Math.cos(angle)];
    });
    assert.equal(await draw(ring), '0');

    // The keyboard draws too: lift the pen to the top, put it down, go down.
    await page.click('#digit-clear');
    await page.focus('#digit-pad');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Space');
    for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Space');
    await page.waitForFunction(() => document.querySelector('#digit-probabilities').dataset.best === '1');
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => document.querySelector('#digit-probabilities').dataset.best === '');
    assert.equal(await draw(ring), '0');
    const bars = await page.$$eval('#digit-probabilities .value', (v) => v.map((e) => parseFloat(e.textContent)));
    assert.equal(bars.length, 10);
    assert.ok(Math.abs(bars.reduce((a, b) => a + b, 0) - 100) < 6, `probabilities sum to ${bars}`);

    await page.click('#digits-evaluate');
    const report = page.locator('.digits .report');
    await report.waitFor();
    const accuracy = Number(await report.getAttribute('data-accuracy'));
    assert.ok(Math.abs(accuracy - 0.9777) < 0.003, `accuracy ${accuracy}`);
    assert.equal(await report.locator('.confusion tbody tr').count(), 10);
    await page.screenshot({ path: `${screenshotDir}digits.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });

  test('the models page shows the cards, exports the current model in every format and imports each back', async () => {
    const { page, errors } = await openPage(context, '/#models');
    await page.locator('.card').first().waitFor();
    assert.equal(await page.locator('.card').count(), 4);
    await page.click('nav a[href="#digits"]');
    await page.waitForSelector('#digits-evaluate:not([disabled])');
    await page.click('nav a[href="#models"]');
    const card = page.locator('.card[data-model="digits-mlp"]');
    const downloads = [];
    page.on('download', (d) => downloads.push(d));
    const exportAs = async (format, expected) => {
      downloads.length = 0;
      await card.getByLabel('Export format').selectOption(format);
      await card.getByRole('button', { name: 'Export current' }).click();
      await card.getByRole('status').filter({ hasText: 'Downloaded' }).waitFor();
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(downloads.map((d) => d.suggestedFilename()).sort(), expected);
      return Promise.all(downloads.map(async (d) => ({ name: d.suggestedFilename(), buffer: fs.readFileSync(await d.path()) })));
    };
    const ours = await exportAs('neuroglow', ['digits-mlp.model.json', 'digits-mlp.model.safetensors']);
    const tfjs = await exportAs('tfjs', ['digits-mlp-shard1of1.bin', 'digits-mlp.json']);
    assert.match(await card.getByRole('status').textContent(), /TensorFlow\.js, to predict and train/);
    const topology = JSON.parse(tfjs.find((f) => f.name.endsWith('.json')).buffer);
    assert.equal(topology.format, 'layers-model');
    const torch = await exportAs('pytorch', ['model.json', 'model.py', 'state_dict.safetensors']);
    assert.match(torch.find((f) => f.name === 'model.py').buffer.toString(), /self\.dense = nn\.Linear\(64, 128\)/);

    // Each import's result replaces the last one's: a refusal, then a model, in turn.
    const importing = async (files, outcome) => {
      await page.setInputFiles('#import-files', files);
      await page.click('#import');
      return outcome.waitFor();
    };
    const refused = (text) => page.locator('.models > .error', { hasText: text });
    const imported = page.locator('.models > .message', { hasText: 'into the Digits view' });
    const corrupt = ours.map((f) => (f.name.endsWith('.safetensors') ? { ...f, buffer: Buffer.from('not weights') } : f));
    await importing(corrupt, refused(/safetensors|weights|header/i));
    await importing(ours, imported);
    await importing(tfjs.filter((f) => f.name.endsWith('.json')), refused('digits-mlp-shard1of1.bin` is missing'));
    await importing(tfjs, imported);
    await importing(corrupt, refused(/safetensors|weights|header/i));
    await importing(torch, imported);
    assert.deepEqual(errors, []);
  });
});

describe('model views with --enable-unsafe-webgpu', () => {
  let context;
  before(async () => { context = await openBrowser({ webgpu: true }); });
  after(async () => { await context?.close(); });

  test('the classifier fine-tunes on WebGPU and the badge says so', async () => {
    const { page, errors } = await openClassifierFineTuning(context, 1);
    assert.equal(await page.locator('[data-backend]').getAttribute('data-backend'), 'webgpu');
    await page.click('#sentiment-train');
    await page.locator('.sentiment .report h3', { hasText: 'validation lines' }).waitFor({ timeout: 120_000 });
    assert.match(await page.locator('.sentiment .log').textContent(), /^Epoch 1 - /);
    assert.equal(await page.locator('[data-backend]').getAttribute('data-backend'), 'webgpu');
    assert.deepEqual(errors, []);
  });
});
