import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import * as specs from '../../src/cli/specs.js'
import type { CommandSpec } from '../../src/cli/command.js'

/** The rows of the README's Commands table: command name -> its options cell. */
function commandsTable(): Map<string, string> {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.slice(
    readme.indexOf('## Commands\n'),
    readme.indexOf('\n## ', readme.indexOf('## Commands\n') + 1),
  )
  const rows = new Map<string, string>()
  for (const line of section.split('\n')) {
    // Cells split on | not escaped as \| (inside code spans).
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim())
    const name = /^`([a-z -]+)`$/.exec(cells[1] ?? '')?.[1]
    if (line.startsWith('| `') && name !== undefined) rows.set(name, cells[2] ?? '')
  }
  return rows
}

/**
 * Every command specs.ts defines (a new one without a README row fails here), but `keys`: it
 * only names its subcommands, whose rows the table has.
 */
const SPECS: readonly CommandSpec[] = Object.values(specs)
  .filter(
    (value): value is CommandSpec =>
      typeof value === 'object' && value !== null && 'name' in value && 'options' in value,
  )
  .filter((spec) => spec !== specs.KEYS)

test("the README's Commands table lists every option of every command, and no other", () => {
  const rows = commandsTable()
  assert.deepEqual([...rows.keys()].sort(), SPECS.map((s) => s.name).sort())
  for (const spec of SPECS) {
    const cell = rows.get(spec.name)!
    const documented = new Set([...cell.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map((m) => m[1]))
    assert.deepEqual(
      [...documented].sort(),
      Object.keys(spec.options).sort(),
      `${spec.name} options`,
    )
    for (const [name, option] of Object.entries(spec.options)) {
      if (option.short !== undefined)
        assert.ok(cell.includes(`-${option.short}`), `${spec.name}: -${option.short} for --${name}`)
      if (option.arg !== undefined)
        assert.ok(
          cell.includes(`--${name} ${option.arg.replaceAll('|', '\\|')}`),
          `${spec.name}: --${name} ${option.arg}`,
        )
    }
  }
})

test('the README defines $DEV_SECRET before using it and says how to get the command on PATH', () => {
  const readme = readFileSync('README.md', 'utf8')
  const defined = readme.indexOf('DEV_SECRET=')
  assert.ok(defined > 0, 'DEV_SECRET is defined')
  assert.ok(defined < readme.indexOf('"$DEV_SECRET"'), 'before its first use')
  for (const way of ['npm link', 'npx jwt-ext-authz', 'node dist/src/main.js'])
    assert.ok(readme.includes(way), way)
})
