// The sim suite on every transport: in-process, and served from a separate process over vfio-user.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineSimSuite } from './sim-suite.js';
import { inProcessSim, servedSim } from './factories.js';

// Flash status files (secure update) go to a directory of this run.
process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-suite-'));

defineSimSuite(inProcessSim);
defineSimSuite(servedSim('sim:n3000?bmcTiming=fast'));
