export {
  compileExpression,
  DEFAULT_EXPRESSION_LIMITS,
  MAX_EXPRESSION_DEPTH,
  type CompiledExpression,
  type CompileOptions,
  type ExpressionLimits,
  type FieldResolver,
} from "./compile.ts";
export {
  ExpressionEvalError,
  ExpressionSyntaxError,
  isExpressionEvalError,
  isExpressionSyntaxError,
} from "./errors.ts";
export { isTruthy, valuesEqual, type Value } from "./values.ts";
export { tokenize, type Token, type TokenKind } from "./lexer.ts";
export type { Node as ExpressionNode } from "./ast.ts";
export { traceExpression, type ExpressionTrace } from "./trace.ts";
export { printExpression } from "./print.ts";
export { parse as parseExpression } from "./parser.ts";
