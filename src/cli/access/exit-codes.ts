// Exit codes of `kubectl drawbridge` (docs/cli.md lists them): scripts can tell a refusal from a
// failure to ask, and a timeout from either.
export const EXIT = {
  /** Done: the request was created (and with --wait became Active), or the command succeeded. */
  ok: 0,
  /** An error talking to the API server, or the object was not found. */
  error: 1,
  /** The command line is wrong (unknown flag, missing argument). */
  usage: 2,
  /**
   * Refused: the policy does not allow it (checked before creating, or Denied by the operator); for
   * approve/reject, the answer would not count, admission refused it, or the operator did not count it.
   */
  denied: 3,
  /** --wait gave up before the request became Active, or the operator had not recorded an answer (--timeout). */
  timeout: 4,
  /** --my-ip found no usable public address. */
  myIp: 5,
  /** The request closed without opening (Failed, Revoked or Expired while waiting). */
  closed: 6,
} as const;
