// Adapters that let the PR and secure-update flows take the card's reservation for exactly their
// duration, through the hooks those flows expose (PrOptions.reservation, FlashOptions.reserve).
//
//   partialReconfigure(target, gbs, { reservation: prReservationHook(url, { signature, afuGuid }) })
//   new SecureUpdate(...).flash(image, { reserve: flashReserveHook(url) })
//
// PR: FREE/RESERVED/INACTIVE/ACTIVE -> PROGRAM -> INACTIVE with the bitstream recorded (success)
// or -> RESERVED (failure). Flash: -> PROGRAM -> RESERVED either way (the running AFU is unchanged
// until the card reboots). A card that was FREE is reserved for the operation and freed after it.
import { enterReservation, type BitstreamRecord, type ReservationHold, type CallerOptions } from './reservations.js';

/** The shape of PrOptions.reservation (src/afu/pr/partial-reconfiguration.ts). */
export interface PrReservationHook {
  begin(info: { operation: 'pr'; port: number }): void;
  end(info: { operation: 'pr'; port: number; ok: boolean }): void;
}

/** Reservation hook for partial reconfiguration of `device`; `bitstream` is recorded on success. */
export function prReservationHook(device: string, bitstream?: Omit<BitstreamRecord, 'loadedAt'>, options: CallerOptions = {}): PrReservationHook {
  let hold: ReservationHold | undefined;
  return {
    begin() {
      hold = enterReservation(device, 'PROGRAM', options);
      if (bitstream) hold.setBitstream(bitstream);
    },
    end({ ok }) {
      hold?.leave(ok);
      hold = undefined;
    },
  };
}

/** Reservation hook for a secure update (FlashOptions.reserve in src/afu/bmc/secure-update.ts). */
export function flashReserveHook(device: string, options: CallerOptions = {}): (purpose: string) => { release(): void } {
  return () => {
    const hold = enterReservation(device, 'PROGRAM', { ...options, next: 'RESERVED' });
    return { release: () => hold.leave(true) };
  };
}

/** Reservation for a reset or reboot of `device` (RESET, then back to RESERVED; freed if it was free). */
export function resetReservation(device: string, options: CallerOptions = {}): ReservationHold {
  return enterReservation(device, 'RESET', options);
}
