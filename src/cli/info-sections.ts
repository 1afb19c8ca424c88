// The fpgainfo-style sections of `vfiokit info DEVICE SECTION`: temp, power, bmc, security (errors
// is `vfiokit errors`). Each reads the card's own registers: the FME thermal / power features
// (src/afu/thermal.ts, power.ts) and the BMC's sensors and security data (src/afu/bmc/sensors.ts,
// security.ts), and prints them as fpgainfo does ("//****** TEMP ******//", one row per reading)
// or as one JSON document.
import type { Device } from '../device/device.js';
import { Card } from '../afu/card.js';
import { openBmc } from '../afu/bmc/bmc.js';
import type { BmcSensorReading } from '../afu/bmc/sensors.js';
import type { BmcSecurity } from '../afu/bmc/security.js';
import { fmeThermalDriver, type FmeThermal } from '../afu/thermal.js';
import { fmePowerDriver, type FmePower } from '../afu/power.js';
import { DeviceError } from '../errors.js';
import { table } from './table.js';

export const INFO_SECTIONS = ['temp', 'power', 'bmc', 'security', 'errors'] as const;
export type InfoSection = (typeof INFO_SECTIONS)[number];

export interface SectionReport {
  json: Record<string, unknown>;
  text: string;
}

const TYPES: Record<'temp' | 'power' | 'bmc', readonly BmcSensorReading['type'][]> = { temp: ['temp'], power: ['power', 'curr', 'in'], bmc: ['temp', 'in', 'curr', 'power'] };

const fixed = (v: number | undefined): string => (v === undefined ? 'N/A' : v.toFixed(2));
const onOff = (b: boolean): string => (b ? 'tripped' : 'ok');

function sensorTable(sensors: BmcSensorReading[]): string {
  return table(['', 'sensor', { header: 'value', align: 'right' }, 'unit', 'limits'], sensors.map((s, i) => [
    `(${String(i + 1).padStart(2)})`, s.label, fixed(s.value), s.unit,
    [s.max !== undefined ? `max ${fixed(s.max)}` : '', s.crit !== undefined ? `crit ${fixed(s.crit)}` : '', s.min !== undefined ? `min ${fixed(s.min)}` : ''].filter(Boolean).join(', ') || '',
  ]), { indent: '  ' });
}

/** PORT_STS[11:8] as the port's power_state (dfl.h PORT_STS_PWR_STATE_*). */
const POWER_STATES: Record<number, string> = { 0: 'normal', 1: 'AP1 (50% throttle)', 2: 'AP2 (90% throttle)', 6: 'AP6 (100% throttle)' };

function portPowerRows(ports: { port: number; powerState: number; ap1Event: boolean; ap2Event: boolean }[]): unknown[][] {
  return ports.map((p) => [`Port ${p.port} power state (power_state)`, String(p.powerState), '', `${POWER_STATES[p.powerState] ?? 'reserved'}; ap1_event ${Number(p.ap1Event)}, ap2_event ${Number(p.ap2Event)}`]);
}

function thermalText(t: FmeThermal, ports: Parameters<typeof portPowerRows>[0]): string {
  const rows: unknown[][] = [['FPGA Temperature (temp1_input)', fixed(t.temperatureC), 'Celsius', '']];
  if (t.thresholds) {
    const th = t.thresholds;
    rows.push(
      ['Threshold 1 (temp1_max)', fixed(th.maxC), 'Celsius', `${th.maxEnabled ? '' : 'disabled, '}${onOff(th.maxAlarm)}, policy ${th.maxPolicy === 'AP1' ? 'AP1 (50% throttle)' : 'AP2 (90% throttle)'}`],
      ['Threshold 2 (temp1_crit)', fixed(th.critC), 'Celsius', `${th.critEnabled ? '' : 'disabled, '}${onOff(th.critAlarm)}, 100% throttle`],
      ['Trip (temp1_emergency)', fixed(th.emergencyC), 'Celsius', 'FPGA shuts down'],
    );
  } else {
    rows.push(['Thresholds', '-', '', 'the hardware does not throttle (FME_THERM_CAP[0])']);
  }
  rows.push(...portPowerRows(ports));
  return table(['reading', { header: 'value', align: 'right' }, 'unit', 'state'], rows, { indent: '  ' });
}

function powerText(p: FmePower): string {
  return table(['reading', { header: 'value', align: 'right' }, 'unit', 'state'], [
    ['FPGA Power (power1_input)', fixed(p.consumedW), 'Watts', ''],
    ['Threshold 1 (power1_max)', fixed(p.maxW), 'Watts', onOff(p.maxAlarm)],
    ['Threshold 2 (power1_crit)', fixed(p.critW), 'Watts', onOff(p.critAlarm)],
    ['Xeon limit (power1_xeon_limit)', p.xeonLimitW === undefined ? 'N/A' : fixed(p.xeonLimitW), 'Watts', p.xeonLimitW === undefined ? 'not enabled' : ''],
    ['FPGA limit (power1_fpga_limit)', p.fpgaLimitW === undefined ? 'N/A' : fixed(p.fpgaLimitW), 'Watts', p.fpgaLimitW === undefined ? 'not enabled' : ''],
    ['Latency tolerance (power1_ltr)', String(Number(p.latencyTolerance)), '', ''],
  ], { indent: '  ' });
}

function securityText(s: BmcSecurity): string {
  const names = { sr: 'FIM (SR)', bmc: 'BMC', pr: 'PR' } as const;
  const rows: unknown[][] = [];
  for (const area of ['bmc', 'sr', 'pr'] as const) rows.push([`${names[area]} root entry hash`, s.rootEntryHash[area] ?? 'hash not programmed']);
  for (const area of ['bmc', 'sr', 'pr'] as const) rows.push([`${names[area]} CSK IDs canceled`, s.canceledCsks[area].length ? s.canceledCsks[area].join(',') : 'None']);
  rows.push(['User flash update counter', s.flashCount]);
  return table(['item', 'value'], rows, { indent: '  ' });
}

/** Read one section from an open device. Throws DeviceError when the card has nothing for it. */
export async function readInfoSection(device: Device, section: Exclude<InfoSection, 'errors'>): Promise<SectionReport> {
  const card = Card.discover(device);
  const header = `//****** ${section === 'temp' ? 'TEMP' : section === 'power' ? 'POWER' : section === 'bmc' ? 'BMC SENSORS' : 'SECURITY'} ******//`;
  const json: Record<string, unknown> = {};
  const text: string[] = [header];
  const fme = card.fme;
  if (section === 'temp' && fme?.instance(fmeThermalDriver)) {
    const t = fme.thermal();
    // The throttling the thresholds stand for shows in each port's PORT_STS (dfl-afu-main.c power_state_show).
    const ports = card.ports.map((p) => {
      const { powerState, ap1Event, ap2Event } = p.status;
      return { port: p.number, powerState, ap1Event, ap2Event };
    });
    json.thermal = t;
    json.ports = ports;
    text.push('FME thermal management (feature 0x1):', thermalText(t, ports));
  }
  if (section === 'power' && fme?.instance(fmePowerDriver)) {
    const p = fme.power();
    json.power = p;
    text.push('FME power management (feature 0x2):', powerText(p));
  }
  let bmcError: unknown;
  if (fme) {
    try {
      using bmc = await openBmc(device, { card });
      if (section === 'security') {
        const s = bmc.security();
        json.security = s;
        text.push(securityText(s));
      } else {
        const sensors = bmc.sensors().filter((s) => TYPES[section].includes(s.type));
        json.bmcSensors = sensors;
        text.push(`BMC sensors (${bmc.location.device}):`, sensorTable(sensors));
      }
    } catch (err) {
      if (!(err instanceof DeviceError) || !err.code.startsWith('ENOBMC')) throw err;
      bmcError = err;
    }
  }
  if (text.length === 1) {
    const what = section === 'security' || section === 'bmc' ? 'a BMC' : `an FME ${section === 'temp' ? 'thermal (0x1)' : 'power (0x2)'} feature or a BMC`;
    throw new DeviceError('ENODATA', `${device.url} has no ${what} to read ${section} from${bmcError ? ` (${(bmcError as Error).message})` : ''}`, { device: device.url, section });
  }
  return { json, text: text.join('\n') };
}
