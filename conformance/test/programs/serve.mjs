// Protocol loop shared by the misbehaving test programs: it responds to hello,
// reset and quit as spec/protocol.md requires and hands every other request to the
// program's handler, which is where each program misbehaves.
import { createInterface } from 'node:readline';

/** Claims everything, so that the default check configuration is accepted. */
export const CAPABILITIES = {
  snapshot: false,
  panicIds: true,
  profiles: ['up-scheduling', 'preemption', 'smp', 'mplock-tokens', 'full'],
  cpus: [1, 2, 3, 4],
  smp: [true, false],
  invariants: [true, false],
};

export function send(response) {
  process.stdout.write(`${JSON.stringify(response)}\n`);
}

/** Serves requests from stdin; `onRequest(request)` handles step and snapshot, `onHello` may replace the hello response. */
export function serve(onRequest, onHello = (request) => ({ id: request.id, ok: true, protocol: 1, name: 'misbehaving', capabilities: CAPABILITIES })) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const request = JSON.parse(line);
    if (request.op === 'hello') send(onHello(request));
    else if (request.op === 'reset') send({ id: request.id, ok: true });
    else if (request.op === 'quit') {
      send({ id: request.id, ok: true });
      process.exit(0);
    } else onRequest(request);
  });
}
