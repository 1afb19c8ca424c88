// vfiokit command entry: `vfiokit <command> [options]`. Commands are files in ./commands.
import { readdirSync } from 'node:fs';
import { dirname, join, extname, basename } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from './command.js';
import { ExitCode } from './exit-codes.js';
import { reportError } from './output.js';
import { unknownCommandMessage } from './suggest.js';

const commandsDir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
const ext = extname(fileURLToPath(import.meta.url)); // .ts under tsx, .js when compiled

export function commandNames(): string[] {
  return readdirSync(commandsDir)
    .filter((f) => f.endsWith(ext) && !f.endsWith(`.d${ext}`) && !f.startsWith('_'))
    .map((f) => basename(f, ext))
    .sort();
}

export async function loadCommand(name: string): Promise<Command | undefined> {
  if (!/^[a-z][a-z0-9-]*$/.test(name) || !commandNames().includes(name)) return undefined;
  const mod = (await import(pathToFileURL(join(commandsDir, name + ext)).href)) as { command: Command };
  return mod.command;
}

async function usage(): Promise<string> {
  const lines = ['usage: vfiokit <command> [options]   (vfiokit <command> --help for details)', '', 'commands:'];
  for (const name of commandNames()) {
    const cmd = await loadCommand(name);
    if (cmd) lines.push(`  ${name.padEnd(14)}${cmd.summary}`);
  }
  lines.push('', 'Set DEBUG=vfiokit:* for logs. Exit codes: 0 ok, 1 failure, 2 usage, 3 bad input, 4 device unavailable, 130 cancelled.');
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...args] = argv;
  // `vfiokit help CMD` is `vfiokit CMD --help`.
  const [name, rest] = first === 'help' && args[0] ? [args[0], ['--help']] : [first, args];
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write((await usage()) + '\n');
    return name ? ExitCode.OK : ExitCode.USAGE;
  }
  if (name === '--version') {
    const { createRequire } = await import('node:module');
    process.stdout.write(`${(createRequire(import.meta.url)('../../package.json') as { version: string }).version}\n`);
    return ExitCode.OK;
  }
  const cmd = await loadCommand(name);
  if (!cmd) {
    const message = unknownCommandMessage(name, commandNames());
    process.stderr.write(`vfiokit: ${message}\n`);
    if (rest.includes('--json')) process.stdout.write(JSON.stringify({ error: { code: 'EUSAGE', message, exitCode: ExitCode.USAGE } }) + '\n');
    return ExitCode.USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help.trimEnd() + '\n');
    return ExitCode.OK;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    return reportError(name, err, { json: rest.includes('--json') });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
