// A secure update through `vfiokit serve` (issue 14 item 11): the N3000's BMC path is ~45
// trapped register accesses per 32-bit BMC word (dfl-n3000-nios.c indirect commands, each polled;
// spi-altera-core.c words, each polled for RRDY; regmap-spi-avmm.c one word per write
// transaction). With REGION_BATCH negotiated they travel many BMC words per message; without it
// (a server that does not offer it) every access is a message, as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from './helpers/spawn.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { WRITE_BLOCK_SIZE } from '../../src/afu/bmc/registers.js';
import { M10BMC_SYS_BASE, SYS_BUILD_VER } from '../../src/dfl/regs/max10-bmc.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';

const MiB = 1024 * 1024;

describe('flash through a served card: BMC traffic in batches', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000?bmcTiming=fast', '--socket', '{socket}'], /^serving /);
  }, 60_000);
  afterAll(async () => {
    await server?.kill();
  });

  it('a BMC register read is a few messages with REGION_BATCH, ~40 without it', async () => {
    const count = async (regionBatch: boolean): Promise<{ messages: number; value: number }> => {
      using device = new VfioUserDevice(server.socket, { regionBatch });
      using bmc = await openBmc(device);
      const before = device.commandsSent;
      const value = bmc.transport.read32(M10BMC_SYS_BASE + SYS_BUILD_VER);
      return { messages: device.commandsSent - before, value };
    };
    const one = await count(false);
    const batched = await count(true);
    expect(batched.value).toBe(one.value);
    // Chip select (4 commands), the request (5 SPI words) and the answer (2), each SPI word a
    // TXDATA write, a STATUS and an RXDATA read: 2 messages per Nios command.
    expect(one.messages).toBeGreaterThanOrEqual(30);
    // The request and the answer's first words in one batch, chip select off in another.
    expect(batched.messages).toBeLessThanOrEqual(3);
  }, 60_000);

  it('a 1 MiB update completes in a bounded number of round trips: staging at well under one message per BMC word', async () => {
    using device = new VfioUserDevice(server.socket);
    using bmc = await openBmc(device);
    const image = buildSignedImage({ contentType: 0, payload: patternPayload(MiB, 11), version: 'served-1mib' });
    const marks: number[] = [];
    const start = device.commandsSent;
    const result = await bmc.update.flash(image, {
      onProgress: (p) => { if (p.state === 'READY') marks.push(device.commandsSent); },
    });
    expect(result).toMatchObject({ state: 'DONE', image: { version: 'served-1mib' } });
    const words = image.length / 4;
    // One READY event per 16 KiB block written: the messages between the first and the last are staging.
    const staging = (marks.at(-1)! - marks[0]!) / (words - WRITE_BLOCK_SIZE / 4);
    expect(staging).toBeLessThan(0.02);
    // Staging in batches of hundreds of words, plus the doorbell handshake and the kernel's polls
    // while the BMC erases, authenticates and copies (each status read a few messages).
    expect(device.commandsSent - start).toBeLessThan(4000);
  }, 600_000);
});
