/**
 * Example 2: score a generated trace against the original and gate on the score, e.g. as a CI
 * step after regenerating a workload. Exit code 0 when the composite score reaches the
 * threshold, 1 when it does not, 2 on bad input.
 *
 * Usage: node dist/02-validate-gate/main.js <original> <generated> [min-score] [out-dir]
 * (traces as written by `stb parse` / `stb generate` or example 1)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isStbError, openTrace, writeFileAtomic } from '@stb/core';
import { renderHtmlReport, validateTraces } from '@stb/validator';

const [original, generated, minScoreText = '0.8', outDir = '.'] =
  process.argv.slice(2);

async function main(): Promise<number> {
  if (original === undefined || generated === undefined) {
    console.error(
      'usage: main.js <original> <generated> [min-score] [out-dir]',
    );
    return 2;
  }
  const minScore = Number(minScoreText);
  // Both traces stream through the validator in one pass each; memory is bounded by templates
  // and sketch sizes, not by events.
  const a = await openTrace(original);
  const b = await openTrace(generated);
  const report = await validateTraces(
    { header: a.header, catalog: a.catalog, events: a.events, label: original },
    {
      header: b.header,
      catalog: b.catalog,
      events: b.events,
      label: generated,
    },
    { minScore, weights: { durations: 0 } }, // generated traces here carry no durations
  );

  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(
    path.join(outDir, 'report.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  await writeFile(path.join(outDir, 'report.html'), renderHtmlReport(report));

  for (const p of report.properties)
    console.log(
      `  ${p.label.padEnd(24)} ${p.score === null ? '  n/a' : p.score.toFixed(3)}  weight ${p.weight}`,
    );
  console.log(
    `fidelity ${report.score.toFixed(4)} (minimum ${minScore}): ${report.passed === true ? 'PASS' : 'FAIL'}`,
  );
  return report.passed === true ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // StbErrors carry a stable code and a message that says what to do.
    console.error(
      isStbError(err) ? `${err.code}: ${err.message}` : String(err),
    );
    process.exitCode = 2;
  },
);
