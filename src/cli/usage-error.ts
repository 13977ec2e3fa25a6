/** A command line the user got wrong: printed with the usage text, exit code 2, no stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}
