// Headless Chromium for the integration tests: the stack's (CHROMIUM_PATH) or Debian's.
import { existsSync } from 'node:fs';
import { inject } from 'vitest';
import { chromium, type Browser } from 'playwright-core';

export async function launchChromium(): Promise<Browser> {
  let path: string | null = null;
  try {
    path = inject('stack')?.chromiumPath ?? null;
  } catch {
    /* not under the integration global setup */
  }
  path ??= existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
  if (!path) throw new Error('no Chromium (apt-get install -y chromium, or CHROMIUM_PATH)');
  return chromium.launch({ executablePath: path, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
}
