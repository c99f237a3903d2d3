#!/usr/bin/env node
// kubetrail command line: serve (webhook + informers), replay (audit logs), demo, query (read path).
// This file only checks the Node.js version, then loads the program (src/commands/program.ts):
// on an older Node the commands' imports (node:sqlite, .ts files) would fail with a less clear error.
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';

/** Node >= 24.2: `import.meta.main` and running .ts files directly. Keep in line with package.json engines. */
export const MIN_NODE = [24, 2] as const;

export function nodeVersionError(version = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return `kubetrail needs Node.js ${MIN_NODE.join('.')} or newer, this is Node.js ${version}: run it with scripts/with-node.sh (npm run kubetrail -- ...), which brings Node.js 24`;
}

// import.meta.main is undefined before Node 24.2, so compare the script path as well.
const isMain =
  import.meta.main ??
  (() => {
    try {
      return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
    } catch {
      return false;
    }
  })();
if (isMain) {
  const tooOld = nodeVersionError();
  if (tooOld) {
    process.stderr.write(`kubetrail: ${tooOld}\n`);
    process.exit(1);
  }
  const { main } = await import('./commands/program.ts');
  await main();
}
