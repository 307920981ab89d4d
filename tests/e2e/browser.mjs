// Launches Debian's headless Chromium through playwright-core for the browser
// tests. `webgpu: true` adds --enable-unsafe-webgpu (SwiftShader's WebGPU);
// without it navigator.gpu has no adapter and the page must fall back to CPU.
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const baseUrl = process.env.NEUROGLOW_URL ?? 'http://127.0.0.1:8080';
export const screenshotDir = new URL('../../target/e2e-screenshots/', import.meta.url).pathname;

export async function openBrowser({ webgpu = false } = {}) {
  const flags = (process.env.CHROMIUM_FLAGS ??
    '--headless --no-sandbox --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync')
    .split(/\s+/).filter(Boolean);
  if (webgpu) flags.push('--enable-unsafe-webgpu');
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'neuroglow-chromium-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: flags,
    viewport: { width: 1100, height: 800 },
  });
  mkdirSync(screenshotDir, { recursive: true });
  return context;
}

// Opens `path` and records console errors and uncaught exceptions.
export async function openPage(context, path) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(baseUrl + path);
  return { page, errors };
}

// Records main-thread tasks of 50 ms or more from now on; `longTasks` reads them.
export async function watchLongTasks(page) {
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((e) => e.duration)))
      .observe({ type: 'longtask', buffered: false });
  });
}

export const longTasks = (page) => page.evaluate(() => window.__longTasks);
