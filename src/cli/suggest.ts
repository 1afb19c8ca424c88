// "Did you mean": the closest command names to a typo, and the vfiokit command behind the names
// OPAE users type (fpgainfo, fpgasupdate, rsu, opae.io, fpgaconf, packager).

/** The OPAE SDK tool a user may type, and the vfiokit command that does its job. */
export const OPAE_TOOLS: Readonly<Record<string, string>> = {
  fpgainfo: 'info (vfiokit info DEVICE [temp|power|bmc|security|errors]; fme/port: vfiokit info DEVICE --mask 2|4)',
  fpgasupdate: 'flash (vfiokit flash DEVICE IMAGE)',
  rsu: 'reboot (vfiokit reboot DEVICE --target fpga|bmc --page user|factory)',
  fpgaconf: 'pr (vfiokit pr DEVICE FILE.gbs)',
  'opae.io': 'peek / poke / walk (vfiokit peek DEVICE OFFSET, vfiokit bind BDF)',
  packager: 'gbs-info (vfiokit gbs-info FILE, vfiokit gbs-info --create FILE)',
  fpgabist: 'demo (vfiokit demo)',
};

/** Levenshtein distance (insert, delete, substitute; a transposition counts as one). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** Names within a small distance of `typo` (closest first), or that start with it. */
export function closestNames(typo: string, names: readonly string[]): string[] {
  const limit = typo.length <= 4 ? 1 : 2;
  return names
    .map((name) => ({ name, distance: name.startsWith(typo) && typo.length >= 2 ? 0 : editDistance(typo, name) }))
    .filter((c) => c.distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.name.localeCompare(y.name))
    .map((c) => c.name);
}

/** The message for an unknown command: the OPAE equivalent, or did-you-mean, or the list. */
export function unknownCommandMessage(name: string, names: readonly string[]): string {
  const opae = OPAE_TOOLS[name];
  if (opae) return `"${name}" is an OPAE tool; in vfiokit it is ${opae}`;
  const close = closestNames(name, names);
  const hint = close.length ? `did you mean ${close.map((n) => `vfiokit ${n}`).join(' or ')}?` : 'run vfiokit --help for the list';
  return `unknown command "${name}"; ${hint}`;
}
