import Foundation
import ServiceLifecycle

/// Runs blocking work on a thread of its own until graceful shutdown: `run` blocks until `stop` is
/// called (from shutdown or cancellation) and has wound down.
///
/// The server's appends' writer (``GroupCommit/run()``, which records the batches already waiting
/// before it stops) and its WAL checkpointer run this way.
struct ThreadService: Service {
    let name: String
    let run: @Sendable () -> Void
    let stop: @Sendable () -> Void

    func run() async throws {
        let name = name, work = run, stop = stop
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        nameCurrentThread(name)
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

/// Names the calling thread for the operating system (`top -H`, `/proc/PID/task/*/comm`; up to 15
/// characters): on Linux a name given to a `Thread` before it starts is not passed on.
func nameCurrentThread(_ name: String) {
    Thread.current.name = String(name.prefix(15))
}
