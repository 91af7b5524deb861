// The C example of conformance/examples/c-up. The test compiles lwkt_up.c with
// the machine's C compiler and checks it with `lwkt-conformance check --exec`
// under the up-scheduling profile. It also drives the program directly, where
// every step result, running thread and whole snapshot must equal the model's
// (the harness compares only the scheduling part), and bad requests must get
// error responses. Skipped when no C compiler is installed.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LwktModel, validateStep } from '../../model/index.js';
import { TDF_NORESCHED, TDF_STOPREQ, TDF_SYSTHREAD, THREADS_MAX } from '../../spec/constants.js';
import { findProfile, schedulingState } from '../../spec/profiles.js';
import { ErrorResponse, HelloResponse, ResetResponse, SnapshotResponse, StepResponse } from '../../spec/protocol.js';
import type { AbstractState, Config, Step, StepCall } from '../../spec/schema.js';
import { judgeStep } from '../generate/legality.js';
import { runCli } from './cli-helpers.js';

const SOURCE = join(dirname(fileURLToPath(import.meta.url)), '../examples/c-up/lwkt_up.c');
const CONFIG: Config = { ncpus: 1, smp: false, invariants: true, untimelySwitch: false, panicOnCscount: false };

/** Returns the first of cc and gcc that runs, or null. */
function findCompiler(): string | null {
  for (const cc of ['cc', 'gcc']) {
    if (spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0) return cc;
  }
  return null;
}

const compiler = findCompiler();
if (compiler === null) console.warn('c-example.test.ts: skipped, because neither cc nor gcc is installed');

const check = {
  hello: TypeCompiler.Compile(HelloResponse),
  ok: TypeCompiler.Compile(ResetResponse),
  step: TypeCompiler.Compile(StepResponse),
  snapshot: TypeCompiler.Compile(SnapshotResponse),
  error: TypeCompiler.Compile(ErrorResponse),
};

/** A running lwkt_up process. `sendLine` writes a line and resolves with the parsed response. */
class Program {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: ((line: string) => void)[] = [];
  private nextId = 1;

  constructor(binary: string) {
    this.child = spawn(binary, [], { stdio: 'pipe' });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.waiting.shift()?.(line));
  }

  sendLine(line: string): Promise<any> {
    const reply = new Promise<string>((resolve) => this.waiting.push(resolve));
    this.child.stdin.write(`${line}\n`);
    return reply.then((text) => JSON.parse(text));
  }

  request(body: Record<string, unknown>): Promise<any> {
    return this.sendLine(JSON.stringify({ id: this.nextId++, ...body }));
  }

  close(): void {
    this.child.kill();
  }
}

// Step generation: a command of small integers picks a call of the profile and
// its arguments against the model's state, as the harness's generator does.
const PROFILE_CALLS = findProfile('up-scheduling')?.calls ?? [];
const TDFLAGS = [0, 0, TDF_STOPREQ, TDF_NORESCHED | TDF_SYSTHREAD];
const COMMS = ['kthread', 'a-thread-name-longer-than-maxcomlen', 'ünï-😀-code', 'q"uote\\'];
const PRIS = [12, 10, 20, 28, 14, 16, 4, 31, 0, 29];
const BAD_PRIS = [-1, 32, 45];

/** A call index, two argument selectors, and a draw that allows misuse when it is 0. */
type Command = readonly [call: number, a: number, b: number, misuseDraw: number];

function stepOf(s: AbstractState, call: number, a: number, b: number, misuse: boolean): Step {
  const name = PROFILE_CALLS[call % PROFILE_CALLS.length] as StepCall;
  const td = a % s.threads.length;
  const pri = misuse ? BAD_PRIS[b % BAD_PRIS.length]! : PRIS[b % PRIS.length]!;
  switch (name) {
    case 'lwkt_create':
      return { cpu: 0, call: name, target: b % 2 === 0 ? -1 : 0, tdflags: TDFLAGS[a % TDFLAGS.length]!, preemptable: false, comm: COMMS[b % COMMS.length]! };
    case 'lwkt_schedule': case 'lwkt_deschedule':
      return { cpu: 0, call: name, td };
    case 'lwkt_setpri':
      return { cpu: 0, call: name, td, pri };
    case 'lwkt_setpri_self':
      return { cpu: 0, call: name, pri };
    default:
      return { cpu: 0, call: name } as Step;
  }
}

/**
 * Resolves a command to a valid step: its own call if that is legal (or misuse
 * is allowed), else the next call of the profile that is. Null when none is.
 */
function resolve(s: AbstractState, [call, a, b, misuseDraw]: Command): Step | null {
  const misuse = misuseDraw === 0;
  for (let k = 0; k < PROFILE_CALLS.length; k++) {
    const step = stepOf(s, call + k, a, b, misuse);
    if (validateStep(s, step) === null && (misuse || judgeStep(s, step) === null)) return step;
  }
  return null;
}

/** Runs the step on the model and returns its result without panic ids, because the program claims panicIds false. */
function expectedResult(model: LwktModel, step: Step): unknown {
  const result = model.step(step);
  if (result.status !== 'panic') return result;
  return { status: 'panic', completed: result.completed, printed: result.printed };
}

describe.skipIf(compiler === null)('C example lwkt_up.c', () => {
  let dir = '';
  let binary = '';
  let program: Program;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lwkt-c-example-'));
    binary = join(dir, 'lwkt_up');
    const build = spawnSync(compiler!, ['-std=c11', '-O2', '-Wall', '-Wextra', '-o', binary, SOURCE], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`${compiler} failed on lwkt_up.c:\n${build.stderr}`);
    program = new Program(binary);
  });

  afterAll(() => {
    program?.close();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('claims the up-scheduling profile', async () => {
    const hello = await program.request({ op: 'hello', protocol: 1 });
    expect(check.hello.Check(hello)).toBe(true);
    expect(hello.capabilities).toEqual({
      snapshot: true, panicIds: false, profiles: ['up-scheduling'], cpus: [1], smp: [false], invariants: [true],
    });
  });

  it('conforms under check --exec', async () => {
    const run = await runCli([
      'check', '--exec', binary, '--profile', 'up-scheduling', '--runs', '40', '--seed', '5', '--out', join(dir, 'traces'), '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.verdict).toBe('conforms');
    expect(report.runs).toBe(40);
  });

  it('matches the model on random runs', async () => {
    const statuses: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat({ max: 30 })), { minLength: 20, maxLength: 80 }),
        async (commands) => {
          expect(check.ok.Check(await program.request({ op: 'reset', config: CONFIG }))).toBe(true);
          const model = new LwktModel(CONFIG);

          for (const command of commands) {
            const step = resolve(model.snapshot(), command);
            if (step === null) break;

            const expected = expectedResult(model, step);
            const response = await program.request({ op: 'step', step });
            statuses[response.result?.status] = (statuses[response.result?.status] ?? 0) + 1;
            expect(check.step.Check(response), JSON.stringify(response)).toBe(true);
            expect(response.result).toEqual(expected);
            expect(response.running).toEqual(model.running());

            const snapshot = await program.request({ op: 'snapshot' });
            expect(check.snapshot.Check(snapshot)).toBe(true);
            expect(schedulingState(snapshot.state)).toEqual(schedulingState(model.snapshot()));
            expect(snapshot.state).toEqual(model.snapshot());
            if (response.result.status === 'panic') break;
          }
        },
      ),
      { numRuns: 60 },
    );

    // The runs reached switches and panics, not only calls that return at once.
    expect(statuses['returned']).toBeGreaterThan(500);
    expect(statuses['suspended']).toBeGreaterThan(50);
    expect(statuses['panic']).toBeGreaterThan(0);
  });

  it('stops at threads-max like the model', async () => {
    await program.request({ op: 'reset', config: CONFIG });
    const model = new LwktModel(CONFIG);
    const create: Step = { cpu: 0, call: 'lwkt_create', target: -1, tdflags: TDF_STOPREQ, preemptable: false, comm: 'x' };

    let response: any;
    for (let n = 1; n <= THREADS_MAX; n++) {
      response = await program.request({ op: 'step', step: create });
      expect(response.result).toEqual(model.step(create));
    }
    expect(response.result).toEqual({ status: 'limit', limit: 'threads-max', completed: [], printed: [] });
    expect((await program.request({ op: 'snapshot' })).state).toEqual(model.snapshot());

    const after = await program.request({ op: 'step', step: create });
    expect(check.error.Check(after)).toBe(true);
    expect(after.error.code).toBe('invalid-request');
  });

  it('rejects bad and out-of-profile requests', async () => {
    await program.request({ op: 'reset', config: CONFIG });
    const cases: readonly { line: string; id: number | null; code: string }[] = [
      { line: 'not json', id: null, code: 'invalid-request' },
      { line: '', id: null, code: 'invalid-request' },
      { line: '[1,2]', id: null, code: 'invalid-request' },
      { line: '{"id":"7","op":"snapshot"}', id: null, code: 'invalid-request' },
      { line: `${'['.repeat(100)}`, id: null, code: 'invalid-request' },
      { line: '{"id":9,"op":"frob"}', id: 9, code: 'unsupported' },
      { line: '{"id":10,"op":"step","step":{"cpu":0,"call":"lwkt_block","w":0,"wmesg":null,"gen":0}}', id: 10, code: 'unsupported' },
      { line: '{"id":11,"op":"step","step":{"cpu":1,"call":"lwkt_switch"}}', id: 11, code: 'invalid-request' },
      { line: '{"id":12,"op":"step","step":{"cpu":0,"call":"lwkt_schedule","td":99}}', id: 12, code: 'invalid-request' },
      { line: '{"id":13,"op":"step","step":{"cpu":0,"call":"lwkt_switch","td":0}}', id: 13, code: 'invalid-request' },
      { line: '{"id":14,"op":"step","step":{"cpu":0,"call":"lwkt_create","target":-1,"tdflags":0,"preemptable":true,"comm":"i"}}', id: 14, code: 'unsupported' },
      { line: '{"id":15,"op":"reset","config":{"ncpus":2,"smp":true,"invariants":true,"untimelySwitch":false,"panicOnCscount":false}}', id: 15, code: 'unsupported' },
      { line: '{"id":16,"op":"reset","config":{"ncpus":1,"smp":false,"invariants":true,"untimelySwitch":true,"panicOnCscount":false}}', id: 16, code: 'unsupported' },
      { line: '{"id":17,"op":"hello","protocol":2}', id: 17, code: 'unsupported' },
    ];

    for (const { line, id, code } of cases) {
      const response = await program.sendLine(line);
      expect(check.error.Check(response), line).toBe(true);
      expect(response.id, line).toBe(id);
      expect(response.error.code, line).toBe(code);
    }

    // The program still works after every rejected line.
    const step = await program.request({ op: 'step', step: { cpu: 0, call: 'lwkt_checkpri_self' } });
    expect(step.result).toEqual({ status: 'returned', ret: 0, completed: [], printed: [] });
  });
});
