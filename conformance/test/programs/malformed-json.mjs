// Responds to the first step request with a line that is not JSON.
import { serve } from './serve.mjs';

serve((request) => {
  process.stderr.write('malformed-json: writing a broken line\n');
  process.stdout.write(`{"id":${request.id},"ok":tru\n`);
});
