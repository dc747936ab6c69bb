#!/usr/bin/env node
/**
 * The `stb` binary: runs the program on `process.argv`, aborts work on Ctrl-C (a second Ctrl-C
 * exits at once), and exits with the code `runCli` resolves to.
 *
 * The signal handlers are installed before the program is loaded (a dynamic import), so a
 * Ctrl-C during start-up is an orderly interruption (exit 130, one `[stb]` line), not a kill.
 */
import { setFlagsFromString } from 'node:v8';
import { limitHeapGrowing } from './heap-growing';

// libpg-query's WebAssembly module is large: V8's optimising tier recompiles it in background
// threads after start-up, about 1 s of CPU and 75 MB of RSS per process (measured on `stb parse`,
// issue 19), for code that only runs on a statement shape not seen before. The baseline compiler
// is enough for that; set before any module is compiled.
setFlagsFromString('--liftoff-only');
// The heap's growing factor (see heap-growing.ts); read at every collection.
limitHeapGrowing();
// V8 allocates the objects of an allocation site (an object literal, say) straight into the old
// generation once they survived young-generation collections at a high rate ("allocation-site
// pretenuring"), and here it did not go back. Early in `stb parse`, three sites' objects survived
// at 100 % (1 446 of 1 446, `--trace-pretenuring`) and were tenured for the rest of the run, so
// their objects died old and paid for mark-compact collections (by a sampling heap profile, the
// largest share of what died old was the parser's per-statement records). Without pretenuring, a
// 100 MiB pgbench log on one pinned core takes 4.7–5.0 s instead of 5.9–6.4 s, with the same output
// and peak RSS; `learn` on 50 MiB 7.3 s instead of 7.9–8.4 s; `generate` and `validate` unchanged
// (issue 19). Read at every decision, so it applies when set here, and in every worker thread.
setFlagsFromString('--no-allocation-site-pretenuring');

const controller = new AbortController();
let interrupts = 0;
const onSignal = (): void => {
  interrupts++;
  if (interrupts > 1) {
    // Temporary outputs are removed by core's exit hook.
    process.stderr.write('[stb] Interrupted again: exiting now.\n');
    process.exit(130);
  }
  controller.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// `stb generate -o - | head`: a closed pipe is a normal end, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

// Node exits when nothing is left to wait for, even while a command's promise is pending (a
// stream that never ends): that would be exit 0 without output. Make it a loud internal error.
let settled = false;
process.on('beforeExit', () => {
  if (settled) return;
  settled = true;
  process.stderr.write(
    '[stb] The command stopped before it finished (nothing left to wait for). This is a bug: rerun with `--debug` and report it.\n',
  );
  process.exitCode = 70;
});

async function main(): Promise<number> {
  const { runCli } = await import('./program');
  if (controller.signal.aborted) {
    process.stderr.write('[stb] Interrupted before the command started.\n');
    return 130;
  }
  return runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
  });
}

main().then(
  (code) => {
    settled = true;
    process.exitCode = code;
    // Interrupted, and the command has written what it writes: nothing left may hold the exit,
    // such as a connect to a database that does not answer, which keeps its socket until its
    // timeout (10 s) after `stb bench` gave up on it.
    if (code === 130) process.exit(130);
  },
  (err: unknown) => {
    settled = true;
    process.stderr.write(
      `[stb] Unexpected failure: ${String(err)}. This is a bug: rerun with \`--debug\` and report it.\n`,
    );
    process.exitCode = 70;
  },
);
