// Per-requirement verdicts of a check, in the usual conformance vocabulary.
// The requirements are the assertion sites and invariants of
// spec/catalogue.ts and the step calls of spec/schema.ts:
//
//   PASS         exercised, and the implementation agreed with the model
//   FAIL         the implementation disagreed where the requirement was exercised
//   UNRESOLVED   not decided: the check stopped at a difference (or the
//                implementation did not boot) before the requirement was reached
//   UNSUPPORTED  outside the selected profile or the implementation's capabilities
//   UNTESTED     inside the profile, but no generated run reached it
import { ASSERTIONS, INVARIANTS, type AssertionSite } from '../../spec/catalogue.js';
import { STEP_CALLS, type Config, type TraceStepRecord } from '../../spec/schema.js';
import type { ComparisonPolicy } from '../profiles/compare.js';
import type { LockstepRun } from './lockstep.js';
import { plural } from './plural.js';

export const VERDICTS = ['PASS', 'FAIL', 'UNRESOLVED', 'UNSUPPORTED', 'UNTESTED'] as const;
export type RequirementVerdict = (typeof VERDICTS)[number];
export type RequirementKind = 'assertion' | 'invariant' | 'call';

export interface VerdictRow {
  readonly requirement: string;
  readonly kind: RequirementKind;
  readonly verdict: RequirementVerdict;
  readonly detail: string;
}

export interface VerdictReport {
  readonly profile: string;
  readonly verdicts: readonly VerdictRow[];
  readonly totals: Readonly<Record<RequirementVerdict, number>>;
}

/** Place of a requirement's failure, as `run 3 step 41` or `counterexample step 4`, and the difference seen there. */
interface Evidence {
  readonly where: string;
  readonly text: string;
}

const where = (e: Evidence): string => `${e.where}: ${e.text}`;

/** Names a step of a generated run, or of the shrunk counterexample when `run` is null. */
const stepName = (run: number | null, stepIndex: number): string =>
  run === null ? `counterexample step ${stepIndex}` : `run ${run} step ${stepIndex}`;

export class VerdictCollector {
  private runs = 0;
  private readonly callSteps = new Map<string, number>();
  private readonly callFailures = new Map<string, Evidence>();
  private readonly panicsAgreed = new Map<string, number>();
  private readonly assertionFailures = new Map<string, Evidence>();
  private invariantChecks = 0;
  private readonly invariantFailures = new Map<string, Evidence>();
  /** Detail of the requirements left unreached because generation stopped early, or null when it did not. */
  private stopped: string | null = null;

  /** Adds the evidence of generated run number `runNumber` (from 1). */
  add(run: LockstepRun, runNumber: number): void {
    this.runs++;
    const modelError = run.end?.kind === 'model-error' ? run.end.stepIndex : -1;
    run.steps.forEach((record, i) => {
      if (i !== modelError) this.addStep(record, stepName(runNumber, i), true);
    });

    this.invariantChecks += run.implInvariants.checks;
    for (const f of run.implInvariants.failures) {
      if (!this.invariantFailures.has(f.id)) {
        this.invariantFailures.set(f.id, { where: stepName(runNumber, f.stepIndex), text: `fails on the implementation's state only (${f.message})` });
      }
    }

    if (run.firstDifference === null) return;
    this.stopped = run.steps.length === 0
      ? `not reached: the implementation failed to boot in run ${runNumber}`
      : `not reached before the check stopped at the difference in run ${runNumber}`;
  }

  /**
   * Adds the failure evidence of the shrunk counterexample. Its steps are not
   * counted as exercised, and where it fails the same requirement as the
   * generated run, its shorter and saved trace is the one named.
   */
  addCounterexample(steps: readonly TraceStepRecord[]): void {
    steps.forEach((record, i) => this.addStep(record, stepName(null, i), false));
  }

  /** Adds one step's evidence; `generated` is false for the counterexample's steps, whose failures replace earlier ones. */
  private addStep(record: TraceStepRecord, at: string, generated: boolean): void {
    const note = (failures: Map<string, Evidence>, id: string, text: string): void => {
      if (!generated || !failures.has(id)) failures.set(id, { where: at, text });
    };
    const call = record.step.call;
    const first = record.differences[0];
    if (generated) this.callSteps.set(call, (this.callSteps.get(call) ?? 0) + 1);
    if (first !== undefined) note(this.callFailures, call, first);

    const modelPanic = record.model.status === 'panic' ? record.model.panic?.id : undefined;
    if (modelPanic !== undefined) {
      if (first === undefined) {
        if (generated) this.panicsAgreed.set(modelPanic, (this.panicsAgreed.get(modelPanic) ?? 0) + 1);
      } else {
        note(this.assertionFailures, modelPanic, `the model panics here, but ${first}`);
      }
    }

    // An implementation that panics at another site than the model fails that site's requirement too.
    const implPanic = record.impl?.status === 'panic' ? record.impl.panic?.id : undefined;
    if (implPanic !== undefined && implPanic !== modelPanic && first !== undefined) {
      note(this.assertionFailures, implPanic, `the implementation panics here where the model does not (${first})`);
    }
  }

  /** Builds the verdict of every requirement. */
  report(policy: ComparisonPolicy, config: Config): VerdictReport {
    const verdicts: VerdictRow[] = [
      ...ASSERTIONS.map((a) => this.assertionVerdict(a, policy, config)),
      ...INVARIANTS.map((inv) => this.invariantVerdict(inv.id, policy)),
      ...STEP_CALLS.map((call) => this.callVerdict(call, policy)),
    ];
    const totals = Object.fromEntries(VERDICTS.map((v) => [v, verdicts.filter((r) => r.verdict === v).length])) as Record<RequirementVerdict, number>;
    return { profile: policy.profile.name, verdicts, totals };
  }

  /** Verdict of a requirement in scope that no run reached. */
  private unreached(requirement: string, kind: RequirementKind): VerdictRow {
    if (this.stopped !== null) return { requirement, kind, verdict: 'UNRESOLVED', detail: this.stopped };
    return { requirement, kind, verdict: 'UNTESTED', detail: `not reached in ${plural(this.runs, 'run')}` };
  }

  private assertionVerdict(a: AssertionSite, policy: ComparisonPolicy, config: Config): VerdictRow {
    const row = (verdict: RequirementVerdict, detail: string): VerdictRow => ({ requirement: a.id, kind: 'assertion', verdict, detail });
    if (!policy.profile.assertions) return row('UNSUPPORTED', `profile ${policy.profile.name} does not check assertions`);

    const failure = this.assertionFailures.get(a.id);
    if (failure !== undefined) return row('FAIL', where(failure));
    const agreed = this.panicsAgreed.get(a.id) ?? 0;
    if (agreed > 0) {
      const how = policy.capabilities.panicIds ? '' : ' (by status only: the implementation does not name panic ids)';
      return row('PASS', `both panicked here in ${agreed} step${agreed === 1 ? '' : 's'}${how}`);
    }

    const missing = missingBuildOptions(a, config);
    if (missing !== null) return row('UNTESTED', `inactive in this configuration: needs ${missing}`);
    if (this.stopped === null) return row('UNTESTED', `never failed in ${plural(this.runs, 'run')}, so the implementation's panic here was not compared`);
    return this.unreached(a.id, 'assertion');
  }

  private invariantVerdict(id: string, policy: ComparisonPolicy): VerdictRow {
    const row = (verdict: RequirementVerdict, detail: string): VerdictRow => ({ requirement: id, kind: 'invariant', verdict, detail });
    if (policy.profile.state === 'scheduling') {
      return row('UNSUPPORTED', `profile ${policy.profile.name} compares only the scheduling state, which does not decide the invariants`);
    }
    if (!policy.capabilities.snapshot) return row('UNSUPPORTED', 'the implementation offers no snapshot of its state');

    const failure = this.invariantFailures.get(id);
    if (failure !== undefined) return row('FAIL', where(failure));
    if (this.invariantChecks > 0) {
      return row('PASS', `the implementation's state never broke it where the model's held, over ${plural(this.invariantChecks, 'step')}`);
    }
    return this.unreached(id, 'invariant');
  }

  private callVerdict(call: string, policy: ComparisonPolicy): VerdictRow {
    const row = (verdict: RequirementVerdict, detail: string): VerdictRow => ({ requirement: call, kind: 'call', verdict, detail });
    if (!(policy.profile.calls as readonly string[]).includes(call)) return row('UNSUPPORTED', `not in profile ${policy.profile.name}`);

    const failure = this.callFailures.get(call);
    if (failure !== undefined) return row('FAIL', where(failure));
    const steps = this.callSteps.get(call) ?? 0;
    if (steps > 0) return row('PASS', `${steps} step${steps === 1 ? '' : 's'} agreed`);
    return this.unreached(call, 'call');
  }
}

/** Names the build options or sysctl an assertion needs that `config` lacks, or null. */
function missingBuildOptions(a: AssertionSite, config: Config): string | null {
  const missing = [
    ...(a.activeWhen.invariants && !config.invariants ? ['INVARIANTS'] : []),
    ...(a.activeWhen.smp && !config.smp ? ['SMP'] : []),
    ...(a.activeWhen.panicOnCscount === true && !config.panicOnCscount ? ['lwkt.panic_on_cscount'] : []),
  ];
  return missing.length === 0 ? null : missing.join(' and ');
}

/** Lays out the verdicts as aligned text; UNSUPPORTED rows are counted per kind and reason rather than listed. */
export function formatVerdicts(report: VerdictReport): string[] {
  const totals = VERDICTS.map((v) => `${v} ${report.totals[v]}`).join(', ');
  const listed = report.verdicts.filter((r) => r.verdict !== 'UNSUPPORTED');
  const width = Math.max('requirement'.length, ...listed.map((r) => r.requirement.length));
  const line = (requirement: string, kind: string, verdict: string, detail: string): string =>
    `  ${requirement.padEnd(width)}  ${kind.padEnd(9)}  ${verdict.padEnd(11)}  ${detail}`;

  const out = [`verdicts under profile ${report.profile}: ${totals}`];
  if (listed.length > 0) out.push(line('requirement', 'kind', 'verdict', 'detail'));
  for (const r of listed) out.push(line(r.requirement, r.kind, r.verdict, r.detail));

  const unsupported = new Map<string, number>();
  for (const r of report.verdicts.filter((v) => v.verdict === 'UNSUPPORTED')) {
    const key = `${r.kind}s: ${r.detail}`;
    unsupported.set(key, (unsupported.get(key) ?? 0) + 1);
  }
  for (const [key, n] of unsupported) out.push(`  UNSUPPORTED ${n} ${key}`);
  return out;
}
