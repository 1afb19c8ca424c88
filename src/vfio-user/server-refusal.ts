// A refused command on the server side: the errno its error reply carries and why. Handlers throw
// it (refuse()); the connection loop turns it into an error reply and logs the message.
export class Refusal extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

export const refuse = (errno: number, message: string): never => {
  throw new Refusal(errno, message);
};
