/**
 * `p`'s value, or `late` once `ms` have passed without it settling: a bounded wait on a driver
 * call that a server which stopped answering would never settle (a goodbye, a cancel's login, a
 * close). `p` must not reject (catch it into a value first). The timer is cleared either way, so
 * it holds no process.
 * @example
 * await settleWithin(client.end().catch(() => undefined), 1000, undefined);
 */
export async function settleWithin<T>(
  p: PromiseLike<T>,
  ms: number,
  late: T,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((r) => (timer = setTimeout(r, ms, late))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
