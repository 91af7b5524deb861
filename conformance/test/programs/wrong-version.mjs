// States protocol version 2 in its hello response.
import { CAPABILITIES, serve } from './serve.mjs';

serve(
  () => {},
  (request) => {
    process.stderr.write('wrong-version: speaking protocol 2\n');
    return { id: request.id, ok: true, protocol: 2, name: 'wrong-version', capabilities: CAPABILITIES };
  },
);
