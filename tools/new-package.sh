#!/usr/bin/env bash
# Scaffolds packages/<name> with the repo's package layout. Usage: tools/new-package.sh <name> "<description>"
set -euo pipefail
name=$1; desc=$2; dir=packages/$name
mkdir -p "$dir/src" "$dir/tests"
cat > "$dir/package.json" <<JSON
{
  "name": "@stb/$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "MIT",
  "type": "module",
  "exports": {
    ".": {
      "@stb/source": "./src/index.ts",
      "import": { "types": "./dist/index.d.ts", "default": "./dist/index.js" },
      "require": { "types": "./dist/index.d.cts", "default": "./dist/index.cjs" }
    },
    "./package.json": "./package.json"
  },
  "main": "./dist/index.cjs",
  "module": "./dist/index.js",
  "types": "./dist/index.d.cts",
  "files": ["dist"],
  "sideEffects": false,
  "engines": { "node": ">=20.19" },
  "scripts": {
    "build": "tsup",
    "test": "jest",
    "typecheck": "tsc -p tsconfig.json --noEmit",
    "lint": "eslint src"
  },
  "dependencies": {}
}
JSON
cat > "$dir/tsup.config.ts" <<'TS'
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  shims: true,
  sourcemap: true,
  target: 'node20',
});
TS
cat > "$dir/jest.config.cjs" <<'JS'
module.exports = { ...require('../../jest.preset.cjs'), displayName: '__NAME__' };
JS
sed -i "s/__NAME__/$name/" "$dir/jest.config.cjs"
cat > "$dir/tsconfig.json" <<'JSON'
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "noEmit": true, "types": ["node", "jest"] },
  "include": ["src", "tests"]
}
JSON
cp LICENSE "$dir/LICENSE" 2>/dev/null || true
