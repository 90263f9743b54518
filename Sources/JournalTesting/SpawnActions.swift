#if canImport(Glibc)
import Glibc

/// Adds to `actions` a close, in the child, of every descriptor from `first` up: a long-lived child started
/// with `posix_spawn` otherwise inherits whatever this process has open without `FD_CLOEXEC` — another child's
/// pipe, or the socket through which Foundation's `Process` learns that its child exited — and whoever waits for
/// that descriptor's end waits for as long as the child runs. glibc (2.34 and later) does the closing atomically
/// in the child; Swift's Glibc module does not declare the function, so it is looked up by name.
public func addCloseFrom(_ first: Int32, to actions: inout posix_spawn_file_actions_t) -> Int32 {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
        return ENOSYS
    }
    return unsafeBitCast(symbol, to: CloseFrom.self)(&actions, first)
}
#endif
