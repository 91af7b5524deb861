// Errors caused by the user's input: the CLI prints the message as one line
// and exits with status 2.

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}
