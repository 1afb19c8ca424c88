// Files the Python tests (python/tests) feed the daemon: `tsx test/daemon/fixtures.ts DIR` writes
// DIR/vc.bin (a signed BMC update image the sim card accepts), DIR/afu.gbs (a GBS for the sim's PR
// engine, AFU GUID printed) and prints {"image", "gbs", "afuGuid", "simAfuGuid"} as JSON.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { buildSimGbs } from '../../src/sim-gbs.js';
import { SIM_AFU_GUID } from '../../src/sim/identity.js';

export const PY_FIXTURE_AFU_GUID = '3f0e1a2b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';

const dir = process.argv[2];
if (!dir) throw new Error('usage: tsx test/daemon/fixtures.ts DIR');
const image = join(dir, 'vc.bin');
const gbs = join(dir, 'afu.gbs');
writeFileSync(image, buildSignedImage({ contentType: 1, version: 'bmc-2.0.14', payload: patternPayload(256 * 1024, 5) }));
writeFileSync(gbs, buildSimGbs({ afuGuid: PY_FIXTURE_AFU_GUID, payloadBytes: 64 * 1024 }));
process.stdout.write(JSON.stringify({ image, gbs, afuGuid: PY_FIXTURE_AFU_GUID, simAfuGuid: SIM_AFU_GUID }) + '\n');
