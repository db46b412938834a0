/** An error whose message is written for the person at the terminal: printed without a stack. */
export class UserError extends Error {
  readonly userFacing = true;
}
