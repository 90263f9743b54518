import Foundation
import JournalStore
import ServiceLifecycle

/// Runs the appends' writer (``GroupCommit/run()``) on a thread of its own until graceful shutdown; the
/// batches already waiting are recorded before it stops.
struct AppendWriterService: Service {
    let commits: GroupCommit

    func run() async throws {
        let commits = commits
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        commits.run()
                        done.resume()
                    }
                    thread.name = "append-writer"
                    thread.start()
                }
            } onGracefulShutdown: {
                commits.close()
            }
        } onCancel: {
            commits.close()
        }
    }
}
