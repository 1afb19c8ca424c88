// Runtime control of a simulated card: arm or clear a fault while a driver is using the card (the
// card lane arms the reset-ACK fault after Linux's port driver has probed; `vfiokit serve
// --control` reads these requests as JSON lines on stdin). A request names one knob:
//   {"fault": "reset-ack" | "dma", "on": true|false}      card faults (SimFault)
//   {"prFault": "crc" | ..., "on": true|false}           PR engine faults (PrFault)
import { ArgumentError } from '../errors.js';
import { PR_FAULTS, prEngineOf, type PrFault } from './pr-engine.js';
import { SIM_FAULTS, type SimFault } from './sim-card.js';
import type { SimDevice } from './sim-device.js';

export interface SimControlRequest {
  fault?: SimFault;
  prFault?: PrFault;
  /** Arm (default) or clear. */
  on?: boolean;
}

/** Apply one request to `device`; a typed error says what was wrong with it. */
export function applySimControl(device: SimDevice, request: unknown): string {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new ArgumentError('EARG_SIM_CONTROL', `a sim control request is a JSON object like {"fault":"reset-ack","on":true}, not ${JSON.stringify(request)}`);
  }
  const r = request as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !['fault', 'prFault', 'on'].includes(k));
  if (unknown.length) throw new ArgumentError('EARG_SIM_CONTROL', `unknown sim control key(s) ${unknown.join(', ')}; known: fault, prFault, on`);
  if (r.on !== undefined && typeof r.on !== 'boolean') throw new ArgumentError('EARG_SIM_CONTROL', `"on" must be true or false, not ${JSON.stringify(r.on)}`);
  const on = r.on !== false;
  if ((r.fault === undefined) === (r.prFault === undefined)) throw new ArgumentError('EARG_SIM_CONTROL', 'a sim control request names exactly one of "fault" or "prFault"');
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
