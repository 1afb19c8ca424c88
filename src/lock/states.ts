// Reservation states of one card and the transitions allowed between them.
//
//   FREE -> RESERVED -> PROGRAM -> INACTIVE -> ACTIVE -> FREE        (the normal life)
//   RESET from any state, by the owner (or anyone with --force); RESET ends in RESERVED or FREE.
//
// PROGRAM is "a bitstream is being written" (PR into the port, or the flash of a secure update):
// nobody may free the card under it without force. INACTIVE is "the AFU is loaded but its port is
// held in reset / no application runs it"; ACTIVE is "an application drives the AFU". A PROGRAM
// that fails returns to RESERVED (the owner keeps the card). RESERVED, INACTIVE and ACTIVE may be
// freed by the owner; re-programming goes INACTIVE -> PROGRAM (ACTIVE first steps to INACTIVE).
import { VfiokitError } from '../errors.js';

export const ReservationState = {
  FREE: 'FREE',
  RESERVED: 'RESERVED',
  PROGRAM: 'PROGRAM',
  INACTIVE: 'INACTIVE',
  ACTIVE: 'ACTIVE',
  RESET: 'RESET',
} as const;
export type ReservationState = (typeof ReservationState)[keyof typeof ReservationState];

export const RESERVATION_STATES: readonly ReservationState[] = Object.values(ReservationState);

/** Allowed next states (RESET is allowed from every state and is not repeated here). */
const NEXT: Record<ReservationState, readonly ReservationState[]> = {
  FREE: ['RESERVED'],
  RESERVED: ['PROGRAM', 'FREE'],
  PROGRAM: ['INACTIVE', 'RESERVED'],
  INACTIVE: ['ACTIVE', 'PROGRAM', 'FREE'],
  ACTIVE: ['INACTIVE', 'FREE'],
  RESET: ['RESERVED', 'FREE'],
};

/** A transition the state machine does not allow. */
export class TransitionError extends VfiokitError {}

export function isReservationState(s: string): s is ReservationState {
  return (RESERVATION_STATES as readonly string[]).includes(s);
}

/** The states reachable from `from` in one step. */
export function nextStates(from: ReservationState): ReservationState[] {
  const next = [...NEXT[from]];
  if (from !== 'RESET') next.push('RESET');
  return next;
}

export function canTransition(from: ReservationState, to: ReservationState): boolean {
  return nextStates(from).includes(to);
}

/** Throw a TransitionError naming the device, both states and what is allowed. */
export function checkTransition(device: string, from: ReservationState, to: ReservationState): void {
  if (canTransition(from, to)) return;
  throw new TransitionError('ETRANSITION', `${device}: cannot go from ${from} to ${to}; from ${from} the next state may be ${nextStates(from).join(', ')}`, { device, from, to, allowed: nextStates(from) });
}
