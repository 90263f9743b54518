#if canImport(Glibc)
import Foundation
import Glibc

/// Adds to `actions` a close, in the child, of every descriptor from `first` up: a long-lived child started
/// with `posix_spawn` otherwise inherits whatever this process has open without `FD_CLOEXEC` — another child's
/// pipe, or the socket through which Foundation's `Process` learns that its child exited — and whoever waits for
/// that descriptor's end waits for as long as the child runs. glibc 2.34 and later close them atomically in the
/// child (Swift's Glibc module does not declare the function, so it is looked up by name); before, each
/// descriptor open now is closed, which misses only one opened meanwhile by another thread.
public func addCloseFrom(_ first: Int32, to actions: inout posix_spawn_file_actions_t) -> Int32 {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") {
        return unsafeBitCast(symbol, to: CloseFrom.self)(&actions, first)
    }
    let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap { Int32($0) } ?? []
    for descriptor in open.sorted() where descriptor >= first {
        // A descriptor closed before the spawn (the directory's own) fails in the child with EBADF, which glibc ignores.
        let status = posix_spawn_file_actions_addclose(&actions, descriptor)
        guard status == 0 else { return status }
    }
    return 0
}
#endif
