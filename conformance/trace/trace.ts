// Saved traces (the Trace schema of spec/schema.ts): building one from a
// lockstep run, writing it, reading it back with validation, and replaying it
// against the model and an implementation.
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { TRACE_SCHEMA_ID } from '../../spec/constants.js';
import type { SchedulerFactory } from '../../spec/api.js';
import { STEP_CALLS, Trace, type Config } from '../../spec/schema.js';
import { checkStepShape, validateStep } from '../../model/index.js';
import { judgeStep } from '../generate/legality.js';
import type { ComparisonPolicy } from '../profiles/compare.js';
import { InputError } from '../run/errors.js';
import { LockstepRun } from '../run/lockstep.js';
import { TOOL_VERSION } from '../run/version.js';

export type Verdict = Trace['verdict'];

export interface TraceMeta {
  readonly implementation: string;
  readonly seed: number;
  readonly path?: string;
}

/** Verdict of a run: a difference beats a finding (an invariant failure, or a panic reached by legal steps). */
export function verdictOf(run: LockstepRun): Verdict {
  if (run.firstDifference !== null) return 'counterexample';
  return run.findings.length > 0 ? 'finding' : 'conforms';
}

/** Builds the trace of `run`, keeping its first `length` steps (all by default). */
export function buildTrace(run: LockstepRun, meta: TraceMeta, length = run.steps.length): Trace {
  const steps = run.steps.slice(0, length).map(({ misuse: _misuse, ...record }) => record);
  const findings = run.findings
    .filter((f) => f.stepIndex < length)
    .map((f) => ({ stepIndex: f.stepIndex, kind: f.kind, id: f.id }));
  const verdict: Verdict = run.firstDifference !== null && run.firstDifference.stepIndex < Math.max(length, 1)
    ? 'counterexample'
    : findings.length > 0 ? 'finding' : 'conforms';
  return {
    schema: TRACE_SCHEMA_ID,
    tool: TOOL_VERSION,
    config: run.config,
    implementation: meta.implementation,
    profile: run.policy.profile.name,
    seed: meta.seed,
    ...(meta.path === undefined ? {} : { path: meta.path }),
    verdict,
    firstDifference: verdict === 'counterexample' ? run.firstDifference : null,
    findings,
    steps,
  };
}

/**
 * Checks before a run that `dir` can hold traces: it is a directory, or it does
 * not exist yet and will be created. Raises InputError naming the path otherwise.
 */
export function checkTraceDirectory(dir: string): void {
  let stats;
  try {
    stats = statSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InputError(`--out ${dir} cannot be used (${(err as NodeJS.ErrnoException).code ?? 'error'}); pass a directory you can write to`);
  }
  if (!stats.isDirectory()) throw new InputError(`--out ${dir} is a file, not a directory; pass a directory path for the traces`);
}

/** Writes `trace` as `dir/name.json` and returns the path. */
export function saveTrace(dir: string, name: string, trace: Trace): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(trace, null, 2)}\n`);
  return file;
}

const traceChecker = TypeCompiler.Compile(Trace);

/** Reads and validates a trace file. Every problem becomes an InputError that names the value and the fix. */
export function loadTrace(file: string): Trace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError(`trace file ${file} not found; pass the path of a trace saved by 'lwkt-conformance check'`);
    if (code === 'EISDIR') throw new InputError(`trace file ${file} is a directory; pass the path of a trace file inside it`);
    throw new InputError(`cannot read trace file ${file} (${code ?? 'error'}); check that it exists and is readable`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`trace file ${file} is not valid JSON (${(err as Error).message}); pass a trace saved by 'lwkt-conformance check'`);
  }
  checkCalls(file, value);
  checkStepShapes(file, value);
  if (!traceChecker.Check(value)) {
    const e = traceChecker.Errors(value).First();
    const where = e === undefined || e.path === '' ? 'the top level' : e.path;
    throw new InputError(`trace file ${file} is invalid at ${where}: ${e?.message ?? 'schema mismatch'}; the file must follow the ${TRACE_SCHEMA_ID} schema`);
  }
  return value;
}

/** Names the first malformed step and its field before the schema check, whose union errors would be vague. */
function checkStepShapes(file: string, value: unknown): void {
  const steps = (value as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return;
  for (const [i, record] of steps.entries()) {
    const step = (record as { step?: unknown } | null)?.step;
    if (step === undefined) continue;
    const problem = checkStepShape(step);
    if (problem !== null) throw new InputError(`trace file ${file}, step ${i}: ${problem}`);
  }
}

/** Names an unknown call before the schema check, whose union errors would be vague. */
function checkCalls(file: string, value: unknown): void {
  const steps = (value as { steps?: unknown }).steps;
  if (!Array.isArray(steps)) return;
  steps.forEach((record: unknown, i) => {
    const call = (record as { step?: { call?: unknown } } | null)?.step?.call;
    if (typeof call === 'string' && !(STEP_CALLS as readonly string[]).includes(call)) {
      throw new InputError(`trace file ${file}: step ${i} has unknown call '${call}'; use one of the calls in spec/schema.ts (for example lwkt_switch)`);
    }
  });
}

export interface ReplayResult {
  readonly run: LockstepRun;
  readonly trace: Trace;
  readonly verdict: Verdict;
}

/** Re-runs the steps of `trace` on the model and `factory`'s implementation, comparing what `policy` lists (default: everything). */
export function replayTrace(
  trace: Trace, factory: SchedulerFactory, implementation: string, file = 'trace', policy?: ComparisonPolicy,
): ReplayResult {
  const run = new LockstepRun(checkedConfig(trace.config, file), factory, { legalPanicsAreFindings: true, ...(policy === undefined ? {} : { policy }) });
  for (const [i, record] of trace.steps.entries()) {
    const end = run.end;
    if (end !== null && (end.kind === 'panic' || end.kind === 'limit')) {
      throw new InputError(`trace file ${file}: step ${i} follows the ${end.kind} ${end.id} at step ${end.stepIndex}, after which the machine takes no step; remove the steps after it`);
    }
    // A difference or a broken structure ends the comparison, so the later steps are not run.
    if (end !== null) break;
    const invalid = validateStep(run.state, record.step);
    if (invalid !== null) throw new InputError(`trace file ${file}: step ${i} is invalid: ${invalid}`);
    run.apply(record.step, judgeStep(run.state, record.step));
  }
  const meta: TraceMeta = { implementation, seed: trace.seed, ...(trace.path === undefined ? {} : { path: trace.path }) };
  const replayed = buildTrace(run, meta);
  return { run, trace: replayed, verdict: replayed.verdict };
}

function checkedConfig(config: Config, file: string): Config {
  if (!config.smp && config.ncpus !== 1) {
    throw new InputError(`trace file ${file}: config has smp false with ncpus ${config.ncpus}; a kernel without SMP has exactly 1 cpu`);
  }
  return config;
}
