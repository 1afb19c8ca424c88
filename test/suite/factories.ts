// Device factories for the transport-parametrised sim suite. Every factory gives a Device of the
// simulated N3000-class card; the suite runs the same assertions on each:
// - 'sim': the in-process model on a VirtualClock (flows advance virtual time as they wait);
// - 'vfio-user': the same model served by a SEPARATE process (`vfiokit serve sim:n3000
//   --socket S`, spawned here) and opened as vfio-user:S. The served sim runs on the real clock
//   (serve adds clock=real): model delays are microseconds, so flows run in real time quickly.
//   One server serves the whole suite; each open() is a new client connection to the same card.
import type { Device } from '../../src/device/device.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { spawnServer, type SpawnedServer } from '../vfio-user/helpers/spawn.js';

export interface DeviceFactory {
  readonly name: string;
  /** True when the device lives in another process (time is real, faults are set by URL). */
  readonly remote: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  open(): Device;
}

export const inProcessSim: DeviceFactory = {
  name: 'sim (in-process, virtual clock)',
  remote: false,
  async setup() {},
  async teardown() {},
  open: () => createSimCard('n3000'),
};

export function servedSim(url = 'sim:n3000'): DeviceFactory {
  let server: SpawnedServer | undefined;
  return {
    name: `${url} served over vfio-user (separate process, real clock)`,
    remote: true,
    async setup() {
      server = await spawnServer('src/cli/main.ts', ['serve', url, '--socket', '{socket}'], /^serving /);
    },
    async teardown() {
      await server?.kill();
    },
    open() {
      if (!server) throw new Error('servedSim: setup() did not run');
      return new VfioUserDevice(server.socket);
    },
  };
}
