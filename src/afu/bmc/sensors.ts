// The BMC's sensors read as drivers/hwmon/intel-m10-bmc-hwmon.c reads them (m10bmc_hwmon_read,
// do_sensor_read): through the BMC's system registers, the raw value times the table's multiplier
// in hwmon units; 0xdeadbeef means the sensor has no valid value now (-ENODATA, e.g. an empty QSFP
// cage); *_max_hyst / *_crit_hyst are the limit minus the hysteresis register. An attribute exists
// when its register does (the tables in src/dfl/regs/m10-bmc-sensors.ts).
import { DeviceError } from '../../errors.js';
import { M10_SENSORS, SENSOR_INVALID, SENSOR_UNITS, type M10Sensor, type SensorType } from '../../dfl/regs/m10-bmc-sensors.js';
import { M10BMC_SYS_BASE } from '../../dfl/regs/max10-bmc.js';
import type { BmcTransport } from './transport.js';

export interface BmcSensorReading {
  /** hwmon channel name, e.g. 'temp2', 'in0', 'curr3', 'power1' (hwmon numbers in* from 0, the other types from 1). */
  channel: string;
  type: SensorType;
  label: string;
  /** In fpgainfo's unit (Celsius, Volts, Amps, Watts); undefined when the firmware reports the sensor invalid. */
  value: number | undefined;
  unit: string;
  /** Limits in the same unit, when the sensor has them. */
  max?: number;
  crit?: number;
  maxHyst?: number;
  critHyst?: number;
  min?: number;
  /** The kernel's hwmon attributes of this channel in hwmon units (e.g. temp2_input in millidegrees C). */
  hwmon: Record<string, number>;
}

/** Read one register of a sensor in hwmon units, or undefined for 0xdeadbeef (do_sensor_read -ENODATA). */
function readRaw(t: BmcTransport, s: M10Sensor, off: number): number | undefined {
  const raw = t.read32(M10BMC_SYS_BASE + off) >>> 0;
  return raw === SENSOR_INVALID ? undefined : raw * s.multiplier;
}

/** Read every sensor of the card class the BMC belongs to ('m10-n3000' / 'm10-d5005' as the kernel binds them). */
export function readBmcSensors(t: BmcTransport, device: string): BmcSensorReading[] {
  const board = device === 'm10-n3000' ? 'n3000' : device === 'm10-d5005' ? 'd5005' : undefined;
  if (!board) {
    throw new DeviceError('EBMC_NO_SENSORS', `the BMC ${device} has no sensor table in this build of vfiokit (it decodes the N3000 and D5005 tables of intel-m10-bmc-hwmon.c)`, { device });
  }
  // Documentation/hwmon/sysfs-interface.rst: in0_input is the first voltage; temp, curr and power count from 1.
  const next: Record<SensorType, number> = { temp: 1, in: 0, curr: 1, power: 1 };
  return M10_SENSORS[board].map((s) => {
    const channel = `${s.type}${next[s.type]++}`;
    const scale = SENSOR_UNITS[s.type].scale;
    const hwmon: Record<string, number> = {};
    const input = readRaw(t, s, s.input);
    if (input !== undefined) hwmon[`${channel}_input`] = input;
    const out: BmcSensorReading = { channel, type: s.type, label: s.label, value: input === undefined ? undefined : input / scale, unit: SENSOR_UNITS[s.type].unit, hwmon };
    const hyst = s.hyst ? readRaw(t, s, s.hyst) : undefined;
    for (const [key, reg] of [['max', s.max], ['crit', s.crit], ['min', s.min]] as const) {
      if (!reg) continue;
      const v = readRaw(t, s, reg);
      if (v === undefined) continue;
      hwmon[`${channel}_${key}`] = v;
      out[key] = v / scale;
      if (key !== 'min' && hyst !== undefined) {
        hwmon[`${channel}_${key}_hyst`] = v - hyst;
        out[key === 'max' ? 'maxHyst' : 'critHyst'] = (v - hyst) / scale;
      }
    }
    return out;
  });
}
