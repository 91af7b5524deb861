// The --exec side of `lwkt-conformance check` and `replay`: opening the
// session from the command-line values, confirming a counterexample on a fresh
// process, recording the program in the traces and reporting it.
import type { ExecRecord, Trace } from '../../spec/schema.js';
import { checkClaimedProfile, IN_PROCESS_CAPABILITIES } from '../profiles/capabilities.js';
import type { ComparisonPolicy } from '../profiles/compare.js';
import { selectProfile } from '../profiles/config.js';
import type { CheckResult } from '../run/check.js';
import { InputError } from '../run/errors.js';
import { replayTrace } from '../trace/trace.js';
import { splitCommandLine } from './argv.js';
import { ExecSession } from './session.js';

/** Implementation label of exec runs in reports, traces and trace file names; the trace's `exec` record names the program. */
export const EXEC_LABEL = 'exec';

export const DEFAULT_STEP_TIMEOUT = '5';

/** Largest --step-timeout accepted, in seconds. */
const STEP_TIMEOUT_MAX = 3600;

/**
 * Timed-out requests after which shrinking stops. Each one costs a whole
 * --step-timeout, so a hanging program would otherwise make shrinking take
 * minutes.
 */
const SHRINK_TIMEOUT_LIMIT = 3;

export function parseStepTimeout(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isFinite(value) || value <= 0 || value > STEP_TIMEOUT_MAX) {
    throw new InputError(`--step-timeout ${text} is invalid; use a number of seconds above 0 and at most ${STEP_TIMEOUT_MAX}, for example 5 or 0.5`);
  }
  return value;
}

/** Opens a session on the program of `--exec COMMAND`; the program starts with the first run. */
export function openExecSession(command: string, stepTimeout: string): ExecSession {
  const argv = splitCommandLine(command);
  const seconds = parseStepTimeout(stepTimeout);
  return new ExecSession(argv, { stepTimeoutMs: Math.round(seconds * 1000) });
}

/**
 * Starts the program and builds the comparison policy of `profileName` from
 * the capabilities its hello states. Throws an InputError when the program
 * does not claim the profile.
 */
export function execPolicy(session: ExecSession, profileName: string): ComparisonPolicy {
  const profile = selectProfile(profileName);
  session.start();
  // A program that did not complete hello states nothing. Its check still runs and fails at boot with the reason, so any capabilities do.
  const capabilities = session.capabilities() ?? IN_PROCESS_CAPABILITIES;
  checkClaimedProfile(profile, capabilities, session.identity()?.name ?? EXEC_LABEL);
  return { profile, capabilities };
}

/** Options of runCheck that an exec check needs: shrinking stops after repeated timeouts. */
export function execCheckOptions(session: ExecSession): { stopShrinking: () => boolean } {
  const before = session.timeouts;
  return { stopShrinking: () => session.timeouts - before >= SHRINK_TIMEOUT_LIMIT };
}

function execRecord(session: ExecSession, stderr: { text: string; bytes: number }, nondeterministic: boolean | null): ExecRecord {
  return {
    command: [...session.argv],
    name: session.identity()?.name ?? null,
    stderr: stderr.text,
    stderrBytes: stderr.bytes,
    nondeterministic,
  };
}

/**
 * Replays the counterexample once more from a fresh process and records the
 * program in every trace: its command and whether the counterexample failed
 * again. The trace keeps the standard error of that replay. When the replay
 * did not fail, it keeps that of the first process that broke the protocol,
 * or else that of the last process of the check.
 */
export function confirmExecCheck(session: ExecSession, result: CheckResult, policy: ComparisonPolicy): CheckResult {
  const cx = result.counterexample;
  const findings = result.findings.map((f) => ({ ...f, trace: { ...f.trace, exec: execRecord(session, { text: '', bytes: 0 }, null) } }));
  if (cx === null) return { ...result, findings };

  // Stopping a process first lets its last standard error drain.
  session.stop();
  const checked = session.stderr();
  const { verdict } = replayTrace(cx.trace, session.factory, EXEC_LABEL, 'trace', policy);
  session.stop();
  const reproduced = verdict === 'counterexample';
  // A replay that did not fail says little, so the trace keeps what the failing process wrote instead.
  const failed = session.firstFailureStderr() ?? checked;
  const exec = execRecord(session, reproduced ? session.stderr() : failed, !reproduced);
  return { ...result, findings, counterexample: { ...cx, trace: { ...cx.trace, exec } } };
}

/** Replays `trace` on the model and the session's program, as `replay --exec` does. */
export function replayOnExec(session: ExecSession, trace: Trace, file: string, policy: ComparisonPolicy) {
  const replayed = replayTrace(trace, session.factory, EXEC_LABEL, file, policy);
  session.stop();
  const stderr = session.stderr();
  return { ...replayed, trace: { ...replayed.trace, exec: execRecord(session, stderr, null) } };
}

/** Lines that show the last part of the captured standard error. */
const STDERR_LINES_SHOWN = 12;

function stderrLines(exec: ExecRecord): string[] {
  if (exec.stderrBytes === 0) return ['program stderr: empty'];
  const lines = exec.stderr.replace(/\n$/, '').split('\n');
  const shown = lines.slice(-STDERR_LINES_SHOWN);
  return [
    `program stderr: ${exec.stderrBytes} bytes${lines.length > shown.length ? `, last ${shown.length} lines` : ''} (the trace keeps the last 64 KiB):`,
    ...shown.map((l) => `  | ${l}`),
  ];
}

/** Report lines about the program of an exec check or replay. */
export function execReportLines(session: ExecSession, exec: ExecRecord | undefined): string[] {
  const hello = session.identity();
  const lines = [
    hello === null
      ? `program: ${session.commandLine} (hello did not complete)`
      : `program: ${session.commandLine} (hello: name ${JSON.stringify(hello.name)}, protocol ${hello.protocol}, snapshot ${hello.capabilities.snapshot ? 'yes' : 'no'}, panic ids ${hello.capabilities.panicIds ? 'yes' : 'no'})`,
    `program processes started: ${session.starts}, requests timed out: ${session.timeouts}`,
  ];
  if (exec === undefined) return lines;
  if (exec.nondeterministic === true) {
    lines.push('NONDETERMINISTIC: the counterexample did not fail again when replayed from a fresh process, so the program answers the same requests differently');
  } else if (exec.nondeterministic === false) {
    lines.push('the counterexample failed again when replayed from a fresh process');
  }
  lines.push(...stderrLines(exec));
  return lines;
}
