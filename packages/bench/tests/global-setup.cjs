// Worker threads load the built dist (STYLE.md §11), so worker tests would silently run stale
// code after a source edit: rebuild once per jest run when any source file is newer than the
// built worker. CI builds first (nx build), so there this is a no-op.
const { execFileSync } = require('node:child_process');
const { readdirSync, statSync } = require('node:fs');
const path = require('node:path');

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
      newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

module.exports = async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  let built = 0;
  try {
    built = statSync(path.join(root, 'dist', 'worker.cjs')).mtimeMs;
  } catch {
    built = 0;
  }
  if (newestMtime(path.join(root, 'src')) <= built) return;
  process.stderr.write('[bench tests] dist is stale: building (npx tsup)\n');
  execFileSync('npx', ['tsup'], { cwd: root, stdio: 'ignore' });
};
