// Feature drivers a card binds by default, keyed '<fiu>:<feature id>' as the sim's feature models
// are (src/sim/defaults.ts): the PR manager 'fme:0x5', the global errors 'fme:0x4', thermal 'fme:0x1' and power 'fme:0x2' and the BMC's
// transport features 'fme:0xd', 'fme:0xe', 'fme:0x12', and the port errors 'port:0x10'. Card.discover's options.drivers add to or
// replace these per card. A helper that adds a driver adds its line here.
// A function, not a constant: the driver modules import the card model, so the list is read at
// discover time, when every module of the cycle has been evaluated.
import type { FeatureDriver } from './feature-driver.js';
import { fmePrDriver } from './pr/fme-pr.js';
import { fmeErrorDriver } from './fme-errors.js';
import { bmcDriver } from './bmc/bmc.js';
import { portErrorDriver } from './port.js';
import { fmeThermalDriver } from './thermal.js';
import { fmePowerDriver } from './power.js';

export function defaultFeatureDrivers(): FeatureDriver[] {
  return [fmePrDriver, fmeErrorDriver, fmeThermalDriver, fmePowerDriver, bmcDriver, portErrorDriver];
}
