// vfiokit/reservations: sharing cards between users and processes (flock'd lock files, the
// FREE/RESERVED/PROGRAM/... state machine, stale owners), as `vfiokit reserve` uses them.
export {
  reserve, free, transition, getReservation, listReservations, withReservation, reservationId, deviceForReservationId, canonicalDevice,
  ReservationError, RESERVATION_ID,
  type Reservation, type ReservationRecord, type ReservationOwner, type BitstreamRecord, type CallerOptions, type WithReservationOptions, type ReservationScope,
} from '../lock/reservations.js';
export { ReservationState, RESERVATION_STATES, TransitionError, nextStates, canTransition } from '../lock/states.js';
export { LockError, lockDir } from '../lock/lock-file.js';
