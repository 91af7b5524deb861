// Capabilities of an implementation under test (spec/protocol.ts): the
// profiles, configurations and comparisons it claims, and the checks that a
// selected profile and configuration lie inside that claim.
import { CPUS_MAX, CPUS_MIN } from '../../spec/constants.js';
import { PROFILES, type Profile } from '../../spec/profiles.js';
import type { Capabilities } from '../../spec/protocol.js';
import type { Config } from '../../spec/schema.js';
import { InputError } from '../run/errors.js';

export type { Capabilities };

/** Capabilities of the in-process implementations (impl, model, the planted faults): everything. */
export const IN_PROCESS_CAPABILITIES: Capabilities = {
  snapshot: true,
  panicIds: true,
  profiles: PROFILES.map((p) => p.name),
  cpus: Array.from({ length: CPUS_MAX - CPUS_MIN + 1 }, (_, i) => CPUS_MIN + i),
  smp: [true, false],
  invariants: [true, false],
};

/** Rejects a profile the implementation does not claim. */
export function checkClaimedProfile(profile: Profile, capabilities: Capabilities, implementation: string): void {
  // Profiles are cumulative: claiming a level claims every level below it.
  const claimedLevels = PROFILES.filter((p) => capabilities.profiles.includes(p.name)).map((p) => p.level);
  if (claimedLevels.some((level) => level >= profile.level)) return;
  const claimed = capabilities.profiles.length === 0 ? 'none' : capabilities.profiles.join(', ');
  throw new InputError(
    `--profile ${profile.name} is not claimed by implementation ${implementation}, which claims: ${claimed}; ` +
    'choose one of the claimed profiles',
  );
}

/** Rejects a configuration outside the CPU counts and build options the implementation supports. */
export function checkSupportedConfig(config: Config, capabilities: Capabilities, implementation: string): void {
  const reject = (what: string, allowed: string): never => {
    throw new InputError(`${what} is not supported by implementation ${implementation}, which supports ${allowed}`);
  };
  if (!capabilities.cpus.includes(config.ncpus)) reject(`--cpus ${config.ncpus}`, `--cpus ${capabilities.cpus.join(', ') || 'none'}`);
  if (!capabilities.smp.includes(config.smp)) {
    reject(config.smp ? 'an SMP kernel' : '--no-smp', config.smp ? 'only --no-smp' : 'only an SMP kernel (drop --no-smp)');
  }
  if (!capabilities.invariants.includes(config.invariants)) {
    reject(config.invariants ? 'an INVARIANTS kernel' : '--no-invariants', config.invariants ? 'only --no-invariants' : 'only INVARIANTS (drop --no-invariants)');
  }
}
