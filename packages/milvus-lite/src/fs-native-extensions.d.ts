// The part of fs-native-extensions (no types of its own) that leasehold uses.
declare module 'fs-native-extensions' {
  /** Takes an exclusive (or shared) lock on `fd` without waiting: OFD lock on Linux, flock on macOS, LockFileEx on Windows. false: held elsewhere. */
  function tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
  function unlock(fd: number, offset?: number, length?: number): void;
  const fsx: { tryLock: typeof tryLock; unlock: typeof unlock };
  export default fsx;
}
