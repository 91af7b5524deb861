// Never responds to the first step request. It starts a helper process first, to
// show that the harness kills the whole process group, and prints its pid.
import { spawn } from 'node:child_process';
import { serve } from './serve.mjs';

serve((request) => {
  const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.stderr.write(`hang: helper pid ${helper.pid}; not answering request ${request.id}\n`);
  setInterval(() => {}, 1000);
});
