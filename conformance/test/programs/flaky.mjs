// Passes every line between the harness and the implementation server
// (conformance/exec/impl-server.ts), except that the first process started
// with a given MARKER file path shifts the running thread ids of its third
// step response. Later processes find the marker and pass every response unchanged.
// Usage: node flaky.mjs MARKER
import { existsSync, writeFileSync } from 'node:fs';
import { proxyImplServer, respond } from './proxy.mjs';

const marker = process.argv[2];
const corrupting = !existsSync(marker);
if (corrupting) writeFileSync(marker, 'started\n');

let steps = 0;
proxyImplServer((response) => {
  if (response.running !== undefined && ++steps === 3 && corrupting) {
    process.stderr.write('flaky: shifting the running threads of the third step\n');
    response.running = response.running.map((td) => td + 100);
  }
  respond(response);
});
