// Runtime control of a simulated card: arm or clear a fault while a driver is using the card (the
// card lane arms the reset-ACK fault after Linux's port driver has probed; `vfiokit serve
// --control` reads these requests as JSON lines on stdin). A request names one knob:
//   {"fault": "reset-ack" | "dma", "on": true|false}      card faults (SimFault)
//   {"prFault": "crc" | ..., "on": true|false}           PR engine faults (PrFault)
//   {"bmcFault": "auth-fail" | ..., "on": true|false}    BMC faults (Max10Fault), taken by the next update
//   {"fpgaTemp": C} / {"fpgaPower": W}                   FME thermal / power readings (alarms follow)
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
  /** Arm (default) or clear. */
  on?: boolean;
}

/** Apply one request to `device`; a typed error says what was wrong with it. */
export function applySimControl(device: SimDevice, request: unknown): string {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ArgumentError('EARG_SIM_CONTROL', `a sim control request is a JSON object like {"fault":"reset-ack","on":true}, not ${JSON.stringify(request)}`);
  }
  const r = request as Record<string, unknown>;
  const knobs = ['fault', 'prFault', 'bmcFault', 'fpgaTemp', 'fpgaPower'];
  const unknown = Object.keys(r).filter((k) => ![...knobs, 'on'].includes(k));
  if (unknown.length) throw new ArgumentError('EARG_SIM_CONTROL', `unknown sim control key(s) ${unknown.join(', ')}; known: ${knobs.join(', ')}, on`);
  if (r.on !== undefined && typeof r.on !== 'boolean') throw new ArgumentError('EARG_SIM_CONTROL', `"on" must be true or false, not ${JSON.stringify(r.on)}`);
  const on = r.on !== false;
  if (knobs.filter((k) => r[k] !== undefined).length !== 1) {
    throw new ArgumentError('EARG_SIM_CONTROL', `a sim control request names exactly one of ${knobs.map((k) => `"${k}"`).join(', ')}`);
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
