// Signing's error type, in a module of its own so code that only needs to recognise it does
// not load openpgp (about 100 ms of start-up on the firmware engine).
export class SignerError extends Error {
  override readonly name = "SignerError";
}
