/** What `promise` rejects with; fails (with `expected` as the message) if it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>, expected = 'expected the promise to reject'): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error(expected);
}
