// Errors of the card model.
import { TimeoutError, VfiokitError } from '../errors.js';

/**
 * PORT_CTRL[4] (soft reset ACK) did not follow PORT_CTRL[0] within the kernel's 1 ms
 * (dfl-afu-main.c RST_POLL_TIMEOUT). details: register, bar, offset, bit, expected, port.
 */
export class PortResetError extends TimeoutError {}

/** A secure update the BMC refused or failed, or a cancel that did not stop it; details carry the doorbell by name and AUTH_RESULT. */
export class FlashError extends VfiokitError {}
