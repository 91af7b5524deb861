// Comparison policy of a lockstep run: the parts of step results and of
// abstract states that a profile lists (spec/profiles.ts), within the
// implementation's capabilities (spec/protocol.md).
import { findProfile, schedulingState, type Profile } from '../../spec/profiles.js';
import type { Capabilities } from '../../spec/protocol.js';
import type { AbstractState, StepResult } from '../../spec/schema.js';
import { IN_PROCESS_CAPABILITIES } from './capabilities.js';

export interface ComparisonPolicy {
  readonly profile: Profile;
  readonly capabilities: Capabilities;
}

export const FULL_POLICY: ComparisonPolicy = { profile: findProfile('full')!, capabilities: IN_PROCESS_CAPABILITIES };

type ComparedResult = Partial<StepResult>;

/**
 * Reduces the model's and the implementation's results of one step to what the
 * policy compares. Without assertions a model panic or limit is compared by
 * status alone, and printed values (the printfs of the assertion paths) are
 * not compared. Panic ids are compared only when the implementation names them.
 */
export function comparableResults(model: StepResult, impl: StepResult, policy: ComparisonPolicy): [ComparedResult, ComparedResult] {
  const stopped = model.status === 'panic' || model.status === 'limit';
  if (!policy.profile.assertions && stopped) return [{ status: model.status }, { status: impl.status }];

  const reduce = (r: StepResult): ComparedResult => {
    const { panic, printed, ...rest } = r;
    return {
      ...rest,
      ...(panic === undefined || !policy.capabilities.panicIds ? {} : { panic }),
      ...(policy.profile.assertions ? { printed } : {}),
    };
  };
  return [reduce(model), reduce(impl)];
}

/** Reduces an abstract state to what the profile compares: all of it, or its scheduling part. */
export function comparableState(state: AbstractState, policy: ComparisonPolicy): unknown {
  return policy.profile.state === 'scheduling' ? schedulingState(state) : state;
}

/** Tests whether the implementation's abstract state is fetched after each step. */
export function comparesState(policy: ComparisonPolicy): boolean {
  return policy.capabilities.snapshot;
}
