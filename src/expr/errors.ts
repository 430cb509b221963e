/**
 * The two ways an expression fails. A syntax error is found when compiling (at
 * policy load, so it becomes a config error); an evaluation error happens
 * against a request and callers turn it into a fail-closed outcome — it never
 * escapes as any other exception type.
 */

/** The source is not a valid expression, or breaks a limit. */
export class ExpressionSyntaxError extends Error {
  override readonly name = "ExpressionSyntaxError" as const;
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    readonly source: string,
    /** 0-based index into `source` (UTF-16 units), -1 when not about one place. */
    readonly position: number,
  ) {
    super(position >= 0 ? `${reason} at position ${position}` : reason);
  }
}

/** Evaluating against a context failed (undefined variable, ordering mixed types, …). */
export class ExpressionEvalError extends Error {
  override readonly name = "ExpressionEvalError" as const;
}

/** True for an {@link ExpressionSyntaxError}, also one from another copy of this module. */
export function isExpressionSyntaxError(e: unknown): e is ExpressionSyntaxError {
  return e instanceof Error && e.name === "ExpressionSyntaxError";
}

/** True for an {@link ExpressionEvalError}, also one from another copy of this module. */
export function isExpressionEvalError(e: unknown): e is ExpressionEvalError {
  return e instanceof Error && e.name === "ExpressionEvalError";
}
