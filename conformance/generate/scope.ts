// Scope of the step generator under a conformance profile
// (spec/profiles.ts): the step calls of the profile, and whether new threads
// may get td_preemptable. The full profile's scope allows every call, which
// leaves the generated runs exactly as they are without a profile.
import type { Profile } from '../../spec/profiles.js';
import { STEP_CALLS, type StepCall } from '../../spec/schema.js';

export interface GeneratorScope {
  readonly calls: ReadonlySet<StepCall>;
  /**
   * Whether lwkt_create may install cpu_intr_preempt as td_preemptable.
   * _lwkt_schedule_post hands every schedule of a preemptable thread to
   * lwkt_preempt (lwkt_thread.c:869), which belongs to the profiles with
   * interrupts.
   */
  readonly preemptable: boolean;
}

export const FULL_SCOPE: GeneratorScope = { calls: new Set(STEP_CALLS), preemptable: true };

export function scopeOf(profile: Profile): GeneratorScope {
  const calls = new Set(profile.calls);
  return { calls, preemptable: profile.preemptableThreads };
}
