// The same PR flow against the sim card served by another process over vfio-user (a real UNIX
// socket; every register access is a message): the flow does not know the transport.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { Card } from '../../src/afu/card.js';
import { buildGbs, parseGbs } from '../../src/afu/pr/gbs.js';
import { reconfigureCard } from '../../src/afu/pr/card-pr.js';
import { PrError } from '../../src/afu/pr/partial-reconfiguration.js';
import { buildSimImage } from '../../src/sim/pr-engine-image.js';
import { SIM_AFU_GUID, SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';
import { spawnServer, type SpawnedServer } from '../vfio-user/helpers/spawn.js';

const NEW_AFU = '6f4e5d3c-2b1a-4c9d-8e7f-0a1b2c3d4e5f';

function gbs() {
  const payload = Uint8Array.from({ length: 4093 }, (_, i) => (i * 5) & 0xff);
  const image = buildSimImage({ interfaceUuid: SIM_PR_INTERFACE_ID, afuGuid: NEW_AFU, payload });
  return parseGbs(buildGbs({ interfaceUuid: SIM_PR_INTERFACE_ID, acceleratorClusters: [{ acceleratorTypeUuid: NEW_AFU }] }, image));
}

describe('PR over vfio-user (sim card in another process)', () => {
  let ok: SpawnedServer;
  let crc: SpawnedServer;
  beforeAll(async () => {
    [ok, crc] = await Promise.all([spawnServer('test/pr/fixtures/serve-sim.ts', ['{socket}']), spawnServer('test/pr/fixtures/serve-sim.ts', ['{socket}', 'crc'])]);
  });
  afterAll(async () => {
    await Promise.all([ok?.kill(), crc?.kill()]);
  });

  it('loads a GBS and a new walk through the socket shows the new AFU GUID', async () => {
    using device = new VfioUserDevice(ok.socket);
    const card = Card.discover(device);
    expect(card.afu(0)!.guid).toBe(SIM_AFU_GUID);
    const r = await reconfigureCard(card, gbs());
    expect(r.bytesWritten).toBe(4160);
    expect(Card.discover(device).afu(0)!.guid).toBe(NEW_AFU);
  });

  it('reports an injected CRC error and leaves the port enabled', async () => {
    using device = new VfioUserDevice(crc.socket);
    const card = Card.discover(device);
    const err = await reconfigureCard(card, gbs()).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(PrError);
    expect((err as PrError).code).toBe('EPR_CRC');
    expect(card.port(0)!.control.softReset).toBe(false);
    expect(Card.discover(device).afu(0)!.guid).toBe(SIM_AFU_GUID);
  });
});
