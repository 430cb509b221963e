import { InvalidRequestError } from "../model/errors.ts";

/** Answers "which actions may this user do?" from an outside system (IAM, user database). */
export interface UserPermissionsProvider {
  getUserActions(user: string): Iterable<string> | Promise<Iterable<string>>;
}

/** The provider as a plain function. */
export type UserPermissionsFunction = (user: string) => Iterable<string> | Promise<Iterable<string>>;

/** Either form as a function; throws InvalidRequestError for anything else. */
export function providerFunction(p: UserPermissionsProvider | UserPermissionsFunction | undefined): UserPermissionsFunction | undefined {
  if (p === undefined) return undefined;
  if (typeof p === "function") return p;
  if (typeof p.getUserActions === "function") return (user) => p.getUserActions(user);
  throw new InvalidRequestError("userPermissions", "expected a function or an object with getUserActions(user)");
}

/** Whether the provider lists `action` for `user`; "error" when it failed (the decision then denies). */
export async function askProvider(
  provider: UserPermissionsFunction,
  user: string,
  action: string,
  onError: (error: unknown) => void,
): Promise<boolean | "error"> {
  try {
    const actions = await provider(user);
    if (actions instanceof Set) return actions.has(action);
    for (const a of actions) if (a === action) return true;
    return false;
  } catch (error) {
    onError(error);
    return "error";
  }
}
