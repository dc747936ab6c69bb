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

import { createRng, type TraceEvent } from '@stb/core';
import { chromium } from 'playwright-core';

import { renderHtmlReport, validateTraces } from '../src/index';
import { type MemoryTrace, readSampleTrace } from './helpers/sample-trace';

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
    `[validator] Skipping the HTML browser test: ${CHROMIUM} not found (install the Debian package \`chromium\`).`,
  );
}
const browserIt = haveChromium ? it : it.skip;

/** A plausible "generated" trace: jittered times, some statements swapped within sessions. */
function perturb(events: TraceEvent[]): TraceEvent[] {
  const rng = createRng(7);
  const t0 = events[0]?.startUs ?? 0;
  const out = events.map((e) => ({
    ...e,
    startUs: Math.round(
      t0 + (e.startUs - t0) * 1.15 + rng.exponential(1 / 300),
    ),
    params: e.params.map((p) =>
      p.t === 'int' && rng.next() < 0.3
        ? { t: 'int' as const, v: p.v + rng.int(5000) }
        : p,
    ),
  }));
  for (let i = 1; i < out.length; i++)
    if (rng.next() < 0.04 && out[i]?.sessionId === out[i - 1]?.sessionId) {
      const a = out[i] as TraceEvent;
      const b = out[i - 1] as TraceEvent;
      [a.templateId, b.templateId, a.params, b.params] = [
        b.templateId,
        a.templateId,
        b.params,
        a.params,
      ];
    }
  return out;
}

describe('renderHtmlReport', () => {
  let trace: MemoryTrace;
  beforeAll(async () => {
    trace = await readSampleTrace('pg-tpcb-simple-logduration');
  });

  it('is one self-contained document: no scripts, no external references', async () => {
    const report = await validateTraces(
      {
        catalog: trace.templates,
        events: trace.events,
        label: 'original.jsonl',
      },
      {
        catalog: trace.templates,
        events: perturb(trace.events),
        label: '<generated & "quoted">',
      },
      { minScore: 0.9 },
    );
    const html = renderHtmlReport(report);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(
      /<script|<link rel="stylesheet"|https?:\/\/(?!www\.w3\.org)/i,
    );
    expect(html).toContain('&lt;generated &amp; &quot;quoted&quot;&gt;');
    expect(html).toContain('<svg');
    for (const p of report.properties) expect(html).toContain(p.label);
  });

  browserIt(
    'renders in headless Chromium with no console errors and no network requests',
    async () => {
      const report = await validateTraces(
        {
          catalog: trace.templates,
          events: trace.events,
          label: 'pg-tpcb-simple-logduration',
        },
        {
          catalog: trace.templates,
          events: perturb(trace.events),
          label: 'perturbed copy',
        },
        { minScore: 0.9 },
      );
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = join(ARTIFACTS, 'report.html');
      writeFileSync(file, renderHtmlReport(report));
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
        expect(await page.locator('svg.chart').count()).toBeGreaterThanOrEqual(
          8,
        );
        expect(await page.locator('h1').textContent()).toContain(
          'fidelity report',
        );
        await page.screenshot({
          path: join(ARTIFACTS, 'report.png'),
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
