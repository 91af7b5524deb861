// Named implementations that `lwkt-conformance --impl NAME` can test against
// the model. Factories are loaded lazily, so that a broken or missing module
// only matters when it is selected.
import type { SchedulerFactory } from '../../spec/api.js';
import type { Capabilities } from '../../spec/protocol.js';
import { IN_PROCESS_CAPABILITIES } from '../profiles/capabilities.js';

export interface RegisteredImplementation {
  readonly name: string;
  readonly description: string;
  /** True for planted bugs: the harness is expected to find a counterexample. */
  readonly fault: boolean;
  /** Profiles, configurations and comparisons the implementation supports, as a program states them in hello. */
  readonly capabilities: Capabilities;
  load(): Promise<SchedulerFactory>;
}

const REGISTRY: readonly RegisteredImplementation[] = [
  {
    name: 'impl',
    description: 'the optimized implementation (impl/)',
    fault: false,
    capabilities: IN_PROCESS_CAPABILITIES,
    load: async () => (await import('../../impl/index.js')).createImpl,
  },
  {
    name: 'model',
    description: 'the reference model itself (a self-check of the harness)',
    fault: false,
    capabilities: IN_PROCESS_CAPABILITIES,
    load: async () => (await import('../../model/index.js')).createModel,
  },
];

async function faultEntries(): Promise<readonly RegisteredImplementation[]> {
  const { FAULTS } = await import('../faults/index.js');
  return FAULTS.map((f) => ({ name: f.name, description: f.description, fault: true, capabilities: IN_PROCESS_CAPABILITIES, load: async () => f.factory }));
}

/** Every registered implementation: the real ones first, then the planted faults. */
export async function listImplementations(): Promise<readonly RegisteredImplementation[]> {
  return [...REGISTRY, ...(await faultEntries())];
}

export async function findImplementation(name: string): Promise<RegisteredImplementation | undefined> {
  return (await listImplementations()).find((r) => r.name === name);
}
