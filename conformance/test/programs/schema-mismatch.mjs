// Responds to step requests with a status that the protocol schema does not allow.
import { send, serve } from './serve.mjs';

serve((request) => {
  send({ id: request.id, ok: true, result: { status: 'finished', completed: [], printed: [] }, running: [0] });
});
