import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import type { CommandSpec } from '../../src/cli/command.js'
import {
  CHECK,
  KEYS,
  KEYS_GENERATE,
  RATELIMIT_CONFIG,
  SCHEMA,
  SERVE,
  TOKEN,
  VALIDATE,
} from '../../src/cli/specs.js'
import { CLI_TIMEOUT_MS, MAIN } from '../helpers/main-command.js'
import { tempDir } from '../helpers/temp-dir.js'
import { docFiles, readDoc, shellCommands, simpleCommands } from './markdown.js'

const PACKAGE = JSON.parse(readFileSync('package.json', 'utf8')) as {
  scripts: Record<string, string>
  engines: { node: string }
}
const SPECS: readonly CommandSpec[] = [
  SERVE,
  VALIDATE,
  CHECK,
  KEYS,
  KEYS_GENERATE,
  TOKEN,
  SCHEMA,
  RATELIMIT_CONFIG,
]
/** Answered by every command, or by the CLI itself. */
const ALWAYS = new Set(['--help', '-h', '--version', 'version'])

/** Every simple command the docs show, with the file it is in. */
const COMMANDS = docFiles().flatMap((file) =>
  shellCommands(readDoc(file)).flatMap((line) =>
    simpleCommands(line).map((words) => ({ file, words })),
  ),
)

/** The words after the CLI's name, when `words` runs the CLI; undefined otherwise. */
function cliArgs(words: readonly string[]): string[] | undefined {
  if (words[0] === 'jwt-ext-authz') return words.slice(1)
  if (words[0] === 'npx' && words[1] === 'jwt-ext-authz') return words.slice(2)
  const main = words.indexOf('dist/src/main.js')
  if (words[0] === 'node' && main > 0) return words.slice(main + 1)
  if (words[0] === 'npm' && words[1] === 'start' && words[2] === '--')
    return ['serve', ...words.slice(3)]
  return undefined
}

/** What is wrong with a command line of the CLI: an unknown command or option. */
function cliProblem(args: readonly string[]): string | undefined {
  const [first, second] = args
  if (first === undefined || first.startsWith('<') || ALWAYS.has(first)) return undefined
  const name = first === 'keys' && second === 'generate' ? 'keys generate' : first
  const spec = SPECS.find((s) => s.name === name)
  if (spec === undefined) return `no command ${first}`
  const shorts = new Set(Object.values(spec.options).flatMap((o) => o.short ?? []))
  for (const word of args.slice(name.split(' ').length)) {
    const long = /^--([a-z][\w-]*)/.exec(word)?.[1]
    const short = /^-([A-Za-z])$/.exec(word)?.[1]
    if (ALWAYS.has(word)) continue
    if (long !== undefined && !Object.hasOwn(spec.options, long)) return `${name}: no --${long}`
    if (short !== undefined && !shorts.has(short)) return `${name}: no -${short}`
  }
  return undefined
}

test('every `npm run X`, `npm start` and `npm test -- FOLDER` names what package.json and test/ have', () => {
  const problems: string[] = []
  for (const { file, words } of COMMANDS) {
    if (words[0] !== 'npm') continue
    const script = words[1] === 'run' ? words[2] : words[1]
    if (script === undefined || !['run', 'start', 'test'].includes(words[1]!)) continue
    if (!Object.hasOwn(PACKAGE.scripts, script)) problems.push(`${file}: npm script ${script}`)
    if (script !== 'test' || words[2] !== '--') continue
    for (const folder of words.slice(3).filter((w) => /^[\w-]+$/.test(w)))
      if (!existsSync(join('test', folder))) problems.push(`${file}: npm test -- ${folder}`)
  }
  assert.deepEqual(problems, [])
})

test('every jwt-ext-authz command line in the docs names a real command and its real options', () => {
  const shown = COMMANDS.flatMap(({ file, words }) => {
    const args = cliArgs(words)
    return args === undefined ? [] : [{ file, args }]
  })
  assert.ok(shown.length > 20, `found ${shown.length} command lines`)
  const problems = shown.flatMap(({ file, args }) => {
    const problem = cliProblem(args)
    return problem === undefined ? [] : [`${file}: ${problem} (${args.join(' ')})`]
  })
  assert.deepEqual(problems, [])
})

test("README and CONTRIBUTING quote package.json's engines exactly", () => {
  for (const file of ['README.md', 'CONTRIBUTING.md'])
    assert.ok(readFileSync(file, 'utf8').includes(`\`${PACKAGE.engines.node}\``), file)
})

test('CONTRIBUTING names every folder of src/', () => {
  const text = readFileSync('CONTRIBUTING.md', 'utf8')
  const folders = readdirSync('src', { withFileTypes: true }).filter((d) => d.isDirectory())
  const missing = folders.map((d) => `src/${d.name}/`).filter((f) => !text.includes(`\`${f}\``))
  assert.deepEqual(missing, [])
})

test("the README's minimal config passes validate --schema-only", async () => {
  const readme = readFileSync('README.md', 'utf8')
  const section = readme.indexOf('\n## A minimal config\n')
  assert.ok(section > 0, 'README has "A minimal config"')
  const yaml = /```yaml\n([\s\S]*?)\n```/.exec(readme.slice(section))?.[1]
  assert.ok(yaml !== undefined, 'a yaml block follows it')
  const file = join(tempDir('jwt-ext-authz-readme'), 'config.yaml')
  writeFileSync(file, yaml)
  const result = await new Promise<{ code: number; out: string }>((done) => {
    execFile(
      process.execPath,
      [...MAIN, 'validate', '--schema-only', '--config', file],
      { timeout: CLI_TIMEOUT_MS, encoding: 'utf8' },
      (err, stdout, stderr) =>
        done({
          code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1,
          out: stdout + stderr,
        }),
    )
  })
  assert.equal(result.code, 0, result.out)
  assert.match(result.out, /: valid as written .*1 routes: openai/)
})
