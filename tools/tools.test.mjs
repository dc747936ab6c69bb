// Tests of the repo scripts (node:test; run by `npm test` as `node --test tools/tools.test.mjs`).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  machineInfo,
  mergeSections,
  parseResult,
  renderHeader,
  renderSection,
} from './bench/run.mjs';
import { median, renderTable, summarize } from './bench/ab.mjs';
import { render, typeOf } from './gen-trace-docs.mjs';
import { longFunctions } from './long-functions.mjs';

const machine = {
  cpu: 'Test CPU',
  cores: 2,
  ramGiB: 4,
  node: 'v20.0.0',
  os: 'Linux',
};
const section = (id, value, date = 'D1') =>
  renderSection(
    id,
    {
      title: `T ${id}`,
      command: `node ${id}`,
      rows: [{ metric: 'm', value, unit: 'u', target: '≥ 1' }],
    },
    { date, machine },
  );

test('bench: parses the JSON object on the last stdout line', () => {
  const r = parseResult(
    'progress\n{"title":"x","rows":[{"metric":"a","value":1,"unit":"s"}]}\n\n',
    's',
  );
  assert.equal(r.title, 'x');
  assert.throws(
    () => parseResult('{"title":"x","rows":[]}\nnot json', 's'),
    /last stdout line is not JSON/,
  );
  assert.throws(
    () =>
      parseResult(
        '{"title":"x","rows":[{"metric":"a","value":"1","unit":"s"}]}',
        's',
      ),
    /value \(number\)/,
  );
});

test('bench: a row that is not a reading says so, with its reason, after its target', () => {
  const doc = renderSection(
    's',
    {
      title: 'T',
      rows: [
        { metric: 'read', value: 1.5, unit: 'ratio', target: '≥ 1.6' },
        {
          metric: 'unread',
          value: 2.1,
          unit: 'ratio',
          target: '≥ 1.6',
          notReading: 'ceiling 2.8',
        },
      ],
    },
    { date: 'd', machine: machineInfo() },
  );
  assert.match(doc, /\| read \| 1\.5 \| ratio \| ≥ 1\.6 \|/);
  assert.match(
    doc,
    /\| unread \| 2\.1 \| ratio \| ≥ 1\.6; not a reading: ceiling 2\.8 \|/,
  );
  assert.throws(
    () =>
      parseResult(
        '{"title":"x","rows":[{"metric":"a","value":1,"unit":"s","notReading":true}]}',
        's',
      ),
    /notReading is a string/,
  );
});

test('bench: replaces only the sections of the scripts that ran', () => {
  const a = 'packages/a/bench/a.bench.mjs';
  const b = 'packages/b/bench/b.bench.mjs';
  let doc = mergeSections(
    '',
    new Map([
      [b, section(b, 2)],
      [a, section(a, 1)],
    ]),
    renderHeader(machine, 'D1'),
  );
  assert.ok(doc.indexOf(a) < doc.indexOf(b), 'sections are ordered by script');
  doc = mergeSections(
    doc,
    new Map([[a, section(a, 1234567, 'D2')]]),
    renderHeader(machine, 'D2'),
  );
  assert.match(doc, /\| m \| 1,234,567 \| u \| ≥ 1 \|/);
  assert.match(
    doc,
    new RegExp(`bench:${b} -->\\n## T ${b}[\\s\\S]*\\| m \\| 2 \\|`),
  );
  assert.equal(doc.match(/<!-- bench:/g).length, 2);
  assert.match(doc, /^# Benchmarks\n/);
  assert.match(doc, /Last run: D2 on Test CPU, 2 cores, 4 GiB RAM/);
});

test('bench: reads the machine from os', () => {
  const m = machineInfo();
  assert.ok(m.cores >= 1 && m.ramGiB > 0 && m.node.startsWith('v'));
});

test('trace docs: render field tables from a JSON Schema', () => {
  assert.equal(
    typeOf({ type: 'string', pattern: '^a$' }),
    'string matching `^a$`',
  );
  assert.equal(typeOf({ type: ['string', 'null'] }), 'string or null');
  assert.equal(typeOf({ enum: ['a', 'b'] }), '`"a"`, `"b"`');
  assert.equal(
    typeOf({ type: 'array', items: { $ref: '#/$defs/ParamValue' } }),
    'array of [ParamValue](#paramvalue)',
  );
  const obj = (props, required) => ({
    type: 'object',
    properties: props,
    required,
  });
  const schema = {
    title: 'T',
    $defs: {
      TraceHeader: obj({ kind: { const: 'header', description: 'K | pipe' } }, [
        'kind',
      ]),
      QueryTemplate: obj({ id: { type: 'string' } }, []),
      TraceEvent: obj(
        { outcome: obj({ ok: { type: 'boolean' } }, ['ok']) },
        [],
      ),
      ParamValue: {
        oneOf: [
          obj({
            t: { const: 'int' },
            v: { type: 'integer', description: 'n' },
          }),
        ],
      },
    },
  };
  const md = render(schema);
  assert.match(md, /\| `kind` \| `"header"` \| yes \| K \\\| pipe \|/);
  assert.match(md, /\| `outcome.ok` \| boolean \| yes \|/);
  assert.match(md, /\| `int` \| integer \| n \|/);
});

test('long-functions: lists functions over the limit, with the reason a comment gives', () => {
  const body = (n) =>
    Array.from({ length: n }, (_, i) => `  f${i}();`).join('\n');
  const src = [
    `export function short() {\n${body(3)}\n}`,
    `/** Docs. */\nexport function long() {\n${body(10)}\n}`,
    `/** Docs. */\n// Long function: one state machine.\nconst arrow = () => {\n${body(10)}\n};`,
    `class K {\n  // Long function: a loop\n  // over characters.\n  m() {\n${body(10)}\n  }\n}`,
    `// Long function: a suite of short cases.\ndescribe('x', () => {\n${body(10)}\n});`,
  ].join('\n');
  const found = longFunctions('x.ts', src, 8);
  assert.deepEqual(
    found.map((f) => [f.name, f.lines, f.reason]),
    [
      ['long', 12, undefined],
      ['arrow', 12, 'one state machine.'],
      ['K.m', 12, 'a loop over characters.'],
      ['(anonymous)', 12, 'a suite of short cases.'],
    ],
  );
});

test('bench A/B: medians per side, ratio of the medians and per-round ratios', () => {
  const run = (side, round, qps, lag) => ({
    side,
    round,
    rows: [
      { metric: 'qps', value: qps, unit: 'queries/s' },
      { metric: 'lag p99', value: lag, unit: 'ms' },
    ],
  });
  const runs = [
    run('A', 0, 100, 2),
    run('B', 0, 110, 1),
    run('A', 1, 200, 4),
    run('B', 1, 180, 8),
    run('A', 2, 150, NaN),
    run('B', 2, 150, 2),
  ];
  const [qps, lag] = summarize(runs);
  assert.equal(qps.metric, 'qps');
  assert.equal(qps.medianA, 150);
  assert.equal(qps.medianB, 150);
  assert.equal(qps.ratio, 1);
  assert.deepEqual(qps.perRound, [1.1, 0.9, 1]);
  // a missing value (NaN) drops out of its side and of that round's ratio
  assert.deepEqual(lag.a, [2, 4]);
  assert.equal(lag.medianA, 3);
  assert.equal(lag.medianB, 2);
  assert.deepEqual(lag.perRound, [0.5, 2]);
  assert.equal(median([]), NaN);
  const table = renderTable([qps, lag], { A: 'old', B: 'new' });
  assert.match(
    table[2],
    /^\| qps \| queries\/s \| 150\.0 \(100\.0–200\.0\) \| 150\.0 \(110\.0–180\.0\) \| 1\.000 \| 1\.000 \(0\.900–1\.100\) \|$/,
  );
  assert.match(table.at(-1), /A = old, B = new/);
});
