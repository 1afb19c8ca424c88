// Device factories for the transport-parametrised sim suite. Every factory gives a Device of the
// simulated N3000-class card; the suite runs the same assertions on each:
// - 'sim': the in-process model on a VirtualClock (flows advance virtual time as they wait);
// - 'vfio-user': the same model served by a SEPARATE process (`vfiokit serve sim:n3000
//   --socket S`, spawned here) and opened as vfio-user:S. The served sim runs on the real clock
//   (serve adds clock=real): model delays are microseconds, so flows run in real time quickly.
//   One server serves the whole suite; each open() is a new client connection to the same card.
//   The suite serves sim:n3000?bmcTiming=fast: on the real clock the BMC model's real timings
//   (staging erase 15 s, authentication 5 s, copy >= 2 s) would make one secure update ~22 s.
import type { Device } from '../../src/device/device.js';
import { parseSimUrl } from '../../src/sim/backend.js';
import { SimDevice } from '../../src/sim/sim-device.js';
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

/** The in-process sim at `url`: every open() is a fresh card on its own VirtualClock. */
export function inProcessSimAt(url: string): DeviceFactory {
  return {
    name: `${url} (in-process, virtual clock)`,
    remote: false,
    async setup() {},
    async teardown() {},
    open: () => {
      const { variant, options } = parseSimUrl(url);
      return new SimDevice(variant, options, url);
    },
  };
}

export const inProcessSim: DeviceFactory = inProcessSimAt('sim:n3000');

/** The served sim at `url`: one server process for the suite, every open() a new connection to its card. */
export function servedSim(url = 'sim:n3000?bmcTiming=fast'): DeviceFactory {
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
