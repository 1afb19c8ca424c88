// BMC faults set by the sim URL (bmcFault=...), on every transport: a fresh in-process card, and
// the same URL served from a separate process over vfio-user.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, beforeAll, afterAll } from 'vitest';
import { inProcessSimAt, servedSim, type DeviceFactory } from './factories.js';
import { defineBmcFaultCases, URL_FAULT_SEQUENCE } from './secure-update-cases.js';

process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-suite-faults-'));

const faults = URL_FAULT_SEQUENCE.map(([f]) => f).join(',');

for (const factory of [inProcessSimAt(`sim:n3000?bmcFault=${faults}`), servedSim(`sim:n3000?bmcTiming=fast&bmcFault=${faults}`)] as DeviceFactory[]) {
  describe(`BMC faults from the URL on ${factory.name}`, () => {
    beforeAll(() => factory.setup(), 60_000);
    afterAll(() => factory.teardown());
    defineBmcFaultCases(factory);
  });
}
