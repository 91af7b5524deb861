// Command-line entry of lwkt-conformance: `check` tests an implementation
// against the reference model of DragonFly BSD's LWKT scheduler
// (sys/kern/lwkt_thread.c rev 1.71) in lockstep, and `replay` re-runs a saved
// trace. Exit status: 0 conforms, 1 counterexample found, 2 usage or input
// error, 3 internal error of the harness.
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import type { SchedulerFactory } from '../../spec/api.js';
import type { Config } from '../../spec/schema.js';
import { findImplementation, listImplementations, type RegisteredImplementation } from '../adapters/registry.js';
import { confirmExecCheck, DEFAULT_STEP_TIMEOUT, EXEC_LABEL, execCheckOptions, execPolicy, execReportLines, openExecSession, replayOnExec } from '../exec/cli.js';
import { checkClaimedProfile, checkSupportedConfig } from '../profiles/capabilities.js';
import type { ComparisonPolicy } from '../profiles/compare.js';
import { checkTraceInProfile, DEFAULT_PROFILE, profileConfig, selectProfile, type ConfigRequest } from '../profiles/config.js';
import { DEFAULT_MAX_SHRINK_RUNS, runCheck, type CheckResult } from '../run/check.js';
import { formatVerdicts } from '../run/verdicts.js';
import { InputError } from '../run/errors.js';
import { TOOL_VERSION } from '../run/version.js';
import { checkTraceDirectory, loadTrace, replayTrace, saveTrace } from '../trace/trace.js';
import { renderTrace } from '../trace/table.js';
import { parseCpus, parseRate, parseWholeNumber } from './options.js';
import { checkJson, describeConfig, formatCoverage, type SavedFiles } from './report.js';
import { plural } from '../run/plural.js';

export const EXIT_CONFORMS = 0;
export const EXIT_COUNTEREXAMPLE = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 3;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Shows a progress bar on stderr when true. */
  readonly progress: boolean;
}

const processIo: CliIo = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  progress: process.stderr.isTTY === true,
};

async function registered(name: string): Promise<RegisteredImplementation> {
  const entry = await findImplementation(name);
  if (entry === undefined) {
    const names = (await listImplementations()).map((r) => r.name).join(', ');
    throw new InputError(`--impl ${name} is not a known implementation; use one of: ${names}`);
  }
  return entry;
}

async function loadFactory(name: string): Promise<SchedulerFactory> {
  return (await registered(name)).load();
}

/** Selects the profile and checks that the implementation claims it. */
async function comparisonPolicy(profileName: string, implementation: string): Promise<ComparisonPolicy> {
  const profile = selectProfile(profileName);
  const { capabilities } = await registered(implementation);
  checkClaimedProfile(profile, capabilities, implementation);
  return { profile, capabilities };
}

interface CheckFlags {
  seed: string; runs: string; maxSteps: string; cpus?: string; smp: boolean; invariants: boolean;
  untimelySwitch?: boolean; panicOnCscount?: boolean; impl: string; misuseRate?: string; out: string;
  json?: boolean; maxShrinkRuns: string; profile: string; exec?: string; stepTimeout: string;
}

/** Builds the configuration inside the policy's profile and the implementation's capabilities. */
function configOf(flags: CheckFlags, policy: ComparisonPolicy): Config {
  // --no-smp and --no-invariants are the only way to make these false, so true means the option was not given.
  const request: ConfigRequest = {
    ...(flags.cpus === undefined ? {} : { cpus: parseCpus(flags.cpus) }),
    ...(flags.smp ? {} : { smp: false }),
    ...(flags.invariants ? {} : { invariants: false }),
    untimelySwitch: flags.untimelySwitch === true,
    panicOnCscount: flags.panicOnCscount === true,
  };
  const config = profileConfig(policy.profile, request, policy.capabilities);
  checkSupportedConfig(config, policy.capabilities, flags.impl);
  return config;
}

/** Returns the misuse rate: 0.03 by default, and 0 (the only value allowed) under a profile without assertions. */
function misuseRateOf(flags: CheckFlags, policy: ComparisonPolicy): number {
  const { profile } = policy;
  if (flags.misuseRate === undefined) return profile.assertions ? DEFAULT_MISUSE_RATE : 0;
  const rate = parseRate('--misuse-rate', flags.misuseRate);
  if (rate > 0 && !profile.assertions) {
    throw new InputError(`--misuse-rate ${flags.misuseRate} is outside profile ${profile.name}, which generates no misuse because it does not check assertions; drop --misuse-rate or use --profile full`);
  }
  return rate;
}

const DEFAULT_MISUSE_RATE = 0.03;

function progressBar(io: CliIo, runs: number): { tick(done: number): void; stop(): void } {
  if (!io.progress) return { tick: () => {}, stop: () => {} };
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: 'runs [{bar}] {value}/{total}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(runs, 0);
  return { tick: (done) => bar.update(done), stop: () => bar.stop() };
}

async function check(flags: CheckFlags, io: CliIo): Promise<number> {
  const seed = parseWholeNumber('--seed', flags.seed, -(2 ** 31), 2 ** 31 - 1);
  const runs = parseWholeNumber('--runs', flags.runs, 1);
  const maxSteps = parseWholeNumber('--max-steps', flags.maxSteps, 1, 10_000);
  const maxShrinkRuns = parseWholeNumber('--max-shrink-runs', flags.maxShrinkRuns, 0);
  checkTraceDirectory(flags.out);
  const exec = flags.exec === undefined ? null : openExecSession(flags.exec, flags.stepTimeout);
  // Reports, traces and trace file names call a program checked with --exec by EXEC_LABEL.
  if (exec !== null) flags.impl = EXEC_LABEL;
  let policy: ComparisonPolicy, misuseRate: number, config: Config, result: CheckResult;
  try {
    policy = exec === null ? await comparisonPolicy(flags.profile, flags.impl) : execPolicy(exec, flags.profile);
    misuseRate = misuseRateOf(flags, policy);
    config = configOf(flags, policy);
    const factory = exec?.factory ?? await loadFactory(flags.impl);

    const bar = progressBar(io, runs);
    try {
      result = runCheck({
        config, factory, implementation: flags.impl, seed, runs, maxSteps, misuseRate, maxShrinkRuns, policy, onRun: bar.tick,
        ...(exec === null ? {} : execCheckOptions(exec)),
      });
    } finally {
      bar.stop();
    }
    if (exec !== null) result = confirmExecCheck(exec, result, policy);
  } finally {
    exec?.close();
  }

  const files = saveCheckTraces(result, flags);
  const header = {
    tool: TOOL_VERSION, command: 'check', implementation: flags.impl, profile: policy.profile.name, seed, runs, maxSteps, misuseRate, config,
    ...(exec === null ? {} : { exec: { command: exec.argv, name: exec.identity()?.name ?? null, nondeterministic: result.counterexample?.trace.exec?.nondeterministic ?? null } }),
  };
  if (flags.json === true) io.stdout(`${JSON.stringify(checkJson(result, files, header), null, 2)}\n`);
  else io.stdout(checkText(result, files, header) + (exec === null ? '' : `${execReportLines(exec, result.counterexample?.trace.exec).join('\n')}\n`));
  return result.verdict === 'counterexample' ? EXIT_COUNTEREXAMPLE : EXIT_CONFORMS;
}

function saveCheckTraces(result: CheckResult, flags: CheckFlags): SavedFiles {
  const cx = result.counterexample;
  const counterexample = cx === null ? null : saveTrace(flags.out, `counterexample-${flags.impl}-seed${flags.seed}`, cx.trace);
  const findings = result.findings.map((f) =>
    saveTrace(flags.out, `finding-${f.id}-${f.legalOnly ? 'legal' : 'misuse'}-${flags.impl}-seed${flags.seed}`, f.trace));
  return { counterexample, findings };
}

function checkText(
  result: CheckResult, files: SavedFiles,
  h: { seed: number; runs: number; maxSteps: number; misuseRate: number; config: Config; implementation: string; profile: string },
): string {
  const out: string[] = [
    TOOL_VERSION,
    `check ${h.implementation} against the model under profile ${h.profile}: seed ${h.seed}, ${plural(h.runs, 'run')} of up to ${plural(h.maxSteps, 'step')}, misuse rate ${h.misuseRate}, ${describeConfig(h.config)}`,
  ];
  const cx = result.counterexample;
  if (cx === null) {
    out.push(`conforms: ${plural(result.runs, 'run')}, ${plural(result.coverage.steps, 'step')}, no difference`);
  } else {
    const first = cx.trace.firstDifference;
    out.push(
      `counterexample: run ${cx.run} diverged after ${plural(cx.originalSteps, 'step')}; shrunk ${plural(cx.shrinks, 'time')} to ${plural(cx.trace.steps.length, 'step')}`,
      `first difference at step ${first?.stepIndex ?? 0}:`,
      ...(first?.differences ?? []).map((d) => `  ${d}`),
      `trace saved to ${files.counterexample}${cx.trace.path === undefined ? '' : ` (fast-check path ${cx.trace.path})`}`,
      renderTrace(cx.trace),
      `replay with: npx lwkt-conformance replay ${files.counterexample}`,
    );
  }
  out.push(...findingLines(result, files), ...formatCoverage(result.coverage), ...formatVerdicts(result.verdicts));
  return `${out.join('\n')}\n`;
}

function findingLines(result: CheckResult, files: SavedFiles): string[] {
  if (result.findings.length === 0) return ['findings: none'];
  const lines = [`findings (about the source, not conformance failures): ${result.findings.length}`];
  result.findings.forEach((f, i) => {
    const scope = f.legalOnly ? 'legal-only' : 'involves misuse';
    lines.push(`  [${scope}] ${f.kind} ${f.id} (${f.class}) in run ${f.run} at step ${f.stepIndex}: ${f.message}`);
    lines.push(`    trace: ${files.findings[i] ?? '-'}`);
  });
  return lines;
}

interface ReplayFlags { impl?: string; json?: boolean; profile?: string; exec?: string; stepTimeout: string }

async function replay(file: string, flags: ReplayFlags, io: CliIo): Promise<number> {
  const trace = loadTrace(file);
  if (trace.exec !== undefined && flags.exec === undefined && flags.impl === undefined) {
    throw new InputError(`trace file ${file} was recorded from the program ${trace.exec.command.join(' ')}; pass --exec "COMMAND" to replay it against a program, or --impl NAME`);
  }
  const exec = flags.exec === undefined ? null : openExecSession(flags.exec, flags.stepTimeout);
  const implementation = exec === null ? flags.impl ?? trace.implementation : EXEC_LABEL;
  let replayedRun;
  try {
    const profile = flags.profile ?? trace.profile ?? DEFAULT_PROFILE;
    const policy = exec === null ? await comparisonPolicy(profile, implementation) : execPolicy(exec, profile);
    checkTraceInProfile(trace, policy.profile, file);
    replayedRun = exec === null
      ? replayTrace(trace, await loadFactory(implementation), implementation, file, policy)
      : replayOnExec(exec, trace, file, policy);
  } finally {
    exec?.close();
  }
  const { run, trace: replayed, verdict } = replayedRun;
  const same = verdict === trace.verdict;
  if (flags.json === true) {
    io.stdout(`${JSON.stringify({
      tool: TOOL_VERSION, command: 'replay', file, implementation, savedVerdict: trace.verdict, verdict, sameVerdict: same,
      firstDifference: replayed.firstDifference, findings: replayed.findings, steps: replayed.steps.length,
    }, null, 2)}\n`);
  } else {
    const misuse = run.steps.map((s) => s.misuse);
    io.stdout([
      TOOL_VERSION,
      `replay ${file}: ${plural(replayed.steps.length, 'step')}, ${implementation} against the model under profile ${run.policy.profile.name}, ${describeConfig(trace.config)}`,
      renderTrace(replayed, misuse),
      `verdict: ${verdict} (saved verdict: ${trace.verdict}${same ? ', same' : ', DIFFERENT'})`,
      ...(trace.exec?.nondeterministic === true
        ? ['note: the trace is marked NONDETERMINISTIC: when it was saved, the program did not fail again from a fresh process, so a different verdict now is expected']
        : []),
      ...(replayed.firstDifference === null ? [] : [`first difference at step ${replayed.firstDifference.stepIndex}:`, ...replayed.firstDifference.differences.map((d) => `  ${d}`)]),
      ...(exec === null ? [] : execReportLines(exec, replayed.exec)),
    ].join('\n') + '\n');
  }
  return verdict === 'counterexample' ? EXIT_COUNTEREXAMPLE : EXIT_CONFORMS;
}

function buildProgram(io: CliIo, exit: { code: number }, implementationNames: readonly string[]): Command {
  const program = new Command('lwkt-conformance')
    .description('Check an implementation of the DragonFly BSD LWKT scheduler (lwkt_thread.c rev 1.71) against its reference model.\nExit status: 0 conforms, 1 counterexample found, 2 usage or input error, 3 internal error.')
    .version(TOOL_VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      outputError: (text, write) => write(`lwkt-conformance: ${text.replace(/^error: /, '').trim().replace(/\.$/, '')}; see 'lwkt-conformance --help'\n`),
    });

  program.command('check')
    .description('generate runs of steps, run them on the model and the implementation in lockstep, and shrink the first difference')
    .option('--seed <n>', 'fast-check seed (integer)', '11')
    .option('--runs <n>', 'number of generated runs', '100')
    .option('--max-steps <n>', 'maximum steps per run', '200')
    .option('--cpus <n>', 'number of cpus, 1 to 4 (default: 2, or 1 with --no-smp)')
    .option('--no-smp', 'kernel built without options SMP (needs --cpus 1)')
    .option('--no-invariants', 'kernel built without options INVARIANTS (KASSERT and KKASSERT compiled out)')
    .option('--untimely-switch', 'set sysctl lwkt.untimely_switch: leaving the outermost critical section may switch threads')
    .option('--panic-on-cscount', 'set sysctl lwkt.panic_on_cscount: lwkt_switch panics while the thread masters a cpusync')
    .option('--impl <name>', `implementation under test: ${implementationNames.join(', ')}`, 'impl')
    .option('--profile <name>', 'conformance profile: the calls generated, the configurations allowed and what is compared (up-scheduling, preemption, smp, mplock-tokens, full)', DEFAULT_PROFILE)
    .option('--misuse-rate <x>', 'average fraction of generated steps that misuse the API, 0 to 1 (up to 0.5, half the runs are legal only and the rest carry twice the rate); default 0.03, and 0 under a profile without assertions')
    .addOption(new Option('--max-shrink-runs <n>', 'runs spent on shrinking a counterexample').default(String(DEFAULT_MAX_SHRINK_RUNS)))
    .option('--out <dir>', 'directory for saved traces', './lwkt-traces')
    .option('--json', 'print a machine-readable report on stdout')
    .addOption(new Option('--exec <command>', 'check a program that speaks the line protocol of spec/protocol.md; the command is split into words as a shell would, but no shell runs').conflicts('impl'))
    .option('--step-timeout <seconds>', 'with --exec: seconds the program gets for each response before its process group is killed', DEFAULT_STEP_TIMEOUT)
    .action(async (flags: CheckFlags) => {
      exit.code = await check(flags, io);
    });

  program.command('replay')
    .description('re-run the steps of a saved trace on the model and an implementation and print the verdict')
    .argument('<trace>', 'trace file (JSON) saved by check')
    .option('--impl <name>', 'implementation to replay against (default: the one named in the trace)')
    .option('--profile <name>', 'conformance profile whose comparisons the replay makes (default: the one recorded in the trace, else full)')
    .option('--json', 'print a machine-readable report on stdout')
    .addOption(new Option('--exec <command>', 'replay against a program that speaks the line protocol of spec/protocol.md').conflicts('impl'))
    .option('--step-timeout <seconds>', 'with --exec: seconds the program gets for each response before its process group is killed', DEFAULT_STEP_TIMEOUT)
    .action(async (file: string, flags: ReplayFlags) => {
      exit.code = await replay(file, flags, io);
    });
  return program;
}

/** Runs the CLI on `argv` (arguments after the program name) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const exit = { code: EXIT_CONFORMS };
  const implementationNames = (await listImplementations()).map((r) => r.name);
  const program = buildProgram(io, exit, implementationNames);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Requested help and --version exit 0. Commander gives exit code 1 to help shown for a missing command.
      return err.exitCode === 0 ? EXIT_CONFORMS : EXIT_USAGE;
    }
    if (err instanceof InputError) {
      io.stderr(`lwkt-conformance: ${err.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`lwkt-conformance: internal error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    return EXIT_INTERNAL;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
