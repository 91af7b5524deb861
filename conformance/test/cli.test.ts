import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { minimalTrace, runCli, tempDir, writeJson } from './cli-helpers.js';

/** Asserts exit status 2 with exactly one stderr line containing `fragment`, and nothing on stdout. */
function expectUsageError(run: { code: number; stdout: string; stderr: string }, fragment: string): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).toContain(fragment);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('cli usage errors', () => {
  it('rejects a negative run count', async () => {
    expectUsageError(await runCli(['check', '--runs', '-5']), '--runs -5 is out of range');
  });

  it('rejects nine cpus', async () => {
    expectUsageError(await runCli(['check', '--cpus', '9']), '--cpus 9 is out of range; use a whole number from 1 to 4');
  });

  it('rejects no-smp with two cpus', async () => {
    expectUsageError(await runCli(['check', '--no-smp', '--cpus', '2']), 'use --cpus 1 or drop --no-smp');
  });

  it('rejects an unknown option', async () => {
    expectUsageError(await runCli(['check', '--frobnicate']), "unknown option '--frobnicate'");
  });

  it('rejects an unknown implementation', async () => {
    expectUsageError(await runCli(['check', '--impl', 'nosuch']), '--impl nosuch is not a known implementation');
  });

  it('rejects a bad misuse rate', async () => {
    expectUsageError(await runCli(['check', '--misuse-rate', '2']), '--misuse-rate 2 is invalid');
  });

  it('rejects a missing trace file', async () => {
    const file = join(tempDir(), 'absent.json');
    expectUsageError(await runCli(['replay', file]), `trace file ${file} not found`);
  });

  it('rejects a trace step with a negative cpu', async () => {
    const file = writeJson(tempDir(), 'negative-cpu.json', minimalTrace({ cpu: -1, call: 'lwkt_switch' }));
    expectUsageError(await runCli(['replay', file]), "step 0: step 'lwkt_switch' has an invalid field /cpu");
  });

  it('rejects a trace step missing a field', async () => {
    const file = writeJson(tempDir(), 'missing-td.json', minimalTrace({ cpu: 0, call: 'lwkt_schedule' }));
    expectUsageError(await runCli(['replay', file]), "step 0: step 'lwkt_schedule' is missing field /td");
  });

  it('rejects a directory as trace file', async () => {
    const dir = tempDir();
    expectUsageError(await runCli(['replay', dir]), `trace file ${dir} is a directory`);
  });

  it('rejects --out naming a file', async () => {
    const file = writeJson(tempDir(), 'taken.json', '{}');
    expectUsageError(await runCli(['check', '--impl', 'model', '--runs', '1', '--out', file]), `--out ${file} is a file, not a directory`);
  });

  it('rejects a malformed trace file', async () => {
    const file = writeJson(tempDir(), 'bad.json', '{"schema": ');
    expectUsageError(await runCli(['replay', file]), 'is not valid JSON');
  });

  it('rejects a trace that breaks the schema', async () => {
    const file = writeJson(tempDir(), 'noconfig.json', { ...minimalTrace(), config: undefined });
    expectUsageError(await runCli(['replay', file]), 'is invalid at');
  });

  it('rejects a trace with an unknown call', async () => {
    const file = writeJson(tempDir(), 'call.json', minimalTrace({ cpu: 0, call: 'lwkt_frobnicate' }));
    expectUsageError(await runCli(['replay', file]), "step 0 has unknown call 'lwkt_frobnicate'");
  });

  it('rejects a trace with an out-of-range cpu', async () => {
    const file = writeJson(tempDir(), 'cpu.json', minimalTrace({ cpu: 7, call: 'lwkt_switch' }));
    const run = await runCli(['replay', file]);
    expectUsageError(run, 'step 0 is invalid');
    expect(run.stderr).toContain('7');
  });

  it('rejects a trace with an unknown thread', async () => {
    const file = writeJson(tempDir(), 'td.json', minimalTrace({ cpu: 0, call: 'lwkt_schedule', td: 99 }));
    const run = await runCli(['replay', file]);
    expectUsageError(run, 'step 0 is invalid');
    expect(run.stderr).toContain('99');
  });
});

describe('cli help', () => {
  it.each([[['--help']], [['check', '--help']], [['replay', '--help']]])('prints help for %j', async (args) => {
    const run = await runCli(args);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: lwkt-conformance');
  });
});

describe('cli check and replay', () => {
  const quick = ['--impl', 'model', '--runs', '8', '--max-steps', '40'];

  it('model conforms to itself', async () => {
    const run = await runCli(['check', ...quick, '--out', tempDir()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('conforms: 8 runs');
    expect(run.stdout).toContain('seed 11');
    expect(run.stdout).toContain('seed functions called:');
  });

  it('json report is the only stdout', async () => {
    const run = await runCli(['check', ...quick, '--json', '--out', tempDir()]);
    const report = JSON.parse(run.stdout) as { verdict: string; coverage: { seedFunctions: unknown[] } };
    expect(report.verdict).toBe('conforms');
    expect(report.coverage.seedFunctions).toHaveLength(33);
  });

  it('same seed gives the same bytes', async () => {
    const [dirA, dirB] = [tempDir(), tempDir()];
    const a = await runCli(['check', ...quick, '--seed', '5', '--out', dirA]);
    const b = await runCli(['check', ...quick, '--seed', '5', '--out', dirB]);
    expect(a.stdout.replaceAll(dirA, 'OUT')).toBe(b.stdout.replaceAll(dirB, 'OUT'));
    const files = readdirSync(dirA).sort();
    expect(readdirSync(dirB).sort()).toEqual(files);
    for (const f of files) expect(readFileSync(join(dirB, f), 'utf8')).toBe(readFileSync(join(dirA, f), 'utf8'));
  });

  it('replays saved finding traces with their verdicts', async () => {
    const dir = tempDir();
    await runCli(['check', '--impl', 'model', '--runs', '40', '--max-steps', '60', '--misuse-rate', '0.2', '--out', dir]);
    const files = readdirSync(dir).filter((f) => f.startsWith('finding-'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const run = await runCli(['replay', join(dir, f)]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('verdict: finding (saved verdict: finding, same)');
    }
  });

  it('replays a legal-only panic as a finding', async () => {
    // Witness of finding F3 in spec/findings.md: legal steps that end in the reltoken.not-owned panic.
    const markdown = readFileSync(join(import.meta.dirname, '../../spec/findings.md'), 'utf8');
    const section = markdown.slice(markdown.indexOf('### F3.'), markdown.indexOf('### F4.'));
    const block = section.slice(section.indexOf('```json') + '```json'.length, section.indexOf('```', section.indexOf('```json') + 7));
    const steps = JSON.parse(block) as unknown[];
    const trace = { ...minimalTrace(), implementation: 'impl', verdict: 'finding', steps: steps.map((step) => ({ step, model: { status: 'returned', completed: [], printed: [] }, running: [], differences: [], invariantsFailed: [] })) };
    const file = writeJson(tempDir(), 'panic-finding.json', trace);

    const run = await runCli(['replay', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('verdict: finding (saved verdict: finding, same)');
    expect(run.stdout).toContain('reltoken.not-owned');
  });

  it('replays a fault counterexample with its verdict', async () => {
    const dir = tempDir();
    const check = await runCli(['check', '--impl', 'fault-runqmask-empty', '--runs', '20', '--out', dir]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('counterexample: run 1');
    const file = join(dir, 'counterexample-fault-runqmask-empty-seed11.json');
    expect(check.stdout).toContain(`trace saved to ${file}`);

    const replay = await runCli(['replay', file]);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('verdict: counterexample (saved verdict: counterexample, same)');
    expect(replay.stdout).toContain('state.cpus[0].gd_runqmask: model 4096, impl 0');

    const asModel = await runCli(['replay', file, '--impl', 'model']);
    expect(asModel.code).toBe(0);
    expect(asModel.stdout).toContain('verdict: conforms (saved verdict: counterexample, DIFFERENT)');
  });

  it('replays a trace with its verdict', async () => {
    const file = writeJson(tempDir(), 'ok.json', minimalTrace());
    const run = await runCli(['replay', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('verdict: conforms (saved verdict: conforms, same)');
  });
});

describe('cli launcher', () => {
  it('runs as a child process', () => {
    const bin = new URL('../../bin/lwkt-conformance.js', import.meta.url).pathname;
    const out = execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' });
    expect(out.trim()).toMatch(/^lwkt-conformance \d+\.\d+\.\d+$/);
  });

  it('exits 2 on bad input as a child process', () => {
    const bin = new URL('../../bin/lwkt-conformance.js', import.meta.url).pathname;
    let status = 0;
    let stderr = '';
    try {
      execFileSync(process.execPath, [bin, 'check', '--cpus', '9'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      status = (err as { status: number }).status;
      stderr = (err as { stderr: string }).stderr;
    }
    expect(status).toBe(2);
    expect(stderr).toBe('lwkt-conformance: --cpus 9 is out of range; use a whole number from 1 to 4\n');
  });
});
