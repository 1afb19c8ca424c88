// The argument orders OPAE users type, accepted and answered with the vfiokit form:
//   fpgasupdate IMAGE BDF       -> vfiokit flash DEVICE IMAGE
//   rsu fpga|bmc|bmcimg BDF     -> vfiokit reboot DEVICE --target fpga|bmc
// (OPAE/opae-sdk binaries/fpgasupdate/fpgasupdate.py takes the file first; binaries/rsu/rsu.py
// takes the type first.)
import { existsSync, statSync } from 'node:fs';

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();

/** [DEVICE, IMAGE] from flash's positionals, swapped when written as fpgasupdate's IMAGE DEVICE. */
export function flashPositionals(positionals: readonly string[], note: (text: string) => void): [string, string] {
  const [a, b] = positionals as [string, string];
  if (isFile(a) && !isFile(b)) {
    note(`reading "${a} ${b}" in fpgasupdate's order (IMAGE DEVICE); the vfiokit form is: vfiokit flash ${b} ${a}`);
    return [b, a];
  }
  return [a, b];
}

const RSU_TYPES: Readonly<Record<string, 'fpga' | 'bmc'>> = { fpga: 'fpga', bmc: 'bmc', bmcimg: 'bmc' };

/** reboot's DEVICE and target from `vfiokit reboot DEVICE` or rsu's `TYPE DEVICE` order. */
export function rebootPositionals(positionals: readonly string[], note: (text: string) => void): { device: string | undefined; target?: 'fpga' | 'bmc' } {
  if (positionals.length === 2 && RSU_TYPES[positionals[0]!]) {
    const target = RSU_TYPES[positionals[0]!]!;
    note(`reading "${positionals.join(' ')}" in rsu's order (TYPE DEVICE); the vfiokit form is: vfiokit reboot ${positionals[1]} --target ${target}`);
    return { device: positionals[1], target };
  }
  return { device: positionals.length === 1 ? positionals[0] : undefined };
}
