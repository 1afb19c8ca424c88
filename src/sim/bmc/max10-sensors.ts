// The sim BMC's telemetry: plausible readings at the system-register offsets the kernel's hwmon
// driver reads (drivers/hwmon/intel-m10-bmc-hwmon.c n3000bmc_*_tbl, d5005bmc_*_tbl; inside
// M10BMC_N3000_TELEM_START..END). Units as the driver scales them: temperatures in 0.5 C, voltages
// in mV, currents in mA, power in mW. Each entry: [input, max, crit, hyst] register offsets (0 =
// none) with the reading in degrees C, or [input] with the reading in mV / mA / mW.
import type { Max10Board } from './max10-model.js';

type Temp = [input: number, max: number, crit: number, hyst: number, celsius: number];
type Plain = [input: number, value: number];

// n3000bmc_temp_tbl: board, FPGA die, QSFP0, QSFP1, retimer A, A SerDes, B, B SerDes.
const N3000_TEMPS: Temp[] = [
  [0x100, 0x104, 0x108, 0x10c, 38], [0x110, 0x114, 0x118, 0, 56], [0x11c, 0x124, 0x120, 0, 41], [0x12c, 0x134, 0x130, 0, 42],
  [0x168, 0, 0, 0, 50], [0x16c, 0, 0, 0, 52], [0x170, 0, 0, 0, 49], [0x174, 0, 0, 0, 51],
];
// n3000bmc_in_tbl (mV), _curr_tbl (mA), _power_tbl (mW).
const N3000_PLAIN: Plain[] = [
  [0x128, 3300], [0x138, 3300], [0x13c, 900], [0x144, 12050], [0x14c, 1200], [0x150, 12020], [0x158, 1800], [0x15c, 3310],
  [0x140, 18500], [0x148, 2900], [0x154, 2100],
  [0x160, 61000],
];
// d5005bmc_temp_tbl (first four), _in_tbl and _curr_tbl (first entries): inlet, FPGA core, exhaust, transceiver.
const D5005_TEMPS: Temp[] = [
  [0x100, 0x104, 0x108, 0x10c, 30], [0x110, 0x114, 0x118, 0, 60], [0x11c, 0x120, 0x124, 0x128, 45], [0x12c, 0x130, 0x134, 0, 55],
];
const D5005_PLAIN: Plain[] = [[0x184, 3300], [0x194, 3300], [0x198, 850], [0x19c, 30000], [0x238, 12000], [0x240, 9000], [0x254, 12000], [0x25c, 4000]];
/** Limits reported for every temperature that has them: max 90 C, critical 100 C, hysteresis 2 C. */
const MAX_C = 90;
const CRIT_C = 100;
const HYST_C = 2;

function table(temps: Temp[], plain: Plain[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const [input, max, crit, hyst, c] of temps) {
    m.set(input, c * 2);
    if (max) m.set(max, MAX_C * 2);
    if (crit) m.set(crit, CRIT_C * 2);
    if (hyst) m.set(hyst, HYST_C * 2);
  }
  for (const [input, v] of plain) m.set(input, v);
  return m;
}

const TABLES: Record<Max10Board, Map<number, number>> = { n3000: table(N3000_TEMPS, N3000_PLAIN), d5005: table(D5005_TEMPS, D5005_PLAIN) };

/** The sensor register at system-register offset `off`, or undefined when it is not a sensor. */
export function sensorValue(board: Max10Board, off: number): number | undefined {
  return TABLES[board].get(off);
}
