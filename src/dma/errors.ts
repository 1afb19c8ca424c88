// DMA errors: allocation, IOVA space, mapping budget, huge pages.
import { VfiokitError } from '../errors.js';

/** A DMA buffer could not be allocated, mapped or released. */
export class DmaError extends VfiokitError {}

/** The IOVA space (or the mapping budget) cannot hold another buffer of the size asked for. */
export class IovaExhaustedError extends DmaError {}
