import type { QueryTemplate, TraceEvent } from '@stb/core';
import { createRng } from '@stb/core';
import type { ModelArtifact } from '../src/index';
import {
  createModelRegistry,
  createWorkloadSampler,
  fitWorkloadModel,
} from '../src/index';
import type { LoadedTrace } from './helpers/real-log';
import { loadSampleTrace } from './helpers/real-log';

/**
 * Real sysbench `oltp_read_write` (MariaDB 10.11 general log, text protocol, 4 threads, 196
 * transactions), through @stb/parser and @stb/extractor. A transaction is 20 statements: BEGIN,
 * 10 point selects, 4 range selects (simple, SUM, ORDER BY, DISTINCT), an index UPDATE, a
 * non-index UPDATE, a DELETE and an INSERT of the same id, COMMIT; each statement picks its table
 * (sbtest1/sbtest2) at random, so templates differ from one transaction to the next.
 *
 * What a Markov chain of order ≤ 3 can keep: the order of statement kinds and the DELETE → INSERT
 * id reuse, exactly. What it cannot: the count of 10 point selects. With the table random, no
 * context of ≤ 3 templates tells how many point selects came before, so their number is
 * geometric with mean 10 (about 4 % of generated transactions have exactly 10; HMMs with 20–30
 * states trained by Baum-Welch did not find the positional structure either). The tests assert
 * the kind order with the point-select run collapsed, and the mean run length.
 */
type Kind =
  'B' | 'P' | 'r1' | 'r2' | 'r3' | 'r4' | 'u1' | 'u2' | 'd' | 'i' | 'C';

function kindOf(t: QueryTemplate): Kind | undefined {
  const x = t.text;
  if (x === 'BEGIN') return 'B';
  if (x === 'COMMIT') return 'C';
  if (x.startsWith('SELECT c FROM') && x.endsWith('WHERE id = $1')) return 'P';
  if (x.startsWith('SELECT DISTINCT')) return 'r4';
  if (x.includes('ORDER BY')) return 'r3';
  if (x.startsWith('SELECT SUM')) return 'r2';
  if (x.includes('BETWEEN')) return 'r1';
  if (x.includes('SET k = k +')) return 'u1';
  if (x.includes('SET c =')) return 'u2';
  if (x.startsWith('DELETE')) return 'd';
  if (x.startsWith('INSERT')) return 'i';
  return undefined;
}

const TXN: Kind[] = ['B', ...Array<Kind>(10).fill('P'), 'r1', 'r2', 'r3'];
TXN.push('r4', 'u1', 'u2', 'd', 'i', 'C');
/** The kind order with the run of point selects collapsed to one. */
const SHAPE = ['B', 'P', 'r1', 'r2', 'r3', 'r4', 'u1', 'u2', 'd', 'i', 'C'];

interface Statement {
  kind: Kind | undefined;
  id: unknown;
}

/** Transactions (BEGIN … COMMIT) of one session's statements. */
function transactions(statements: Statement[]): Statement[][] {
  const out: Statement[][] = [];
  let cur: Statement[] | undefined;
  for (const s of statements) {
    if (s.kind === 'B') cur = [s];
    else if (cur) {
      cur.push(s);
      if (s.kind === 'C') {
        out.push(cur);
        cur = undefined;
      }
    }
  }
  return out;
}

const collapse = (kinds: (Kind | undefined)[]): (Kind | undefined)[] =>
  kinds.filter((k, i) => !(k === 'P' && kinds[i - 1] === 'P'));

let trace: LoadedTrace;
let kinds: Map<string, Kind | undefined>;
const registry = createModelRegistry();

beforeAll(async () => {
  trace = await loadSampleTrace(
    'mariadb-sysbench-text',
    'mariadb_general.log.gz',
  );
  kinds = new Map(trace.templates.map((t) => [t.id, kindOf(t)]));
});

async function* stream(events: TraceEvent[]): AsyncGenerator<TraceEvent> {
  yield* events;
}

it("the pipeline yields the source: 3920 statements (3921 logged, less the capture's sql_log_off), 196 transactions of exactly 20 statements", () => {
  expect(trace.header.dialect).toBe('mysql');
  expect(trace.events).toHaveLength(3920);
  const bySession = new Map<string, Statement[]>();
  for (const e of trace.events) {
    let list = bySession.get(e.sessionId);
    if (!list) bySession.set(e.sessionId, (list = []));
    list.push({ kind: kinds.get(e.templateId), id: e.params[0]?.v });
  }
  const txns = [...bySession.values()].flatMap(transactions);
  expect(txns).toHaveLength(196);
  for (const t of txns) expect(t.map((s) => s.kind)).toEqual(TXN);
});

describe.each([1, 3])('markov order %i on the sysbench log', (order) => {
  let artifact: ModelArtifact;
  let txns: Statement[][];

  beforeAll(async () => {
    artifact = await fitWorkloadModel(() => stream(trace.events), {
      catalog: trace.templates,
      header: trace.header,
      model: registry.get('markov'),
      modelOptions: { order },
      seed: 1,
    });
    const sampler = createWorkloadSampler(artifact, { registry });
    txns = [];
    for (let s = 0; s < 30; s++) {
      const rng = createRng(9).derive(s);
      const state = sampler.newSession(rng);
      const statements: Statement[] = [];
      for (const id of sampler.sequence.nextSession(rng))
        statements.push({
          kind: kinds.get(id),
          id: sampler.params(id, state, rng, 1.7e15)[0]?.v,
        });
      txns.push(...transactions(statements));
    }
  });

  it('keeps the statement-kind order in >= 95 % of generated transactions', () => {
    expect(artifact.source).toMatchObject({ events: 3920, templates: 20 });
    expect(txns.length).toBeGreaterThan(500);
    const shaped = txns.filter(
      (t) => collapse(t.map((s) => s.kind)).join() === SHAPE.join(),
    );
    expect(shaped.length / txns.length).toBeGreaterThanOrEqual(0.95);
    // the point-select run is geometric with mean 10 (see the file comment): mean within ±1
    const points =
      shaped.reduce((a, t) => a + t.filter((s) => s.kind === 'P').length, 0) /
      shaped.length;
    expect(Math.abs(points - 10)).toBeLessThan(1);
    const length = txns.reduce((a, t) => a + t.length, 0) / txns.length;
    expect(Math.abs(length - 20)).toBeLessThan(1);
  });

  it('reinserts the id it deleted in >= 95 % of generated transactions', () => {
    const pairs = txns
      .map((t) => [
        t.find((s) => s.kind === 'd'),
        t.find((s) => s.kind === 'i'),
      ])
      .filter(([d, i]) => d && i) as [Statement, Statement][];
    expect(pairs.length).toBeGreaterThan(500);
    const same = pairs.filter(([d, i]) => d.id === i.id && d.id !== undefined);
    expect(same.length / pairs.length).toBeGreaterThanOrEqual(0.95);
  });
});
