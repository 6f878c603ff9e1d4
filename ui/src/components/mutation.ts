// One request at a time per action: TanStack's useMutation, whose `mutate` ignores calls made
// while the previous one is in flight (a double click on Scan starts one operation, not two).
// `isPending` flips only on the next render, so the guard is a ref, set in the click itself.
import {
  useMutation as useTanstackMutation,
  type MutateOptions,
  type UseMutationOptions,
  type UseMutationResult,
} from "@tanstack/react-query";
import { useCallback, useRef } from "react";

/** `useMutation` whose `mutate` does nothing while a call is in flight (buttons also show
 * `loading`/`disabled` from `isPending`). */
export function useMutation<TData = unknown, TError = Error, TVariables = void, TContext = unknown>(
  options: UseMutationOptions<TData, TError, TVariables, TContext>,
): UseMutationResult<TData, TError, TVariables, TContext> {
  const mutation = useTanstackMutation(options);
  const busy = useRef(false);
  const inner = mutation.mutate;
  const mutate = useCallback(
    (variables: TVariables, opts?: MutateOptions<TData, TError, TVariables, TContext>) => {
      if (busy.current) return;
      busy.current = true;
      inner(variables, {
        ...opts,
        onSettled: (...args) => {
          busy.current = false;
          opts?.onSettled?.(...args);
        },
      });
    },
    [inner],
  );
  return { ...mutation, mutate } as UseMutationResult<TData, TError, TVariables, TContext>;
}
