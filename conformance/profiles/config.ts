// Selection of a conformance profile (spec/profiles.ts) and of the
// configuration a check runs with inside it. Command-line values outside the
// profile are rejected with one line that names the option, the profile and
// the values it allows.
import { findProfile, PROFILES, type Profile } from '../../spec/profiles.js';
import type { Capabilities } from '../../spec/protocol.js';
import type { Config, Trace } from '../../spec/schema.js';
import { InputError } from '../run/errors.js';

export const DEFAULT_PROFILE = 'full';

export function selectProfile(name: string): Profile {
  const profile = findProfile(name);
  if (profile === undefined) {
    throw new InputError(`--profile ${name} is not a known profile; use one of: ${PROFILES.map((p) => p.name).join(', ')}`);
  }
  return profile;
}

/** Build options given on the command line; an absent field takes the profile's default. */
export interface ConfigRequest {
  readonly cpus?: number;
  readonly smp?: boolean;
  readonly invariants?: boolean;
  readonly untimelySwitch: boolean;
  readonly panicOnCscount: boolean;
}

/** Names the profiles whose settings allow `ok`, for the hint of a rejected option. */
function profilesAllowing(ok: (p: Profile) => boolean): string {
  return PROFILES.filter(ok).map((p) => p.name).join(', ');
}

function outsideProfile(option: string, profile: Profile, allowed: string, ok: (p: Profile) => boolean): InputError {
  return new InputError(`${option} is outside profile ${profile.name}, which allows ${allowed}; drop it or use a profile that allows it (${profilesAllowing(ok)})`);
}

/** Picks `preferred` when both the profile and the implementation allow it, else the first value both allow. */
function defaultOf<T>(preferred: T, profile: readonly T[], supported: readonly T[]): T {
  const both = profile.filter((v) => supported.includes(v));
  return both.includes(preferred) ? preferred : both[0] ?? profile[0] ?? preferred;
}

/**
 * Builds the configuration of a check under `profile`. Defaults are two CPUs
 * with SMP and INVARIANTS, as far as the profile and the implementation's
 * capabilities allow. Throws an InputError for an explicit value the profile
 * excludes.
 */
export function profileConfig(profile: Profile, request: ConfigRequest, capabilities: Capabilities): Config {
  const smp = request.smp ?? defaultOf(true, profile.smp, capabilities.smp);
  if (!profile.smp.includes(smp)) {
    throw outsideProfile('--no-smp', profile, 'only an SMP kernel', (p) => p.smp.includes(false));
  }

  const ncpus = request.cpus ?? (smp ? defaultOf(2, profile.cpus, capabilities.cpus) : 1);
  if (!profile.cpus.includes(ncpus)) {
    throw outsideProfile(`--cpus ${ncpus}`, profile, `--cpus ${profile.cpus.join(', ')}`, (p) => p.cpus.includes(ncpus));
  }
  if (!smp && ncpus !== 1) {
    throw new InputError(request.smp === false
      ? `--no-smp with --cpus ${ncpus} is invalid; a kernel without SMP has one cpu, so use --cpus 1 or drop --no-smp`
      : `--cpus ${ncpus} needs an SMP kernel, which the implementation does not support; use --cpus 1`);
  }

  const invariants = request.invariants ?? defaultOf(true, profile.invariants, capabilities.invariants);
  if (!profile.invariants.includes(invariants)) {
    throw outsideProfile('--no-invariants', profile, 'only kernels built with INVARIANTS', (p) => p.invariants.includes(false));
  }

  // Only the full profile sets the sysctls: with lwkt.untimely_switch, leaving a critical section can switch threads.
  if (!profile.untimelySwitch.includes(request.untimelySwitch)) {
    throw outsideProfile('--untimely-switch', profile, 'only the default lwkt.untimely_switch=0', (p) => p.untimelySwitch.includes(true));
  }
  if (!profile.panicOnCscount.includes(request.panicOnCscount)) {
    throw outsideProfile('--panic-on-cscount', profile, 'only the default lwkt.panic_on_cscount=0', (p) => p.panicOnCscount.includes(true));
  }
  return { ncpus, smp, invariants, untimelySwitch: request.untimelySwitch, panicOnCscount: request.panicOnCscount };
}

/** Rejects a saved trace whose configuration or steps lie outside `profile`, since its comparisons would not apply. */
export function checkTraceInProfile(trace: Trace, profile: Profile, file: string): void {
  const c = trace.config;
  const sysctlsAllowed = profile.untimelySwitch.includes(c.untimelySwitch) && profile.panicOnCscount.includes(c.panicOnCscount);
  if (!profile.cpus.includes(c.ncpus) || !profile.smp.includes(c.smp) || !profile.invariants.includes(c.invariants) || !sysctlsAllowed) {
    throw new InputError(`trace file ${file}: its config (${c.ncpus} cpus, smp ${c.smp}, invariants ${c.invariants}) is outside profile ${profile.name}; replay it with --profile full`);
  }
  const outside = trace.steps.findIndex((r) => !profile.calls.includes(r.step.call));
  if (outside >= 0) {
    throw new InputError(`trace file ${file}: step ${outside} calls ${trace.steps[outside]!.step.call}, which is outside profile ${profile.name}; replay it with --profile full`);
  }
}
