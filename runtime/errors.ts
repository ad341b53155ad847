/** One sentence for the user: typed errors carry their own; anything else keeps its name. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
