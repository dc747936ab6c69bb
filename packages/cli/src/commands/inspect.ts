import type { Command } from 'commander';
import { detectInputKind, materializeInput } from '@stb/core';
import type { CliContext } from '../context';
import { addExamples } from '../context';
import type { InspectReport, SlotReport } from '../inspect-report';
import { inspectModel, inspectTrace } from '../inspect-report';
import { loadArtifact } from '../learn';
import { parsePositiveInt } from '../options';
import { formatDurationUs, isoOfUs } from '../summaries';

/** Options of `stb inspect`. */
export interface InspectCommandOptions {
  top: number;
  modelPackage?: string[];
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const num = (x: number): string =>
  Number.isInteger(x) ? x.toLocaleString('en-US') : x.toPrecision(4);

function clip(text: string, width: number): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > width ? `${one.slice(0, width - 1)}…` : one;
}

function slotLine(s: SlotReport): string {
  const parts = [`$${s.slot} ${s.type}${s.column ? ` ${s.column}` : ''}`];
  parts.push(`${num(s.values)} values`);
  if (s.min !== undefined && s.max !== undefined)
    parts.push(`range ${num(s.min)}..${num(s.max)}`);
  parts.push(`${s.distinctExact ? '' : '≥'}${num(s.distinct)} distinct`);
  if (s.reuseShare !== undefined && s.reuseShare > 0)
    parts.push(`reused in session ${pct(s.reuseShare)}`);
  const mixed = Object.keys(s.types).filter((t) => t !== s.type);
  if (mixed.length > 0)
    parts.push(
      `also ${mixed.map((t) => `${t} ${num(s.types[t] ?? 0)}`).join(', ')}`,
    );
  return `       ${parts.join(', ')}`;
}

/** The human form of an inspect report. */
export function formatInspectReport(r: InspectReport, top: number): string[] {
  const lines: string[] = [];
  const what =
    r.kind === 'model'
      ? `${r.model?.kind ?? '?'} model (${r.dialect}), fitted ${r.model?.createdAt ?? '?'}`
      : `trace (${r.dialect}), ${r.trace?.source.tool === 'generate' ? 'generated' : 'parsed'} ${r.trace?.createdAt ?? ''}`;
  lines.push(`${r.file}: ${what}`);
  const lit = r.model?.literals;
  if (lit)
    lines.push(
      lit.mode === 'keep-literals'
        ? `Literals: kept verbatim (--keep-literals): ${num(lit.stored)} non-numeric values stored, ${num(lit.rare)} of them seen in fewer than ${lit.minSessions} sessions. The model holds source data; do not share it.`
        : `Literals: ${lit.mode} privacy, k = ${lit.minSessions}: ${num(lit.stored)} non-numeric values stored verbatim (each seen in ≥ ${lit.minSessions} sessions), ${num(lit.rare)} rare; other values are synthesised in their format; numbers as ${lit.numbers === 'sketches' ? 'sketches of their distribution' : 'quantile curves'}.`,
    );
  const span =
    r.startUs !== null && r.endUs !== null
      ? ` over ${formatDurationUs(r.endUs - r.startUs)} (${isoOfUs(r.startUs)} … ${isoOfUs(r.endUs)})`
      : '';
  lines.push(
    `${r.kind === 'model' ? 'Source: ' : ''}${num(r.events)} statements in ${r.sessionsApproximate ? '~' : ''}${num(r.sessions)} sessions, ${r.templates.length} templates${span}`,
  );
  const rate = [
    r.sessionsPerSecond !== null
      ? `${r.sessionsPerSecond.toFixed(3)} sessions/s`
      : null,
    r.eventsPerSecond !== null
      ? `${r.eventsPerSecond.toFixed(1)} statements/s`
      : null,
    r.meanSessionLength !== null
      ? `${r.meanSessionLength.toFixed(1)} statements per session`
      : null,
  ].filter((x) => x !== null);
  if (rate.length > 0) lines.push(`Arrival rate: ${rate.join(', ')}`);
  if (r.concurrency)
    lines.push(
      `Concurrency: ${r.concurrency.source.toFixed(2)} sessions open at once in the source; the model produces about ${r.concurrency.model.toFixed(2)} (×scale)`,
    );
  if (r.coupling !== undefined)
    lines.push(
      r.coupling
        ? `Think-time coupling: sessions' think times move together as in the source (ρ² ${r.coupling.rho2.toFixed(2)} of a think time's normal score is shared; the shared part persists φ ${r.coupling.phi.toFixed(2)} per draw)`
        : 'Think-time coupling: none (sessions draw think times independently)',
    );
  if (r.sessionClasses && r.sessionClasses.length > 0) {
    lines.push(`Session classes (${r.sessionClasses.length}):`);
    for (const c of r.sessionClasses) {
      const len =
        c.meanLength === null
          ? ''
          : `, ending sessions ${c.meanLength.toFixed(1)} statements / ${(c.meanLengthS ?? 0).toFixed(3)} s`;
      lines.push(
        `  ${String(c.id).padStart(2)}  ${c.label}: ${num(c.sessions)} sessions (${pct(c.sessionShare)}), ${num(c.statements)} statements (${pct(c.statementShare)}); ${c.pool} pooled${c.units === 'dispatch' ? ' (transactions dispatched from one schedule)' : ''}, ${c.initial} initial, ${c.arrivalsPerPeriod} arriving per period${len}`,
      );
    }
  }
  const total = Object.values(r.queryTypes).reduce((a, b) => a + b, 0);
  lines.push(
    `Query types: ${Object.entries(r.queryTypes)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${total > 0 ? pct(v / total) : '0%'} (${num(v)})`)
      .join(', ')}`,
  );
  lines.push('');
  const shown = r.templates.slice(0, top);
  lines.push(
    `Templates (${shown.length < r.templates.length ? `top ${shown.length} of ${r.templates.length}` : `${r.templates.length}`}, by count):`,
  );
  lines.push(
    `  ${'#'.padStart(3)}  ${'count'.padStart(9)}  ${'share'.padStart(6)}  ${'type'.padEnd(8)}  ${'id'.padEnd(16)}  text`,
  );
  shown.forEach((t, i) => {
    lines.push(
      `  ${String(i + 1).padStart(3)}  ${num(t.count).padStart(9)}  ${pct(t.share).padStart(6)}  ${t.queryType.padEnd(8)}  ${t.id}  ${clip(t.text, 100)}`,
    );
    for (const s of t.slots) lines.push(slotLine(s));
  });
  const label = new Map(r.templates.map((t) => [t.id, clip(t.text, 40)]));
  lines.push('');
  lines.push(
    `Top transitions${r.transitionsFrom === 'sampled-sessions' ? ' (estimated from 2000 sampled sessions)' : ''}:`,
  );
  for (const x of r.transitions)
    lines.push(
      `  ${pct(x.probability).padStart(6)}  ${label.get(x.from) ?? x.from}  →  ${label.get(x.to) ?? x.to}`,
    );
  return lines;
}

/** `stb inspect`: what is in a model or a trace. */
export function register(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('inspect')
    .description(
      'Show what a model artifact or trace holds: templates with counts and types, parameter summaries, top transitions, arrival rate.',
    )
    .argument('<file>', 'a model artifact or a trace (detected by content)')
    .option(
      '--top <n>',
      'templates and transitions to list',
      parsePositiveInt,
      10,
    )
    .option(
      '--model-package <packages...>',
      'load the model package an artifact needs (when not recorded in it)',
    )
    .action(async (file: string, opts: InspectCommandOptions) => {
      // a pipe is copied to a file first: telling a model from a trace reads its head
      const input = await materializeInput(ctx.resolvePath(file), {
        signal: ctx.signal,
      });
      let report: InspectReport;
      try {
        const kind = await detectInputKind(input.file);
        if (kind === 'model') {
          const { artifact, registry } = await loadArtifact(
            ctx,
            input.copied ? input.file : file,
            opts.modelPackage,
          );
          report = inspectModel(file, artifact, { registry, top: opts.top });
        } else {
          report = await inspectTrace(input.file, {
            top: opts.top,
            signal: ctx.signal,
          });
          report.file = file;
        }
      } finally {
        await input.cleanup();
      }
      if (ctx.globals().json) {
        ctx.io.stdout.write(
          `${JSON.stringify({ command: 'inspect', ...report })}\n`,
        );
        return;
      }
      ctx.io.stdout.write(
        `${formatInspectReport(report, opts.top).join('\n')}\n`,
      );
    });
  addExamples(cmd, [
    'stb inspect model.json',
    'stb inspect trace.jsonl --top 20',
    'stb --json inspect synthetic.jsonl.gz | jq .templates[0]',
  ]);
}
