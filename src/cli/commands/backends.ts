// `vfiokit backends`: which backends the configuration enabled, which loaded, which failed and why.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { loadBackends, enumerateAll } from '../../device/registry.js';
import { configSearchPath } from '../../device/config.js';
import { table } from '../table.js';

export const command: Command = {
  summary: 'list backends (built-in and plugins): loaded, failed (why), disabled',
  help: `usage: vfiokit backends [--devices] [--json]

Loads the backend configuration and shows every configured backend: its plugin (built-in name,
module path or package), state (ready, failed, disabled), the URL schemes it opens, and for a
failure the reason. A backend that fails is skipped; the others still work.

Configuration search order: $VFIOKIT_CONFIG, ~/.config/vfiokit/config.json,
/etc/vfiokit/config.json, then the built-in default (sim, vfio, vfio-user).

options:
  --devices   also enumerate the devices each ready backend can open
  --json      machine-readable output

exit codes: 0 all enabled backends ready, 1 some backend failed, 3 configuration file unusable
(built-in default used)

examples:
  vfiokit backends
  VFIOKIT_CONFIG=./vfiokit.json vfiokit backends --json
  vfiokit backends --devices`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' }, devices: { type: 'boolean' } });
    if (positionals.length) throw new UsageError('EUSAGE', `unexpected argument "${positionals[0]}"; see --help`);
    const report = await loadBackends();
    const devices = values.devices ? await enumerateAll() : undefined;
    const code = report.configError ? ExitCode.BAD_INPUT : report.backends.some((b) => b.state === 'failed') ? ExitCode.FAILURE : ExitCode.OK;
    if (values.json) {
      printJson({ ...report, searchPath: configSearchPath(), ...(devices ? { devices: devices.tokens, enumerateFailures: devices.failures } : {}) });
      return code;
    }
    const out: string[] = [];
    out.push(`configuration: ${report.config}`);
    if (report.configError) out.push(`  unusable, built-in default used: ${report.configError.message}`);
    out.push('');
    // One table; a backend's error and shadowed schemes go on indented lines under its row.
    const rows = table(['NAME', 'STATE', 'SCHEMES', 'PLUGIN'], report.backends.map((b) => [b.name, b.state, b.schemes.join(',') || '-', `${b.plugin}${b.kind === 'built-in' ? ' (built-in)' : ''}`])).split('\n');
    out.push(rows[0]!);
    report.backends.forEach((b, i) => {
      out.push(rows[i + 1]!);
      if (b.error) out.push(`  ${b.error.code}: ${b.error.message}`);
      if (b.shadowed?.length) out.push(`  schemes already owned by an earlier backend: ${b.shadowed.join(', ')}`);
    });
    if (devices) {
      out.push('', 'devices:');
      const hex4 = (n: number): string => n.toString(16).padStart(4, '0');
      if (devices.tokens.length) out.push(table(['URL', 'BACKEND', 'ID', 'DESCRIPTION'], devices.tokens.map((t) => [t.url, t.backend, `${hex4(t.vendor)}:${hex4(t.device)}`, t.description ?? '']), { indent: '  ' }));
      else out.push('  (none)');
      for (const f of devices.failures) out.push(`  enumerate on ${f.backend} failed: ${f.message}`);
    }
    process.stdout.write(out.join('\n') + '\n');
    return code;
  },
};
