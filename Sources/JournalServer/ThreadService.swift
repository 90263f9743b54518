import Foundation
import ServiceLifecycle

/// Runs blocking work on a thread of its own until graceful shutdown: `work` blocks until `stop` is
/// called (from shutdown or cancellation) and has wound down.
///
/// The server's appends' writer (``GroupCommit/run()``, which records the batches already waiting
/// before it stops), its WAL checkpointer and its projection follower run this way. The thread carries
/// `name` for the operating system too (`top -H`, `/proc/PID/task/*/comm`, which keep 15 characters).
struct ThreadService: Service {
    let name: String
    let work: @Sendable () -> Void
    let stop: @Sendable () -> Void

    func run() async throws {
        let name = name, work = work, stop = stop
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        // Set once running: on Linux a name given before `start()` is not passed on.
                        Thread.current.name = String(name.prefix(15))
                        work()
                        done.resume()
                    }
                    thread.start()
                }
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
    }
}
