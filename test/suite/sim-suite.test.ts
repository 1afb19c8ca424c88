// The sim suite on every transport: in-process, and served from a separate process over vfio-user.
import { defineSimSuite } from './sim-suite.js';
import { inProcessSim, servedSim } from './factories.js';

defineSimSuite(inProcessSim);
defineSimSuite(servedSim());
