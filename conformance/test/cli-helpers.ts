// Runs the CLI in-process with captured output.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/main.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (t) => { stdout += t; },
    stderr: (t) => { stderr += t; },
    progress: false,
  });
  return { code, stdout, stderr };
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'lwkt-conformance-test-'));
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

/** Builds a minimal valid trace of one step, by default lwkt_switch by the idle thread of cpu 0. */
export function minimalTrace(step: Record<string, unknown> = { cpu: 0, call: 'lwkt_switch' }): Record<string, unknown> {
  return {
    schema: 'lwkt-trace/1',
    tool: 'lwkt-conformance test',
    config: { ncpus: 2, smp: true, invariants: true, untimelySwitch: false, panicOnCscount: false },
    implementation: 'model',
    seed: 1,
    verdict: 'conforms',
    firstDifference: null,
    findings: [],
    steps: [{ step, model: { status: 'returned', completed: [], printed: [] }, running: [0, 1], differences: [], invariantsFailed: [] }],
  };
}
