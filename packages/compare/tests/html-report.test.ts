import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { createRng } from '@stb/core';
import { chromium } from 'playwright-core';

import {
  compareBenchResults,
  parseRegressionThreshold,
  renderComparisonHtml,
} from '../src/index';
import { lognormal, makeResult } from './helpers/results';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '../test-artifacts');
const required = process.env['STB_REQUIRE_DB'] === '1';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  if (required)
    throw new Error(
      `${CHROMIUM} is missing and STB_REQUIRE_DB=1: install the Debian package \`chromium\`.`,
    );
  console.warn(
    `[compare] Skipping the HTML browser test: ${CHROMIUM} not found (install the Debian package \`chromium\`).`,
  );
}
const browserIt = haveChromium ? it : it.skip;

function report() {
  const rng = createRng(21);
  const run = (slow: number, errors: Record<string, number>) =>
    makeResult([
      {
        templateId: 'a1b2c3d4e5f60718',
        latenciesMs: lognormal(rng, 2000, 0.3),
      },
      {
        templateId: 'slow000000000000',
        latenciesMs: lognormal(rng, 2000, 1 * slow),
      },
      {
        templateId: 'errs000000000000',
        latenciesMs: lognormal(rng, 500, 2),
        errors,
      },
      {
        templateId: `only${slow}`.padEnd(16, '0'),
        latenciesMs: lognormal(rng, 100, 1),
      },
    ]);
  return compareBenchResults(run(1, {}), run(1.5, { '23505': 12 }), {
    thresholds: [parseRegressionThreshold('p95=10%')],
    labels: { baseline: 'before.json', candidate: '<after & "new">.json' },
  });
}

describe('renderComparisonHtml', () => {
  it('is one self-contained document: no scripts, no external references, escaped labels', () => {
    const html = renderComparisonHtml(report());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(
      /<script|<link rel="stylesheet"|https?:\/\/(?!www\.w3\.org)/i,
    );
    expect(html).toContain('&lt;after &amp; &quot;new&quot;&gt;.json');
    expect(html).toContain('23505');
    expect(html).toContain('Only in the baseline');
    expect(html).toContain('FAIL');
  });

  browserIt(
    'renders in headless Chromium with no console errors and no network requests',
    async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, 'compare.html');
      writeFileSync(file, renderComparisonHtml(report()));
      const url = pathToFileURL(file).href;
      const profile = mkdtempSync(join(tmpdir(), 'stb-chromium-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
        viewport: { width: 1280, height: 900 },
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error' || m.type() === 'warning')
            problems.push(`${m.type()}: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(url, { waitUntil: 'load' });
        expect(await page.locator('svg.chart').count()).toBe(2);
        expect(await page.locator('h1').textContent()).toContain('comparison');
        expect(await page.locator('svg.chart circle').count()).toBe(6);
        await page.screenshot({
          path: join(ARTIFACTS, 'compare.png'),
          fullPage: true,
        });
        expect(problems).toEqual([]);
        expect(requests).toEqual([url]);
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    },
    60_000,
  );
});
