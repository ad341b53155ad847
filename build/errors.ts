// Build steps stop with one sentence saying what went wrong and how to fix it; the
// driver prints `message` alone, so no stack dump reaches the user.
export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}
