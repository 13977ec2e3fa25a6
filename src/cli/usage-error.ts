import type { CommandSpec } from './command-spec.js'

/**
 * A command line the user got wrong: printed as one line with the command's usage, exit
 * code 2, no stack. `command` names whose usage to print (else the command being run).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly command: CommandSpec | undefined

  constructor(message: string, command?: CommandSpec) {
    super(message)
    this.command = command
  }
}

/**
 * The command could not do its job for a reason outside the code (a port in use, a file
 * that exists): one line for the user, exit code `exitCode`, no stack.
 */
export class CommandFailed extends Error {
  override readonly name = 'CommandFailed'
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}
