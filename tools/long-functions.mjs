#!/usr/bin/env node
// `npm run check:functions`: lists the functions in packages/*/src (tests aside) longer than
// 150 lines, and fails when one has no comment saying why. A function's reason is a comment
// right before it (its JSDoc or a line comment, as TypeScript attaches them) containing
// `Long function:` followed by the reason; a nested function needs its own.
//
//   node tools/long-functions.mjs [--max N] [--all] [root]
//     --max N   the line limit (default 150)
//     --all     also list the long functions that carry a reason
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const MAX_LINES = 150;
export const REASON_MARK = 'Long function:';

/** The .ts files under packages/*\/src, tests and declaration files aside. */
export function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules' && name !== '__snapshots__') walk(p);
      } else if (
        /\.(c|m)?tsx?$/.test(name) &&
        !/\.d\.(c|m)?ts$/.test(name) &&
        !/\.(test|spec)\.(c|m)?tsx?$/.test(name)
      )
        out.push(p);
    }
  };
  const pkgs = path.join(root, 'packages');
  for (const pkg of readdirSync(pkgs).sort()) {
    const src = path.join(pkgs, pkg, 'src');
    try {
      if (statSync(src).isDirectory()) walk(src);
    } catch {
      // a package without src/
    }
  }
  return out;
}

/** The name a reader would look for: `Class.method`, `name`, or `(anonymous)` with its line. */
function nameOf(node, sf) {
  const own =
    node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
  const privateName =
    node.name && ts.isPrivateIdentifier(node.name) ? node.name.text : undefined;
  let name = own ?? privateName;
  if (name === undefined && ts.isConstructorDeclaration(node))
    name = 'constructor';
  if (name === undefined) {
    const p = node.parent;
    if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name))
      name = p.name.text;
    else if (p && ts.isPropertyAssignment(p) && ts.isIdentifier(p.name))
      name = p.name.text;
    else if (p && ts.isPropertyDeclaration(p) && p.name)
      name = p.name.getText(sf);
  }
  const cls = ts.findAncestor(node.parent, ts.isClassLike);
  const prefix =
    cls?.name && ts.isClassLike(node.parent) ? `${cls.name.text}.` : '';
  return name === undefined ? '(anonymous)' : `${prefix}${name}`;
}

/** Comments attached before the function, or before the statement/property that holds it. */
function leadingComments(node, text) {
  const holders = [node];
  let p = node.parent;
  // `const f = () => {…}`, `export const f = …`, `x: () => {…}`, `#f = () => {…}`, and a
  // callback's call statement: `describe('…', () => {…});`
  while (
    p &&
    (ts.isVariableDeclaration(p) ||
      ts.isVariableDeclarationList(p) ||
      ts.isVariableStatement(p) ||
      ts.isPropertyAssignment(p) ||
      ts.isPropertyDeclaration(p) ||
      ts.isExportAssignment(p) ||
      ts.isCallExpression(p) ||
      (ts.isExpressionStatement(p) && ts.isCallExpression(p.expression)))
  ) {
    holders.push(p);
    p = p.parent;
  }
  const out = [];
  const seen = new Set();
  for (const h of holders)
    for (const r of ts.getLeadingCommentRanges(text, h.getFullStart()) ?? [])
      if (!seen.has(r.pos)) {
        seen.add(r.pos);
        out.push(text.slice(r.pos, r.end));
      }
  return out.join('\n');
}

const isFunctionLike = (n) =>
  ts.isFunctionDeclaration(n) ||
  ts.isFunctionExpression(n) ||
  ts.isArrowFunction(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessorDeclaration(n) ||
  ts.isSetAccessorDeclaration(n);

/** Every function over `max` lines in one source text: {name, line, lines, reason}. */
export function longFunctions(fileName, text, max = MAX_LINES) {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) {
        const comments = leadingComments(node, text);
        const at = comments.indexOf(REASON_MARK);
        out.push({
          name: nameOf(node, sf),
          line: start + 1,
          lines,
          reason:
            at < 0
              ? undefined
              : comments
                  .slice(at + REASON_MARK.length)
                  .split(/\n\s*(?:\*\/|\*\s*$|\*\s*@|\/\/\s*$)/)[0]
                  .replace(/\n\s*(\*|\/\/)\s?/g, ' ')
                  .trim(),
        });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function main(argv) {
  let max = MAX_LINES;
  let all = false;
  let root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--max') max = Number(argv[++i]);
    else if (a === '--all') all = true;
    else root = path.resolve(a);
  }
  let missing = 0;
  let listed = 0;
  for (const file of sourceFiles(root)) {
    const rel = path.relative(root, file);
    for (const f of longFunctions(rel, readFileSync(file, 'utf8'), max)) {
      if (f.reason === undefined) missing++;
      else if (!all) continue;
      listed++;
      process.stdout.write(
        `${rel}:${String(f.line)} ${f.name}: ${String(f.lines)} lines${
          f.reason === undefined ? ' (no comment says why)' : ` (${f.reason})`
        }\n`,
      );
    }
  }
  if (missing > 0) {
    process.stderr.write(
      `[long-functions] ${String(missing)} function(s) over ${String(max)} lines without a \`${REASON_MARK}\` comment saying why: split them or add the reason.\n`,
    );
    return 1;
  }
  process.stderr.write(
    `[long-functions] no function over ${String(max)} lines without a reason${all ? ` (${String(listed)} with one)` : ''}.\n`,
  );
  return 0;
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
)
  process.exitCode = main(process.argv.slice(2));
