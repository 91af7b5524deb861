// The `check` driver: fast-check generates runs of state-relative commands,
// each run drives the model and the implementation in lockstep, and the first
// run with a difference is shrunk to a short counterexample.
import fc from 'fast-check';
import type { SchedulerFactory } from '../../spec/api.js';
import type { Config, Trace } from '../../spec/schema.js';
import { DivergenceError, stepCommands } from '../generate/commands.js';
import { scopeOf } from '../generate/scope.js';
import { FULL_POLICY, type ComparisonPolicy } from '../profiles/compare.js';
import { buildTrace, type Verdict } from '../trace/trace.js';
import { CoverageCollector, type CoverageReport } from './coverage.js';
import { LockstepRun, type Finding } from './lockstep.js';
import { VerdictCollector, type VerdictReport } from './verdicts.js';

export interface CheckOptions {
  readonly config: Config;
  readonly factory: SchedulerFactory;
  readonly implementation: string;
  readonly seed: number;
  readonly runs: number;
  readonly maxSteps: number;
  /** Average fraction of generated commands that are misuse, 0..1 (see stepCommands); 0 under a profile without assertions. */
  readonly misuseRate: number;
  /** The profile checked and the implementation's capabilities (default: the full profile, everything supported). */
  readonly policy?: ComparisonPolicy;
  /**
   * Property executions allowed for shrinking. Past it, candidates count as
   * passing, so shrinking stops at the smallest failure found so far. The
   * budget counts executions, not time, to keep results deterministic.
   */
  readonly maxShrinkRuns?: number;
  /** Whether the run of each finding is shrunk too (default true). Each finding costs up to FINDING_SHRINK_RUNS runs. */
  readonly shrinkFindings?: boolean;
  /** Called after each generated run with the number of runs done. */
  readonly onRun?: (done: number) => void;
  /** Polled before each shrinking run; true ends shrinking at the smallest failure found so far (the exec adapter ends it after repeated timeouts). */
  readonly stopShrinking?: () => boolean;
}

export interface FindingReport extends Finding {
  readonly run: number;
  /** Trace of the run up to and including the finding step. */
  readonly trace: Trace;
}

export interface CheckResult {
  readonly verdict: Exclude<Verdict, 'finding'>;
  readonly runs: number;
  /** The shrunk counterexample, when a run diverged. */
  readonly counterexample: { readonly run: number; readonly originalSteps: number; readonly shrinks: number; readonly trace: Trace } | null;
  /** The first occurrence of each distinct finding (invariant or legal-only panic). */
  readonly findings: readonly FindingReport[];
  readonly coverage: CoverageReport;
  readonly verdicts: VerdictReport;
}

export const DEFAULT_MAX_SHRINK_RUNS = 3000;

/** Shrink budget of each finding, in property executions. Findings are not conformance failures, so they get less than a counterexample. */
const FINDING_SHRINK_RUNS = 400;

export function runCheck(requested: CheckOptions): CheckResult {
  const policy = requested.policy ?? FULL_POLICY;
  const options: CheckOptions = { ...requested, policy, misuseRate: policy.profile.assertions ? requested.misuseRate : 0 };
  const scope = scopeOf(policy.profile);
  const coverage = new CoverageCollector();
  const verdicts = new VerdictCollector();
  const findings = new Map<string, FindingReport>();
  const shrinkBudget = options.maxShrinkRuns ?? DEFAULT_MAX_SHRINK_RUNS;
  let generated = 0;
  let failedRun: LockstepRun | null = null;
  // The last run that diverged is fast-check's counterexample, kept for implementations that do not fail again on the replay.
  let lastFailedRun: LockstepRun | null = null;
  let shrinkRuns = 0;

  const newRun = (): LockstepRun => new LockstepRun(options.config, options.factory, { legalPanicsAreFindings: true, policy });
  const property = fc.property(stepCommands(options.maxSteps, options.misuseRate, scope), (commands) => {
    if (failedRun !== null && (++shrinkRuns > shrinkBudget || options.stopShrinking?.() === true)) return;
    const run = newRun();
    try {
      if (run.firstDifference !== null) throw new DivergenceError(0, run.firstDifference.differences);
      fc.modelRun(() => ({ model: run, real: run }), commands);
    } finally {
      if (run.firstDifference !== null) lastFailedRun = run;
      if (failedRun === null) {
        generated++;
        coverage.add(run);
        verdicts.add(run, generated);
        noteFindings(run, generated, options, findings);
        options.onRun?.(generated);
        if (run.firstDifference !== null) failedRun = run;
      }
    }
  });

  const details = fc.check(property, { seed: options.seed, numRuns: options.runs });
  const counterexample = details.failed && details.counterexample !== null
    ? shrunkCounterexample(details.counterexample[0], newRun(), options, details.counterexamplePath ?? undefined, failedRun, generated, details.numShrinks)
      ?? recordedCounterexample(lastFailedRun, options, details.counterexamplePath ?? undefined, failedRun, generated, details.numShrinks)
    : null;
  if (details.failed && counterexample === null) {
    throw details.errorInstance instanceof Error ? details.errorInstance : new Error('fast-check failed without a counterexample');
  }
  if (counterexample !== null) verdicts.addCounterexample(counterexample.trace.steps);
  return {
    verdict: counterexample === null ? 'conforms' : 'counterexample',
    runs: generated,
    counterexample,
    findings: [...findings.values()].map((f) => (options.shrinkFindings === false ? f : shrinkFinding(f, options, newRun))),
    coverage: coverage.report(),
    verdicts: verdicts.report(policy, options.config),
  };
}

/** Keeps the first occurrence of each finding id, with the trace that reaches it. */
function noteFindings(run: LockstepRun, runNumber: number, options: CheckOptions, out: Map<string, FindingReport>): void {
  const seenInRun = new Set<string>();
  for (const f of run.findings) {
    const key = `${f.kind}:${f.id}:${f.legalOnly ? 'legal' : 'misuse'}`;
    // Only a run's first occurrence counts: an intent invariant keeps failing on
    // later steps, which may come after a misuse step and would carry the wrong label.
    if (seenInRun.has(f.id)) continue;
    seenInRun.add(f.id);
    if (out.has(key)) continue;
    const trace = buildTrace(run, { implementation: options.implementation, seed: options.seed }, f.stepIndex + 1);
    out.set(key, { ...f, run: runNumber, trace });
  }
}

/** Replays the shrunk command list on a fresh run to record its steps. */
function shrunkCounterexample(
  commands: Iterable<fc.Command<LockstepRun, LockstepRun>>, run: LockstepRun, options: CheckOptions,
  path: string | undefined, failedRun: LockstepRun | null, runNumber: number, shrinks: number,
): CheckResult['counterexample'] {
  if (run.firstDifference === null) {
    for (const command of commands) {
      if (!command.check(run)) continue;
      try {
        command.run(run, run);
      } catch (err) {
        if (err instanceof DivergenceError) break;
        throw err;
      }
    }
  }
  if (run.firstDifference === null) return null;
  const meta = { implementation: options.implementation, seed: options.seed, ...(path === undefined ? {} : { path }) };
  return { run: runNumber, originalSteps: failedRun?.steps.length ?? run.steps.length, shrinks, trace: buildTrace(run, meta) };
}

/**
 * Builds the counterexample from the run fast-check last saw fail, for an
 * implementation that did not fail again when the shrunk commands were replayed.
 */
function recordedCounterexample(
  run: LockstepRun | null, options: CheckOptions, path: string | undefined,
  failedRun: LockstepRun | null, runNumber: number, shrinks: number,
): CheckResult['counterexample'] {
  if (run === null) return null;
  const meta = { implementation: options.implementation, seed: options.seed, ...(path === undefined ? {} : { path }) };
  return { run: runNumber, originalSteps: failedRun?.steps.length ?? run.steps.length, shrinks, trace: buildTrace(run, meta) };
}

/** Thrown by the finding property when a run reproduces the finding. */
class FindingReproduced extends Error {}

/**
 * Shrinks the run of a finding: fast-check replays that run from its path and
 * shrinks it while the same invariant (or legal-only panic) still shows up
 * with the same label, legal-only or involving misuse. Keeps the original when the replay does
 * not reproduce it.
 */
function shrinkFinding(finding: FindingReport, options: CheckOptions, newRun: () => LockstepRun): FindingReport {
  const budget = Math.min(options.maxShrinkRuns ?? DEFAULT_MAX_SHRINK_RUNS, FINDING_SHRINK_RUNS);
  // A finding keeps its label, so that a misuse finding does not turn into a second legal-only one.
  const matches = (f: Finding): boolean => f.kind === finding.kind && f.id === finding.id && f.legalOnly === finding.legalOnly;
  let executions = 0;
  const scope = scopeOf(options.policy?.profile ?? FULL_POLICY.profile);
  const property = fc.property(stepCommands(options.maxSteps, options.misuseRate, scope), (commands) => {
    if (++executions > budget + 1) return;
    const run = newRun();
    try {
      fc.modelRun(() => ({ model: run, real: run }), commands);
    } catch (err) {
      if (!(err instanceof DivergenceError)) throw err;
    }
    if (run.findings.some(matches)) throw new FindingReproduced();
  });
  const details = fc.check(property, { seed: options.seed, path: String(finding.run - 1), numRuns: 1 });
  if (!details.failed || details.counterexample === null) return finding;

  const run = newRun();
  for (const command of details.counterexample[0]) {
    if (!command.check(run)) continue;
    try {
      command.run(run, run);
    } catch (err) {
      if (!(err instanceof DivergenceError)) throw err;
    }
    if (run.findings.some(matches)) break;
  }
  const shrunk = run.findings.find(matches);
  if (shrunk === undefined) return finding;
  const meta = { implementation: options.implementation, seed: options.seed, ...(details.counterexamplePath === null ? {} : { path: details.counterexamplePath }) };
  return { ...shrunk, run: finding.run, trace: buildTrace(run, meta, shrunk.stepIndex + 1) };
}
