// vfiokit/manage: the management API for scripting cards (Cyborg-style), mirroring the DPDK ifpga
// "opae" Python module. Plain functions use a shared default instance (numbers and null on
// failure, lastError() for why); createManagementApi({ throwOnError: true }) gives typed errors.
//
//   import * as fpga from 'vfiokit/manage';
//   const ids = await fpga.enumerate({ did: 0x0b30 });
//   await fpga.initEal();
//   if (await fpga.bind(ids[0], 'vfio-pci') === 0 && await fpga.probe(ids[0]) === 0) {
//     const prop = await fpga.getProperty(ids[0]);
//     ...
//   }
//   await fpga.cleanupEal();
import { ManagementApi, type ManagementOptions } from './api.js';

export { ManagementApi, PropertyMask, ProcType } from './api.js';
export type { ManagementOptions, EnumerateFilter, ApiVersion, LastError, PciProperty, ProbedDevice } from './api.js';
export { LogLevel } from './log.js';
export { errnoOf, negativeErrno } from './errno.js';

/** A separate API instance (its own probed devices), e.g. { throwOnError: true }. */
export function createManagementApi(options: ManagementOptions = {}): ManagementApi {
  return new ManagementApi(options);
}

/** The instance behind the plain functions below. */
export const defaultApi = new ManagementApi();

export const getApiVersion = defaultApi.getApiVersion.bind(defaultApi);
export const setLogLevel = defaultApi.setLogLevel.bind(defaultApi);
export const setLogFile = defaultApi.setLogFile.bind(defaultApi);
export const initEal = defaultApi.initEal.bind(defaultApi);
export const getProcType = defaultApi.getProcType.bind(defaultApi);
export const cleanupEal = defaultApi.cleanupEal.bind(defaultApi);
export const enumerate = defaultApi.enumerate.bind(defaultApi);
export const bind = defaultApi.bind.bind(defaultApi);
export const unbind = defaultApi.unbind.bind(defaultApi);
export const probe = defaultApi.probe.bind(defaultApi);
export const remove = defaultApi.remove.bind(defaultApi);
export const getProperty = defaultApi.getProperty.bind(defaultApi);
export const getImageInfo = defaultApi.getImageInfo.bind(defaultApi);
export const getStatus = defaultApi.getStatus.bind(defaultApi);
export const cancel = defaultApi.cancel.bind(defaultApi);
export const getParent = defaultApi.getParent.bind(defaultApi);
export const getChild = defaultApi.getChild.bind(defaultApi);
export const getPf1 = defaultApi.getPf1.bind(defaultApi);
export const pr = defaultApi.pr.bind(defaultApi);
export const flash = defaultApi.flash.bind(defaultApi);
export const reboot = defaultApi.reboot.bind(defaultApi);
export const getPhyInfo = defaultApi.getPhyInfo.bind(defaultApi);
export const lastError = defaultApi.lastError.bind(defaultApi);
