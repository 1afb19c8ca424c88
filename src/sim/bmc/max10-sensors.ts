// The sim BMC's telemetry: plausible readings at the system-register offsets the kernel's hwmon
// driver reads (the tables of drivers/hwmon/intel-m10-bmc-hwmon.c in src/dfl/regs/
// m10-bmc-sensors.ts). A reading is given in the unit fpgainfo prints (C, V, A, W) and stored as
// the raw register the firmware keeps (hwmon value / the table's multiplier). Every temperature
// with limits reports max 90 C, crit 100 C, hysteresis 2 C; voltages with limits +5% / +10% / -10%
// of the reading; currents with a max +50%.
import { ArgumentError } from '../../errors.js';
import { M10_SENSORS, SENSOR_UNITS, type M10Sensor } from '../../dfl/regs/m10-bmc-sensors.js';
import type { Max10Board } from './max10-model.js';

/** Readings by label (C, V, A, W); a label not listed reads the type's default. */
const READINGS: Record<Max10Board, Record<string, number>> = {
  n3000: {
    'Board Temperature': 38, 'FPGA Die Temperature': 56, 'QSFP0 Temperature': 41, 'QSFP1 Temperature': 42,
    'Retimer A Temperature': 50, 'Retimer A SerDes Temperature': 52, 'Retimer B Temperature': 49, 'Retimer B SerDes Temperature': 51,
    'QSFP0 Supply Voltage': 3.3, 'QSFP1 Supply Voltage': 3.3, 'FPGA Core Voltage': 0.9, '12V Backplane Voltage': 12.05, '1.2V Voltage': 1.2,
    '12V AUX Voltage': 12.02, '1.8V Voltage': 1.8, '3.3V Voltage': 3.31,
    'FPGA Core Current': 18.5, '12V Backplane Current': 2.9, '12V AUX Current': 2.1,
    'Board Power': 61,
  },
  d5005: {
    'Board Inlet Air Temperature': 30, 'FPGA Core Temperature': 60, 'Board Exhaust Air Temperature': 45, 'FPGA Transceiver Temperature': 55,
    'QSFP0 Supply Voltage': 3.3, 'QSFP1 Supply Voltage': 3.3, 'FPGA Core Voltage': 0.85, '3.3v Voltage': 3.3, '1.8v Voltage': 1.8,
    '12v Backplane Voltage': 12, '12v AUX Voltage': 12, 'FPGA Core Current': 30, '12v Backplane Current': 9, '12v AUX Current': 4,
  },
};
const DEFAULTS: Record<M10Sensor['type'], number> = { temp: 40, in: 1.0, curr: 1.0, power: 50 };

/** A reading in fpgainfo's unit as the raw register the firmware keeps. */
export function rawReading(s: M10Sensor, value: number): number {
  return Math.round((value * SENSOR_UNITS[s.type].scale) / s.multiplier) >>> 0;
}

/** The sensor of the FPGA die itself (it reads what the FME thermal feature reads on the same card). */
export function fpgaDieSensor(board: Max10Board): M10Sensor {
  return M10_SENSORS[board].find((s) => s.label === (board === 'n3000' ? 'FPGA Die Temperature' : 'FPGA Core Temperature'))!;
}

function table(board: Max10Board): Map<number, number> {
  const m = new Map<number, number>();
  for (const s of M10_SENSORS[board]) {
    const raw = (value: number): number => rawReading(s, value);
    const v = READINGS[board][s.label] ?? DEFAULTS[s.type];
    m.set(s.input, raw(v));
    if (s.type === 'temp') {
      if (s.max) m.set(s.max, raw(90));
      if (s.crit) m.set(s.crit, raw(100));
      if (s.hyst) m.set(s.hyst, raw(2));
    } else {
      if (s.max) m.set(s.max, raw(v * (s.type === 'curr' ? 1.5 : 1.05)));
      if (s.crit) m.set(s.crit, raw(v * 1.1));
      if (s.min) m.set(s.min, raw(v * 0.9));
    }
  }
  return m;
}

const TABLES: Record<Max10Board, Map<number, number>> = { n3000: table('n3000'), d5005: table('d5005') };

/** The sensor register at system-register offset `off`, or undefined when it is not a sensor. */
export function sensorValue(board: Max10Board, off: number): number | undefined {
  return TABLES[board].get(off);
}

/**
 * The input registers of the sensors labelled `labels` (e.g. an empty QSFP cage): the firmware
 * reports them 0xdeadbeef (intel-m10-bmc-hwmon.c do_sensor_read). Unknown labels are refused.
 */
export function invalidSensorOffsets(board: Max10Board, labels: readonly string[]): Set<number> {
  const out = new Set<number>();
  for (const label of labels) {
    const s = M10_SENSORS[board].find((x) => x.label === label);
    if (!s) throw new ArgumentError('EARG_BMC_SENSOR', `the ${board} BMC has no sensor "${label}"; known: ${M10_SENSORS[board].map((x) => x.label).join(', ')}`, { label });
    out.add(s.input);
  }
  return out;
}
