// Runtime control of a simulated card: arm or clear a fault while a driver is using the card (the
// card lane arms the reset-ACK fault after Linux's port driver has probed; `vfiokit serve
// --control` reads these requests as JSON lines on stdin). A request names one knob:
//   {"fault": "reset-ack" | "dma", "on": true|false}      card faults (SimFault)
//   {"prFault": "crc" | ..., "on": true|false}           PR engine faults (PrFault)
//   {"bmcFault": "auth-fail" | ..., "on": true|false}    BMC faults (Max10Fault), taken by the next update
//   {"fpgaTemp": C} / {"fpgaPower": W}                   FME thermal / power readings (alarms follow)
//   {"fmeError" | "pcie0Error" | "pcie1Error": "0x.."}    latch FME_ERROR / PCIE0_ERROR / PCIE1_ERROR bits
//   {"portError": "0x.."}                                latch PORT_ERROR bits of port 0
// An error latches as the hardware latches one it detected: the bits stay until the host writes
// them back (dfl-fme-error.c fme_errors_store, dfl-afu-error.c afu_port_err_clear), and an
// unmasked one raises the feature's error interrupt. Values are 64-bit: a "0x.." or decimal
// string (JSON numbers lose bits above 2^53) or a safe integer.
import { ArgumentError } from '../errors.js';
import { thermalModelOf } from './thermal-model.js';
import { powerModelOf } from './power-model.js';
import { PR_FAULTS, prEngineOf, type PrFault } from './pr-engine.js';
import { SIM_FAULTS, type SimFault } from './sim-card.js';
import { MAX10_FAULTS, type Max10Fault } from './bmc/max10-model.js';
import { simBmcOf } from './bmc/sim-bmc.js';
import type { SimDevice } from './sim-device.js';

export interface SimControlRequest {
  fault?: SimFault;
  prFault?: PrFault;
  /** Armed: the next secure update meets it (the sim URL's bmcFault=); cleared: every armed BMC fault. */
  bmcFault?: Max10Fault;
  /** FPGA temperature (degrees C) the FME thermal sensor reports from now on. */
  fpgaTemp?: number;
  /** Power (W) the FME power feature reports from now on. */
  fpgaPower?: number;
  /** FME global error bits to latch (FME_ERROR, PCIE0_ERROR, PCIE1_ERROR). */
  fmeError?: string | number;
  pcie0Error?: string | number;
  pcie1Error?: string | number;
  /** PORT_ERROR bits to latch in port 0. */
  portError?: string | number;
  /** Arm (default) or clear (faults only: a latched error is cleared by the host writing it back). */
  on?: boolean;
}

/** The register each error key latches into. */
const ERROR_REGISTERS = { fmeError: 'FME_ERROR', pcie0Error: 'PCIE0_ERROR', pcie1Error: 'PCIE1_ERROR', portError: 'PORT_ERROR' } as const;
const CONTROL_KEYS: readonly string[] = ['fault', 'prFault', 'bmcFault', 'fpgaTemp', 'fpgaPower', ...Object.keys(ERROR_REGISTERS)];
const U64_MAX = (1n << 64n) - 1n;

/** A 64-bit error value: "0x.." / decimal string or a safe non-negative integer, not 0. */
function errorBits(key: string, value: unknown): bigint {
  let bits: bigint | undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) bits = BigInt(value);
  else if (typeof value === 'string' && /^(0x[0-9a-f]+|[0-9]+)$/i.test(value.trim())) bits = BigInt(value.trim());
  if (bits === undefined || bits <= 0n || bits > U64_MAX) {
    throw new ArgumentError('EARG_SIM_CONTROL', `"${key}" must be the error bits to latch, a non-zero 64-bit value as a "0x.." or decimal string (or a safe integer), not ${JSON.stringify(value)}`, { key, value: String(value) });
  }
  return bits;
}

/** Apply one request to `device`; a typed error says what was wrong with it. */
export function applySimControl(device: SimDevice, request: unknown): string {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ArgumentError('EARG_SIM_CONTROL', `a sim control request is a JSON object like {"fault":"reset-ack","on":true}, not ${JSON.stringify(request)}`);
  }
  const r = request as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !CONTROL_KEYS.includes(k) && k !== 'on');
  if (unknown.length) throw new ArgumentError('EARG_SIM_CONTROL', `unknown sim control key(s) ${unknown.join(', ')}; known: ${CONTROL_KEYS.join(', ')}, on`);
  if (r.on !== undefined && typeof r.on !== 'boolean') throw new ArgumentError('EARG_SIM_CONTROL', `"on" must be true or false, not ${JSON.stringify(r.on)}`);
  const on = r.on !== false;
  const named = CONTROL_KEYS.filter((k) => r[k] !== undefined);
  if (named.length !== 1) {
    throw new ArgumentError('EARG_SIM_CONTROL', `a sim control request names exactly one of ${CONTROL_KEYS.map((k) => `"${k}"`).join(', ')}`);
  }
  const key = named[0]!;
  if (key in ERROR_REGISTERS) {
    if (!on) throw new ArgumentError('EARG_SIM_CONTROL', `"${key}" latches error bits; the host clears them by writing them back (the kernel's errors sysfs), there is no "on": false`);
    const bits = errorBits(key, r[key]);
    const register = ERROR_REGISTERS[key as keyof typeof ERROR_REGISTERS];
    if (register === 'PORT_ERROR') device.sim.portError.inject(bits);
    else device.sim.fmeError.latch(register, bits);
    return `${register} latched 0x${bits.toString(16)}`;
  }
  // The models refuse what their register fields cannot hold.
  if (r.fpgaTemp !== undefined) {
    const model = thermalModelOf(device.sim.context);
    if (!model) throw new ArgumentError('EARG_SIM_CONTROL', `${device.url} has no FME thermal model to set`);
    model.setTemperature(r.fpgaTemp as number);
    return `fpga temperature ${String(r.fpgaTemp)} C`;
  }
  if (r.fpgaPower !== undefined) {
    const model = powerModelOf(device.sim.context);
    if (!model) throw new ArgumentError('EARG_SIM_CONTROL', `${device.url} has no FME power model to set`);
    model.setConsumption(r.fpgaPower as number);
    return `fpga power ${String(r.fpgaPower)} W`;
  }
  if (r.bmcFault !== undefined) {
    if (!(MAX10_FAULTS as readonly unknown[]).includes(r.bmcFault)) throw new ArgumentError('EARG_SIM_FAULT', `unknown BMC fault ${JSON.stringify(r.bmcFault)}; known: ${MAX10_FAULTS.join(', ')}`);
    const max10 = simBmcOf(device.sim.context)?.max10;
    if (!max10) throw new ArgumentError('EARG_SIM_CONTROL', `${device.url} has no BMC to arm ${String(r.bmcFault)} in`);
    if (on) max10.injectFault(r.bmcFault as Max10Fault);
    else max10.clearFaults();
    return `BMC fault ${String(r.bmcFault)} ${on ? 'armed' : 'cleared'}`;
  }
  if (r.fault !== undefined) {
    if (!(SIM_FAULTS as readonly unknown[]).includes(r.fault)) throw new ArgumentError('EARG_SIM_FAULT', `unknown sim fault ${JSON.stringify(r.fault)}; known: ${SIM_FAULTS.join(', ')}`);
    device.setFault(r.fault as SimFault, on);
    return `fault ${String(r.fault)} ${on ? 'armed' : 'cleared'}`;
  }
  if (!(PR_FAULTS as readonly unknown[]).includes(r.prFault)) throw new ArgumentError('EARG_SIM_FAULT', `unknown PR fault ${JSON.stringify(r.prFault)}; known: ${PR_FAULTS.join(', ')}`);
  const engine = prEngineOf(device.sim.context);
  if (!engine) throw new ArgumentError('EARG_SIM_CONTROL', `${device.url} has no PR engine model to arm ${String(r.prFault)} in`);
  if (on) engine.inject(r.prFault as PrFault);
  else engine.clearFaults(r.prFault as PrFault);
  return `PR fault ${String(r.prFault)} ${on ? 'armed' : 'cleared'}`;
}
