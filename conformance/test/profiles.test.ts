import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findProfile, PROFILES, type Profile } from '../../spec/profiles.js';
import type { SchedulerFactory } from '../../spec/api.js';
import type { Config, StepResult } from '../../spec/schema.js';
import { createModel, LwktModel } from '../../model/index.js';
import { createImpl } from '../../impl/index.js';
import { FAULTS } from '../faults/index.js';
import { scopeOf } from '../generate/scope.js';
import { resolveStep } from '../generate/steps.js';
import { IN_PROCESS_CAPABILITIES, checkClaimedProfile } from '../profiles/capabilities.js';
import { comparableResults, type ComparisonPolicy } from '../profiles/compare.js';
import { profileConfig } from '../profiles/config.js';
import { runCheck, type CheckResult } from '../run/check.js';
import { InputError } from '../run/errors.js';
import { LockstepRun } from '../run/lockstep.js';
import type { VerdictRow } from '../run/verdicts.js';
import { runCli, tempDir } from './cli-helpers.js';

const profile = (name: string): Profile => findProfile(name)!;
const policyOf = (name: string, capabilities = IN_PROCESS_CAPABILITIES): ComparisonPolicy => ({ profile: profile(name), capabilities });
const NO_OPTIONS = { untimelySwitch: false, panicOnCscount: false };

/** Lists every configuration a profile allows. */
function configsOf(p: Profile): Config[] {
  return p.cpus.flatMap((ncpus) => p.smp.flatMap((smp) => p.invariants.map((invariants) => ({ ncpus, smp, invariants, ...NO_OPTIONS }))))
    .filter((c) => c.smp || c.ncpus === 1);
}

function checkUnder(name: string, factory: SchedulerFactory, runs: number, extra: { misuseRate?: number; config?: Config } = {}): CheckResult {
  return runCheck({
    config: extra.config ?? profileConfig(profile(name), NO_OPTIONS, IN_PROCESS_CAPABILITIES),
    factory, implementation: 'under-test', seed: 11, runs, maxSteps: 80,
    misuseRate: extra.misuseRate ?? 0.2, maxShrinkRuns: 300, shrinkFindings: false, policy: policyOf(name),
  });
}

const verdictOf = (result: CheckResult, requirement: string): VerdictRow | undefined =>
  result.verdicts.verdicts.find((v) => v.requirement === requirement);

describe('profile generation', () => {
  it('resolves only steps of the profile', () => {
    const commands = fc.array(fc.tuple(fc.boolean(), fc.nat(999), fc.nat(1023), fc.nat(1023), fc.nat(1023)), { maxLength: 60 });
    const cases = PROFILES.flatMap((p) => configsOf(p).map((config) => [p, config] as const));
    fc.assert(fc.property(fc.constantFrom(...cases), commands, ([p, config], steps) => {
      const scope = scopeOf(p);
      const run = new LockstepRun(config, createModel);
      for (const [misuse, kind, a, b, c] of steps) {
        if (run.stopped) break;
        const resolved = resolveStep(run.state, misuse ? 'misuse' : 'legal', kind, [a, b, c], scope);
        if (resolved === null) break;
        expect(p.calls).toContain(resolved.step.call);
        if (resolved.step.call === 'lwkt_create' && !p.calls.includes('intr')) expect(resolved.step.preemptable).toBe(false);
        run.apply(resolved.step, resolved.misuse);
      }
    }), { numRuns: 60 });
  });

  it.each(PROFILES.map((p) => [p.name, p] as const))('%s check stays inside the profile', (_name, p) => {
    const result = checkUnder(p.name, createModel, 6);
    const made = result.coverage.calls.filter((c) => c.legal + c.misuse > 0).map((c) => c.call);
    for (const call of made) expect(p.calls).toContain(call);
    if (!p.assertions) expect(result.coverage.misuseSteps).toBe(0);
  });

  it('up-scheduling reaches the scheduling calls', () => {
    const result = checkUnder('up-scheduling', createModel, 10);
    const count = (call: string): number => result.coverage.calls.find((c) => c.call === call)?.legal ?? 0;
    for (const call of ['lwkt_create', 'lwkt_schedule', 'lwkt_deschedule', 'lwkt_yield', 'lwkt_setpri', 'lwkt_setpri_self', 'lwkt_switch']) {
      expect(count(call), call).toBeGreaterThan(0);
    }
    expect(result.coverage.reached.switch_count).toBeGreaterThan(10);
  });

  it('preemption reaches preemptions', () => {
    const result = checkUnder('preemption', createModel, 10);
    expect(result.coverage.calls.find((c) => c.call === 'intr')?.legal).toBeGreaterThan(0);
    expect(result.coverage.reached.preempt_hit).toBeGreaterThan(0);
    expect(result.coverage.seedFunctions.find((f) => f.name === 'lwkt_preempt')?.calls).toBeGreaterThan(0);
  });
});

describe('profile configuration', () => {
  it('is inside the profile or rejected', () => {
    const request = fc.record({
      cpus: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      noSmp: fc.boolean(),
      noInvariants: fc.boolean(),
    });
    fc.assert(fc.property(fc.constantFrom(...PROFILES), request, (p, r) => {
      let config: Config;
      try {
        config = profileConfig(p, {
          ...(r.cpus === undefined ? {} : { cpus: r.cpus }),
          ...(r.noSmp ? { smp: false } : {}),
          ...(r.noInvariants ? { invariants: false } : {}),
          ...NO_OPTIONS,
        }, IN_PROCESS_CAPABILITIES);
      } catch (err) {
        expect(err).toBeInstanceOf(InputError);
        return;
      }
      expect(p.cpus).toContain(config.ncpus);
      expect(p.smp).toContain(config.smp);
      expect(p.invariants).toContain(config.invariants);
      if (r.cpus !== undefined) expect(config.ncpus).toBe(r.cpus);
    }), { numRuns: 200 });
  });

  it('sets the sysctls only under full', () => {
    for (const p of PROFILES) {
      const request = { ...NO_OPTIONS, untimelySwitch: true };
      if (p.name === 'full') {
        expect(profileConfig(p, request, IN_PROCESS_CAPABILITIES).untimelySwitch).toBe(true);
      } else {
        expect(() => profileConfig(p, request, IN_PROCESS_CAPABILITIES)).toThrow(`--untimely-switch is outside profile ${p.name}`);
      }
    }
  });

  it('accepts levels below a claim', () => {
    const smpOnly = { ...IN_PROCESS_CAPABILITIES, profiles: ['smp'] };
    expect(() => checkClaimedProfile(profile('up-scheduling'), smpOnly, 'smp-only')).not.toThrow();
    expect(() => checkClaimedProfile(profile('preemption'), smpOnly, 'smp-only')).not.toThrow();
    expect(() => checkClaimedProfile(profile('mplock-tokens'), smpOnly, 'smp-only')).toThrow('--profile mplock-tokens is not claimed');
  });

  it('rejects an unclaimed profile', () => {
    const tiny = { ...IN_PROCESS_CAPABILITIES, profiles: ['up-scheduling'] };
    expect(() => checkClaimedProfile(profile('smp'), tiny, 'tiny')).toThrow(
      '--profile smp is not claimed by implementation tiny, which claims: up-scheduling');
  });
});

describe('profile comparisons', () => {
  const panic: StepResult = { status: 'panic', panic: { id: 'setpri.negative', site: 'lwkt_thread.c:1030' }, completed: [], printed: [] };
  const other: StepResult = { status: 'panic', panic: { id: 'crit_panic.negative', site: 'lwkt_thread.c:1303' }, completed: [], printed: [] };

  it('compares a panic by status without assertions', () => {
    const [model, impl] = comparableResults(panic, other, policyOf('preemption'));
    expect(model).toEqual(impl);
  });

  it('compares panic ids under full', () => {
    const [model, impl] = comparableResults(panic, other, policyOf('full'));
    expect(model).not.toEqual(impl);
  });

  it('skips panic ids the implementation cannot name', () => {
    const { panic: _id, ...statusOnly } = other;
    const [model, impl] = comparableResults(panic, statusOnly, policyOf('full', { ...IN_PROCESS_CAPABILITIES, panicIds: false }));
    expect(model).toEqual(impl);
  });

  it('up-scheduling ignores the rest of the state', () => {
    // The model with every td_comm renamed: outside the scheduling state, inside the full state.
    const renamed: SchedulerFactory = (config) => {
      const model = new LwktModel(config);
      return {
        name: 'renamed', step: (s) => model.step(s), running: () => model.running(),
        snapshot: () => {
          const state = model.snapshot();
          return { ...state, threads: state.threads.map((t) => ({ ...t, td_comm: `x${t.td_comm}` })) };
        },
      };
    };
    expect(checkUnder('up-scheduling', renamed, 3).verdict).toBe('conforms');
    const full = checkUnder('preemption', renamed, 3);
    expect(full.verdict).toBe('counterexample');
    expect(full.counterexample?.trace.firstDifference?.differences[0]).toMatch(/td_comm/);
  });

  it('marks invariants unsupported without snapshots', () => {
    const opaque: SchedulerFactory = (config) => {
      const model = createModel(config);
      return { name: 'opaque', step: (s) => model.step(s), running: () => model.running() };
    };
    const result = runCheck({
      config: profileConfig(profile('preemption'), NO_OPTIONS, IN_PROCESS_CAPABILITIES),
      factory: opaque, implementation: 'opaque', seed: 11, runs: 3, maxSteps: 40, misuseRate: 0,
      policy: policyOf('preemption', { ...IN_PROCESS_CAPABILITIES, snapshot: false }),
    });
    const invariants = result.verdicts.verdicts.filter((v) => v.kind === 'invariant');
    expect(invariants.every((v) => v.verdict === 'UNSUPPORTED')).toBe(true);
    expect(invariants[0]?.detail).toContain('no snapshot');
    expect(verdictOf(result, 'lwkt_switch')?.verdict).toBe('PASS');
  });
});

describe('verdicts', () => {
  it('fails the call of a planted fault', () => {
    const fault = FAULTS.find((f) => f.name === 'fault-setpri-no-requeue')!;
    const result = checkUnder('up-scheduling', fault.factory, 40);
    expect(result.verdict).toBe('counterexample');
    const failed = result.verdicts.verdicts.filter((v) => v.verdict === 'FAIL');
    expect(failed.map((v) => v.requirement)).toEqual(['lwkt_setpri']);
    expect(failed[0]?.detail).toMatch(/^counterexample step \d+: state\./);
  });

  it('fails the invariant a fault breaks', () => {
    const fault = FAULTS.find((f) => f.name === 'fault-runqmask-empty')!;
    const result = checkUnder('preemption', fault.factory, 20);
    expect(verdictOf(result, 'runqmask.covers-nonempty')?.verdict).toBe('FAIL');
    expect(verdictOf(result, 'runq.no-duplicates')?.verdict).toBe('PASS');
  });

  it('leaves requirements unresolved after a failed boot', () => {
    const result = checkUnder('up-scheduling', () => { throw new Error('no memory'); }, 5);
    expect(verdictOf(result, 'lwkt_switch')).toMatchObject({ verdict: 'UNRESOLVED', detail: 'not reached: the implementation failed to boot in run 1' });
    expect(verdictOf(result, 'ipi')?.verdict).toBe('UNSUPPORTED');
    expect(result.verdicts.totals.UNRESOLVED).toBe(profile('up-scheduling').calls.length);
  });

  it('passes assertions both sides reach under full', () => {
    const result = checkUnder('full', createImpl, 30, { misuseRate: 0.3 });
    const passed = result.verdicts.verdicts.filter((v) => v.kind === 'assertion' && v.verdict === 'PASS');
    expect(passed.length).toBeGreaterThan(3);
    expect(passed[0]?.detail).toMatch(/^both panicked here in \d+ steps?$/);
  });
});

describe('check --profile', () => {
  it('up-scheduling on impl conforms with verdicts', async () => {
    const run = await runCli(['check', '--profile', 'up-scheduling', '--runs', '15', '--max-steps', '80', '--json', '--out', tempDir()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      profile: string; misuseRate: number; config: Config; verdicts: VerdictRow[]; totals: Record<string, number>;
    };
    expect(report.profile).toBe('up-scheduling');
    expect(report.misuseRate).toBe(0);
    expect(report.config).toMatchObject({ ncpus: 1, smp: false, invariants: true });

    const assertions = report.verdicts.filter((v) => v.kind === 'assertion');
    expect(assertions.length).toBeGreaterThan(0);
    expect(assertions.every((v) => v.verdict === 'UNSUPPORTED')).toBe(true);
    for (const call of profile('up-scheduling').calls) {
      expect(report.verdicts.find((v) => v.requirement === call)?.verdict, call).toBe('PASS');
    }
    expect(report.totals['PASS']).toBe(profile('up-scheduling').calls.length);
    expect(report.totals['FAIL']).toBe(0);
  });

  it('prints the verdict table', async () => {
    const run = await runCli(['check', '--profile', 'up-scheduling', '--runs', '3', '--max-steps', '40', '--out', tempDir()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('verdicts under profile up-scheduling: PASS');
    expect(run.stdout).toMatch(/\n {2}lwkt_switch +call +PASS +\d+ steps agreed\n/);
    expect(run.stdout).toContain('UNSUPPORTED 35 assertions: profile up-scheduling does not check assertions');
  });

  it('exits 1 on a fault inside the profile', async () => {
    const run = await runCli(['check', '--profile', 'up-scheduling', '--impl', 'fault-setpri-no-requeue', '--runs', '40', '--max-shrink-runs', '300', '--out', tempDir()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/\n {2}lwkt_setpri +call +FAIL +counterexample step/);
  });

  it.each([
    [['--cpus', '2'], '--cpus 2 is outside profile up-scheduling, which allows --cpus 1'],
    [['--no-invariants'], '--no-invariants is outside profile up-scheduling, which allows only kernels built with INVARIANTS'],
    [['--misuse-rate', '0.1'], '--misuse-rate 0.1 is outside profile up-scheduling'],
  ])('rejects %j under up-scheduling', async (args, message) => {
    const run = await runCli(['check', '--profile', 'up-scheduling', ...args]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(message);
  });

  it('rejects an unknown profile', async () => {
    const run = await runCli(['check', '--profile', 'smp-plus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--profile smp-plus is not a known profile; use one of: up-scheduling, preemption, smp, mplock-tokens, full');
  });
});

describe('profile in traces', () => {
  it('is recorded and reused by replay', async () => {
    const dir = tempDir();
    const found = await runCli(['check', '--impl', 'fault-runqmask-empty', '--profile', 'up-scheduling', '--runs', '20', '--out', dir]);
    expect(found.code).toBe(1);
    const file = join(dir, 'counterexample-fault-runqmask-empty-seed11.json');
    expect(JSON.parse(readFileSync(file, 'utf8')).profile).toBe('up-scheduling');

    const replayed = await runCli(['replay', file]);
    expect(replayed.code).toBe(1);
    expect(replayed.stdout).toContain('verdict: counterexample (saved verdict: counterexample, same)');
  });
});
