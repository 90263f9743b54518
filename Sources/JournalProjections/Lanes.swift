import Foundation
import Synchronization

/// Lanes of work run at the same time, each on a thread of its own.
///
/// `DispatchQueue.concurrentPerform` shares the pool's threads among its calls: one nested in
/// another, on a machine with as many cores as the outer call has lanes, runs its lanes one after the
/// other. A rebuild folds several projections at once, and inside each it reads the next group of
/// events while the group before is written; both levels need their lanes to overlap.
enum Lanes {
    /// Runs `body` for each lane in `0..<count`, lane 0 on the calling thread and each other on a new
    /// thread; returns once every lane has returned.
    static func run(_ count: Int, _ body: @Sendable (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The threads outlive their work by a moment: they hold the work through a box that is
            // emptied before `body` stops being valid.
            let work = Work(body)
            let finished = DispatchGroup()
            for lane in 1..<count {
                finished.enter()
                Thread {
                    work.run(lane)
                    finished.leave()
                }.start()
            }
            body(0)
            finished.wait()
            work.clear()
        }
    }

    private final class Work: Sendable {
        private let body: Mutex<(@Sendable (Int) -> Void)?>

        init(_ body: @escaping @Sendable (Int) -> Void) {
            self.body = Mutex(body)
        }

        func run(_ lane: Int) {
            body.withLock { $0 }?(lane)
        }

        func clear() {
            body.withLock { $0 = nil }
        }
    }
}
