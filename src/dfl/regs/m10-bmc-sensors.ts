// The MAX10 BMC's telemetry registers, one table per card, exactly as drivers/hwmon/
// intel-m10-bmc-hwmon.c lists them (n3000bmc_*_tbl, d5005bmc_*_tbl): system-register offsets
// (M10BMC_N3000_TELEM_START..END, relative to M10BMC_N3000_SYS_BASE) of the input, max, crit,
// hysteresis and min registers (0 = the sensor has none), the multiplier to the hwmon unit and
// the label. hwmon units: temperature millidegrees C, voltage mV, current mA, power uW; a raw
// register times the multiplier is the hwmon value. Shared by the host decoder
// (src/afu/bmc/sensors.ts) and the sim's BMC (src/sim/bmc/max10-sensors.ts).

export type SensorType = 'temp' | 'in' | 'curr' | 'power';

export interface M10Sensor {
  type: SensorType;
  input: number;
  max: number;
  crit: number;
  hyst: number;
  min: number;
  multiplier: number;
  label: string;
}

/** The firmware's "sensor value invalid" (do_sensor_read: the kernel returns -ENODATA), e.g. an empty QSFP cage. */
export const SENSOR_INVALID = 0xdeadbeef;

/** The unit of each hwmon type's value, and the factor from it to the unit fpgainfo prints. */
export const SENSOR_UNITS: Record<SensorType, { hwmon: string; unit: string; scale: number }> = {
  temp: { hwmon: 'millidegree C', unit: 'Celsius', scale: 1000 },
  in: { hwmon: 'mV', unit: 'Volts', scale: 1000 },
  curr: { hwmon: 'mA', unit: 'Amps', scale: 1000 },
  power: { hwmon: 'uW', unit: 'Watts', scale: 1_000_000 },
};

type Row = [input: number, max: number, crit: number, hyst: number, min: number, multiplier: number, label: string];
const rows = (type: SensorType, list: Row[]): M10Sensor[] =>
  list.map(([input, max, crit, hyst, min, multiplier, label]) => ({ type, input, max, crit, hyst, min, multiplier, label }));

const N3000: M10Sensor[] = [
  ...rows('temp', [
    [0x100, 0x104, 0x108, 0x10c, 0x0, 500, 'Board Temperature'],
    [0x110, 0x114, 0x118, 0x0, 0x0, 500, 'FPGA Die Temperature'],
    [0x11c, 0x124, 0x120, 0x0, 0x0, 500, 'QSFP0 Temperature'],
    [0x12c, 0x134, 0x130, 0x0, 0x0, 500, 'QSFP1 Temperature'],
    [0x168, 0x0, 0x0, 0x0, 0x0, 500, 'Retimer A Temperature'],
    [0x16c, 0x0, 0x0, 0x0, 0x0, 500, 'Retimer A SerDes Temperature'],
    [0x170, 0x0, 0x0, 0x0, 0x0, 500, 'Retimer B Temperature'],
    [0x174, 0x0, 0x0, 0x0, 0x0, 500, 'Retimer B SerDes Temperature'],
  ]),
  ...rows('in', [
    [0x128, 0x0, 0x0, 0x0, 0x0, 1, 'QSFP0 Supply Voltage'],
    [0x138, 0x0, 0x0, 0x0, 0x0, 1, 'QSFP1 Supply Voltage'],
    [0x13c, 0x0, 0x0, 0x0, 0x0, 1, 'FPGA Core Voltage'],
    [0x144, 0x0, 0x0, 0x0, 0x0, 1, '12V Backplane Voltage'],
    [0x14c, 0x0, 0x0, 0x0, 0x0, 1, '1.2V Voltage'],
    [0x150, 0x0, 0x0, 0x0, 0x0, 1, '12V AUX Voltage'],
    [0x158, 0x0, 0x0, 0x0, 0x0, 1, '1.8V Voltage'],
    [0x15c, 0x0, 0x0, 0x0, 0x0, 1, '3.3V Voltage'],
  ]),
  ...rows('curr', [
    [0x140, 0x0, 0x0, 0x0, 0x0, 1, 'FPGA Core Current'],
    [0x148, 0x0, 0x0, 0x0, 0x0, 1, '12V Backplane Current'],
    [0x154, 0x0, 0x0, 0x0, 0x0, 1, '12V AUX Current'],
  ]),
  ...rows('power', [[0x160, 0x0, 0x0, 0x0, 0x0, 1000, 'Board Power']]),
];

const D5005: M10Sensor[] = [
  ...rows('temp', [
    [0x100, 0x104, 0x108, 0x10c, 0x0, 500, 'Board Inlet Air Temperature'],
    [0x110, 0x114, 0x118, 0x0, 0x0, 500, 'FPGA Core Temperature'],
    [0x11c, 0x120, 0x124, 0x128, 0x0, 500, 'Board Exhaust Air Temperature'],
    [0x12c, 0x130, 0x134, 0x0, 0x0, 500, 'FPGA Transceiver Temperature'],
    [0x138, 0x13c, 0x140, 0x144, 0x0, 500, 'RDIMM0 Temperature'],
    [0x148, 0x14c, 0x150, 0x154, 0x0, 500, 'RDIMM1 Temperature'],
    [0x158, 0x15c, 0x160, 0x164, 0x0, 500, 'RDIMM2 Temperature'],
    [0x168, 0x16c, 0x170, 0x174, 0x0, 500, 'RDIMM3 Temperature'],
    [0x178, 0x17c, 0x180, 0x0, 0x0, 500, 'QSFP0 Temperature'],
    [0x188, 0x18c, 0x190, 0x0, 0x0, 500, 'QSFP1 Temperature'],
    [0x1a0, 0x1a4, 0x1a8, 0x0, 0x0, 500, '3.3v Temperature'],
    [0x1bc, 0x1c0, 0x1c4, 0x0, 0x0, 500, 'VCCERAM Temperature'],
    [0x1d8, 0x1dc, 0x1e0, 0x0, 0x0, 500, 'VCCR Temperature'],
    [0x1f4, 0x1f8, 0x1fc, 0x0, 0x0, 500, 'VCCT Temperature'],
    [0x210, 0x214, 0x218, 0x0, 0x0, 500, '1.8v Temperature'],
    [0x22c, 0x230, 0x234, 0x0, 0x0, 500, '12v Backplane Temperature'],
    [0x248, 0x24c, 0x250, 0x0, 0x0, 500, '12v AUX Temperature'],
  ]),
  ...rows('in', [
    [0x184, 0x0, 0x0, 0x0, 0x0, 1, 'QSFP0 Supply Voltage'],
    [0x194, 0x0, 0x0, 0x0, 0x0, 1, 'QSFP1 Supply Voltage'],
    [0x198, 0x0, 0x0, 0x0, 0x0, 1, 'FPGA Core Voltage'],
    [0x1ac, 0x1b0, 0x1b4, 0x0, 0x0, 1, '3.3v Voltage'],
    [0x1c8, 0x1cc, 0x1d0, 0x0, 0x0, 1, 'VCCERAM Voltage'],
    [0x1e4, 0x1e8, 0x1ec, 0x0, 0x0, 1, 'VCCR Voltage'],
    [0x200, 0x204, 0x208, 0x0, 0x0, 1, 'VCCT Voltage'],
    [0x21c, 0x220, 0x224, 0x0, 0x0, 1, '1.8v Voltage'],
    [0x238, 0x0, 0x0, 0x0, 0x23c, 1, '12v Backplane Voltage'],
    [0x254, 0x0, 0x0, 0x0, 0x258, 1, '12v AUX Voltage'],
  ]),
  ...rows('curr', [
    [0x19c, 0x0, 0x0, 0x0, 0x0, 1, 'FPGA Core Current'],
    [0x1b8, 0x0, 0x0, 0x0, 0x0, 1, '3.3v Current'],
    [0x1d4, 0x0, 0x0, 0x0, 0x0, 1, 'VCCERAM Current'],
    [0x1f0, 0x0, 0x0, 0x0, 0x0, 1, 'VCCR Current'],
    [0x20c, 0x0, 0x0, 0x0, 0x0, 1, 'VCCT Current'],
    [0x228, 0x0, 0x0, 0x0, 0x0, 1, '1.8v Current'],
    [0x240, 0x244, 0x0, 0x0, 0x0, 1, '12v Backplane Current'],
    [0x25c, 0x260, 0x0, 0x0, 0x0, 1, '12v AUX Current'],
  ]),
];

/** The sensor tables by the card class the BMC driver binds (intel-m10-bmc-hwmon.c n3000bmc_hwmon_bdata / d5005bmc_hwmon_bdata). */
export const M10_SENSORS: Record<'n3000' | 'd5005', readonly M10Sensor[]> = { n3000: N3000, d5005: D5005 };
