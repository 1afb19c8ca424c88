// `flash(device, image)`: the secure update in one call, as the CLI's `vfiokit flash` does it:
// open the card's BMC, hold the card's reservation in state PROGRAM for the update, write the
// image through SecureUpdate (src/afu/bmc/secure-update.ts, the kernel's
// intel-m10-bmc-sec-update.c sequence) and close the BMC on every path.
import type { Device } from '../device/device.js';
import { openBmc, type OpenBmcOptions } from './bmc/bmc.js';
import { SecureUpdate, type FlashOptions, type FlashResult } from './bmc/secure-update.js';
import type { SignedImage } from './image/signed-image.js';
import { flashReserveHook } from '../lock/hooks.js';
import { canonicalDevice } from '../lock/reservations.js';

export interface FlashCardOptions extends Omit<FlashOptions, 'reserve'> {
  /**
   * The card's name for its status file, cancel requests (`vfiokit status` / `vfiokit cancel`
   * from another process) and reservation, e.g. the URL it was opened with. Without it the
   * update runs unrecorded and unreserved.
   */
  url?: string;
  /** Options for reaching the BMC (SPI-AVMM timeouts). */
  bmc?: OpenBmcOptions;
}

/**
 * Update the card's flash with a signed image (FPGA, BMC, ...) through its MAX10 BMC. Resolves
 * when the BMC has authenticated and copied the image; the new image runs after `rebootCard`.
 * Rejects with a FlashError naming the doorbell fields when the BMC refuses or fails.
 */
export async function flash(device: Device, image: Uint8Array | SignedImage, options: FlashCardOptions = {}): Promise<FlashResult> {
  const { url, bmc: bmcOptions, ...flashOptions } = options;
  const key = url === undefined ? undefined : canonicalDevice(url);
  using bmc = await openBmc(device, bmcOptions);
  const update = new SecureUpdate(bmc.transport, key === undefined ? {} : { device: key });
  return await update.flash(image, { ...flashOptions, ...(key === undefined ? {} : { reserve: flashReserveHook(key) }) });
}
