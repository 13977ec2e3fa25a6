// A node:test reporter that prints, after the run, every test that was skipped and why; the
// reasons name the command that installs what was missing (test/helpers: envoySkip, tool, ...).
// scripts/test/run.ts passes it beside the spec reporter. Plain JavaScript: Node loads a
// reporter before any --import hook, so it cannot be TypeScript run through tsx.

/**
 * @param {AsyncIterable<import('node:test/reporters').TestEvent>} source
 * @returns {AsyncGenerator<string>}
 */
export default async function* skippedReporter(source) {
  /** @type {Map<string, { name: string, file: string | undefined }[]>} */
  const byReason = new Map()
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue
    const reason = event.data.skip
    if (reason === undefined || reason === false) continue
    const why = reason === true ? 'skipped' : reason
    const list = byReason.get(why) ?? []
    list.push({ name: event.data.name, file: event.data.file })
    byReason.set(why, list)
  }
  if (byReason.size === 0) {
    yield '\nNothing skipped: every suite ran, the real Envoy and the other peers included.\n'
    return
  }
  let text = '\nSkipped, and what would run them:\n'
  for (const [why, tests] of byReason) {
    text += `- ${why} (${tests.length} skipped)\n`
    for (const t of tests.slice(0, 5))
      text += `    ${t.name}${t.file ? `  [${relative(t.file)}]` : ''}\n`
    if (tests.length > 5) text += `    … and ${tests.length - 5} more\n`
  }
  yield text
}

/** @param {string} file */
function relative(file) {
  const at = file.indexOf('/test/')
  return at === -1 ? file : file.slice(at + 1).replace(/\.js$/, '.ts')
}
