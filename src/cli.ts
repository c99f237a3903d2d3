#!/usr/bin/env node
// kubetrail command line: serve (webhook + informers), replay (audit logs), demo, query (read path).
import { Command, CommanderError } from 'commander';
import { serveCommand } from './commands/serve.ts';
import { replayCommand } from './commands/replay.ts';
import { demoCommand } from './commands/demo.ts';
import { queryCommand } from './commands/query.ts';
import { diagnoseCommand } from './commands/diagnose.ts';
import { log } from './core/log.ts';

export function buildProgram(): Command {
  const program = new Command('kubetrail')
    .description('Control-plane tracer for Kubernetes: audit events, watch changes and Events become per-object traces')
    .version('0.1.0')
    .showHelpAfterError();
  program.addCommand(serveCommand());
  program.addCommand(replayCommand());
  program.addCommand(demoCommand());
  program.addCommand(queryCommand());
  program.addCommand(diagnoseCommand());
  return program;
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    log.debug({ err }, 'command failed');
    process.stderr.write(`kubetrail: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

if (import.meta.main) void main();
