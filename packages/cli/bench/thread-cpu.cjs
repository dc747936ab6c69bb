// Preloaded (`node -r`) by the parse benches into `stb parse`: each thread writes its own CPU time
// (user + system, from /proc/thread-self/stat, in clock ticks of 1/100 s) to
// $STB_THREAD_CPU_DIR/<thread>.txt, every 20 ms and at its exit (a thread may be ended by its
// parent before its exit handler runs: the last sample then stands, at most 20 ms short).
// <thread> is `main`, `parse` (the parse thread, whose data names the inputs) or `extract-<id>`.
// Not product code: the CLI never loads it.
'use strict';
const { isMainThread, threadId, workerData } = require('node:worker_threads');
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const dir = process.env.STB_THREAD_CPU_DIR;
if (dir) {
  const name = isMainThread
    ? 'main'
    : workerData && Array.isArray(workerData.inputs)
      ? 'parse'
      : `extract-${threadId}`;
  const file = path.join(dir, `${name}.txt`);
  const sample = () => {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and
    // 13th of them.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    writeFileSync(file, `${(Number(f[11]) + Number(f[12])) / 100}\n`);
  };
  setInterval(sample, 20).unref();
  process.on('exit', sample);
}
