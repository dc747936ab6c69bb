import { TemplateCatalog, createRng, computeTemplateId } from '@stb/core';
import { runBench } from '@stb/bench';
const text = 'SELECT abalance FROM pgbench_accounts WHERE aid = $1';
const POINT = { kind: 'template', id: computeTemplateId('postgres', text), text, queryType: 'SELECT', tables: [], slots: [] };
const rng = createRng(7);
async function* events() { for (let i = 0; ; i++) yield { kind: 'event', startUs: i, sessionId: 'c' + (i % 8), templateId: POINT.id, params: [{ t: 'int', v: 1 + rng.int(200000) }] }; }
const r = await runBench({ templates: new TemplateCatalog([POINT]), events: events() }, { target: 'postgres://postgres@127.0.0.1:5432/stb_h16', mode: 'closed', connections: 8, durationSeconds: 4, warmupSeconds: 0 });
console.log('STBCOUNT', r.overall.count, r.overall.qps, r.durationSeconds);
