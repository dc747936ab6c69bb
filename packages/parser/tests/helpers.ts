import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import type { RawQueryEvent } from '@stb/core';
import { parseLogs } from '../src/index';
import type { ParseLogsOptions, ParseSummary } from '../src/index';

export const SAMPLES = path.resolve(__dirname, '../../../fixtures/samples');
export const GENERATED = path.resolve(__dirname, 'fixtures/generated');

/**
 * How a property test damages a log: cut it short, drop a line, insert a garbage line or cut a
 * line in half; `at` (reduced modulo the text's length or its line count) says where.
 */
export const corruption = fc.record({
  how: fc.constantFrom('truncate', 'drop-line', 'garbage-line', 'cut-line'),
  at: fc.nat(),
});

/**
 * A scratch directory for one test file, removed after its tests (call at the file's top level),
 * and `file(name, data)`, which writes a file there and returns its path.
 */
export function scratchDir(prefix: string): {
  dir: string;
  file: (name: string, data: string | Buffer) => string;
} {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, data: string | Buffer): string => {
    const f = path.join(dir, name);
    writeFileSync(f, data);
    return f;
  };
  return { dir, file };
}

const cache = new Map<
  string,
  Promise<{ events: RawQueryEvent[]; summary: ParseSummary }>
>();

/** {@link parseAll} with default options, memoised per file within a test file. */
export function parseCached(
  file: string,
): Promise<{ events: RawQueryEvent[]; summary: ParseSummary }> {
  let p = cache.get(file);
  if (!p) {
    p = parseAll(file);
    cache.set(file, p);
  }
  return p;
}

export async function parseAll(
  inputs: string | string[],
  options: ParseLogsOptions = {},
): Promise<{ events: RawQueryEvent[]; summary: ParseSummary }> {
  const run = parseLogs(inputs, options);
  const events: RawQueryEvent[] = [];
  for await (const ev of run) events.push(ev);
  return { events, summary: run.summary() };
}

/** An event reduced to what every PostgreSQL destination must agree on. */
export interface Comparable {
  sql: string;
  params: RawQueryEvent['params'];
  startUs: number | undefined;
  durationUs: number | undefined;
  failed: boolean;
  user: string | undefined;
  database: string | undefined;
  application: string | undefined;
  preparedName: string | undefined;
}

/**
 * Events grouped by session (sessions ordered by their first event), each session's events in
 * log order. Different destinations may interleave sessions differently (the logger collects
 * backends' messages through one pipe), never the events of one session.
 */
export function comparable(
  events: readonly RawQueryEvent[],
  timeResolutionUs = 1,
): Comparable[][] {
  const sessions = new Map<string, Comparable[]>();
  for (const e of events) {
    let list = sessions.get(e.sessionId);
    if (!list) {
      list = [];
      sessions.set(e.sessionId, list);
    }
    list.push({
      sql: e.sql,
      params: e.params,
      startUs:
        e.startUs === undefined
          ? undefined
          : Math.floor(e.startUs / timeResolutionUs),
      durationUs: e.durationUs,
      failed: e.error !== undefined,
      user: e.user,
      database: e.database,
      application: e.application,
      preparedName: e.preparedName,
    });
  }
  const keyed = [...sessions.values()].map((list) => ({
    list,
    key: JSON.stringify(list),
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.list);
}

export function countBy<T>(
  items: readonly T[],
  key: (t: T) => string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) {
    const k = key(i);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
