// The exec adapter end to end: `check --exec` and `replay --exec` on the
// implementation server and on small programs that break the line protocol
// of spec/protocol.md in one way each (conformance/test/programs/).
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Trace } from '../../spec/schema.js';
import { ExecSession } from '../exec/session.js';
import { runCli, tempDir, type CliRun } from './cli-helpers.js';

const programs = fileURLToPath(new URL('./programs/', import.meta.url));
const program = (name: string): string => `node ${join(programs, name)}`;

/** Few and short runs with a small shrink budget: every failing run of a crashing program costs a process start. */
const QUICK = ['--runs', '3', '--max-steps', '10', '--max-shrink-runs', '30', '--step-timeout', '1'];

async function checkExec(command: string, extra: readonly string[] = []): Promise<{ run: CliRun; dir: string; command: string }> {
  const dir = tempDir();
  const run = await runCli(['check', '--exec', command, ...QUICK, ...extra, '--out', dir]);
  return { run, dir, command };
}

/** Asserts a counterexample verdict naming `fragment`, and returns the saved trace. */
function expectFailure({ run, dir, command }: { run: CliRun; dir: string; command: string }, fragment: string): Trace {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(1);
  expect(run.stdout).toContain('counterexample: run 1');
  expect(run.stdout).toContain(fragment);
  const file = join(dir, 'counterexample-exec-seed11.json');
  expect(run.stdout).toContain(`trace saved to ${file}`);
  const trace = JSON.parse(readFileSync(file, 'utf8')) as Trace;
  expect(trace.verdict).toBe('counterexample');
  expect(trace.firstDifference?.differences.join('\n')).toContain(fragment);
  expect(trace.exec?.command).toEqual(command.split(' '));
  return trace;
}

/** Tests whether process `pid` still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('exec: conforming program', () => {
  it('implementation server conforms', async () => {
    const dir = tempDir();
    const run = await runCli(['check', '--exec', 'node --import tsx conformance/exec/impl-server.ts', '--runs', '10', '--max-steps', '40', '--out', dir]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('conforms: 10 runs');
    expect(run.stdout).toContain('hello: name "lwkt-impl", protocol 1, snapshot yes, panic ids yes');
    expect(run.stdout).toContain('program processes started: 1, requests timed out: 0');
  });

  it('session exposes the stated capabilities', () => {
    const session = new ExecSession(['node', join(programs, 'wrong-id.mjs')], { stepTimeoutMs: 1000 });
    try {
      expect(session.start()).toBeNull();
      expect(session.capabilities()).toEqual({
        snapshot: false, panicIds: true, profiles: ['up-scheduling', 'preemption', 'smp', 'mplock-tokens', 'full'],
        cpus: [1, 2, 3, 4], smp: [true, false], invariants: [true, false],
      });
      const impl = session.factory({ ncpus: 1, smp: false, invariants: true, untimelySwitch: false, panicOnCscount: false }) as unknown as { capabilities(): unknown };
      expect(impl.capabilities()).toEqual(session.capabilities());
    } finally {
      session.close();
    }
  });
});

describe('exec: misbehaving programs', () => {
  it('program path does not exist', async () => {
    const checked = await checkExec('/nonexistent/lwkt-program --protocol');
    const { run } = checked;
    const trace = expectFailure(checked, 'boot: implementation failed while booting: the program could not be started (ENOENT');
    expect(trace.steps).toHaveLength(0);
    expect(trace.exec?.name).toBeNull();
    expect(run.stdout).toContain('program processes started: 0');
  });

  it('program is not executable', async () => {
    const file = join(tempDir(), 'not-executable.mjs');
    writeFileSync(file, '#!/usr/bin/env node\n');
    chmodSync(file, 0o644);
    const checked = await checkExec(file);
    expectFailure(checked, 'could not be started (EACCES');
  });

  it('program exits mid-run', async () => {
    const checked = await checkExec(program('exit-mid-run.mjs'));
    const { run } = checked;
    const trace = expectFailure(checked, 'implementation failed: the program exited with status 3 (request {"id":3,"op":"step"');
    expect(trace.steps).toHaveLength(1);
    expect(trace.exec?.stderr).toBe('exit-mid-run: giving up at request 3\n');
    expect(trace.exec?.nondeterministic).toBe(false);
    expect(run.stdout).toContain('the counterexample failed again when replayed from a fresh process');
    expect(run.stdout).toContain('  | exit-mid-run: giving up at request 3');
  });

  it('program closes stdout', async () => {
    const checked = await checkExec(program('close-stdout.mjs'));
    const trace = expectFailure(checked, 'the program closed its standard output while still running');
    expect(trace.exec?.stderr).toContain('close-stdout: closing stdout at request 3');
  });

  it('hanging program is killed with its group', async () => {
    const started = Date.now();
    const checked = await checkExec(program('hang.mjs'), ['--step-timeout', '0.5']);
    const { run } = checked;
    const trace = expectFailure(checked, 'the program did not respond within 0.5 s, so the harness killed its process group');
    // One timeout finds it, shrinking stops after the third, then the recording and the fresh-process replays time out once each.
    expect(run.stdout).toContain('requests timed out: 5');
    expect(Date.now() - started).toBeLessThan(20_000);

    const helper = /hang: helper pid (\d+)/.exec(trace.exec?.stderr ?? '');
    expect(helper).not.toBeNull();
    const pid = Number(helper![1]);
    for (let i = 0; i < 40 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(alive(pid)).toBe(false);
  });

  it('program writes malformed JSON', async () => {
    const checked = await checkExec(program('malformed-json.mjs'));
    const trace = expectFailure(checked, 'the program wrote a line that is not JSON');
    expect(trace.firstDifference?.differences[0]).toContain('output: {"id":3,"ok":tru');
    expect(trace.exec?.stderr).toContain('malformed-json: writing a broken line');
  });

  it('program breaks the response schema', async () => {
    const checked = await checkExec(program('schema-mismatch.mjs'));
    expectFailure(checked, 'does not match the protocol schema (/result/status');
  });

  it('program answers with the wrong id', async () => {
    const checked = await checkExec(program('wrong-id.mjs'));
    expectFailure(checked, 'the program responded with id 4 instead of 3');
  });

  it('program writes an endless line', async () => {
    const checked = await checkExec(program('huge-line.mjs'));
    const trace = expectFailure(checked, 'the program wrote a line longer than the maximum of 8388608 bytes');
    const difference = trace.firstDifference?.differences[0] ?? '';
    // The offending output is quoted, cut to 1 KiB.
    expect(difference).toContain('output: xxxx');
    expect(difference.length).toBeLessThan(1300);
    expect(trace.exec?.stderr).toContain('huge-line: writing an endless line');
  });

  it('program speaks another protocol version', async () => {
    const checked = await checkExec(program('wrong-version.mjs'));
    const { run } = checked;
    const trace = expectFailure(checked, 'hello: the program speaks protocol version 2, but the harness speaks version 1');
    expect(trace.exec?.stderr).toContain('wrong-version: speaking protocol 2');
    // A failed hello is not retried for every run.
    expect(run.stdout).toContain('program processes started: 1,');
  });

  it('nondeterministic program is reported', async () => {
    const marker = join(tempDir(), 'flaky-marker');
    const checked = await checkExec(`${program('flaky.mjs')} ${marker}`, ['--runs', '5', '--max-steps', '20']);
    const { run } = checked;
    const trace = expectFailure(checked, 'running[0]: model ');
    expect(run.stdout).toContain('NONDETERMINISTIC: the counterexample did not fail again when replayed from a fresh process');
    expect(trace.firstDifference?.differences[0]).toMatch(/^running\[0\]: model (\d+), impl 1\d\d$/);
    expect(existsSync(marker)).toBe(true);
    expect(trace.exec?.nondeterministic).toBe(true);
    expect(trace.exec?.stderr).toContain('flaky: shifting the running threads of the third step');
    expect(run.stdout).toContain('program processes started: 2,');
  });
});

describe('exec: stderr of a crash that does not repeat', () => {
  it('keeps the stderr of the crashed process', async () => {
    const marker = join(tempDir(), 'crash-marker');
    const checked = await checkExec(`${program('crash-once.mjs')} ${marker}`, ['--runs', '5', '--max-steps', '20']);
    const trace = expectFailure(checked, 'exited');
    expect(trace.exec?.nondeterministic).toBe(true);
    expect(trace.exec?.stderr).toContain('crash-once: aborting after the third step');
  });
});

describe('exec: replay', () => {
  it('replays an exec trace with the same verdict', async () => {
    const command = program('exit-mid-run.mjs');
    const { dir } = await checkExec(command);
    const file = join(dir, 'counterexample-exec-seed11.json');
    const replay = await runCli(['replay', file, '--exec', command, '--step-timeout', '1']);
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('verdict: counterexample (saved verdict: counterexample, same)');
    expect(replay.stdout).toContain('  | exit-mid-run: giving up at request 3');

    const withoutExec = await runCli(['replay', file]);
    expect(withoutExec.code).toBe(2);
    expect(withoutExec.stderr).toContain('was recorded from the program node');
    expect(withoutExec.stderr).toContain('pass --exec "COMMAND"');
  });
});

describe('exec: usage errors', () => {
  it.each([
    [['--exec', ''], '--exec "" is invalid: the command is empty'],
    [['--exec', '  '], 'the command is empty'],
    [['--exec', "node 'unclosed"], 'the single quote at position 5 is not closed'],
    [['--exec', 'node prog.mjs | tee log'], 'the shell operator | at position 14 is not supported'],
    [['--exec', 'node prog.mjs', '--step-timeout', '0'], '--step-timeout 0 is invalid'],
    [['--exec', 'node prog.mjs', '--step-timeout', '-1'], '--step-timeout -1 is invalid'],
    [['--exec', 'node prog.mjs', '--step-timeout', 'soon'], '--step-timeout soon is invalid'],
    [['--exec', 'node prog.mjs', '--impl', 'model'], "option '--exec <command>' cannot be used with option '--impl <name>'"],
  ])('check %j exits 2', async (args, fragment) => {
    const run = await runCli(['check', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(fragment);
  });
});
