import Synchronization

/// Tells a rebuild's progress to its caller from the threads that fold it: one call at a time, and
/// projections folded at the same time as one step whose counts are their sums. The caller's closure
/// is only ever called under the report's lock.
final class RebuildReport: @unchecked Sendable {
    private struct Folding {
        var projections: [String] = []
        var head: Int64 = 0
        var done: [String: Int64] = [:]

        var progress: FoldProgress {
            FoldProgress(
                projection: projections.joined(separator: ", "), step: .folding, done: done.values.reduce(0, +),
                total: head * Int64(projections.count))
        }
    }

    private let progress: ((FoldProgress) -> Void)?
    private let folding = Mutex(Folding())

    init(_ progress: ((FoldProgress) -> Void)?) {
        self.progress = progress
    }

    /// `projections` start folding the log through `head`, each on its own.
    func folding(_ projections: [any Projection], head: Int64) {
        folding.withLock { state in
            state = Folding(projections: projections.map(\.name), head: head)
            progress?(state.progress)
        }
    }

    /// `projection` has folded `done` events so far.
    func folded(_ projection: String, _ done: Int64) {
        folding.withLock { state in
            state.done[projection] = done
            progress?(state.progress)
        }
    }

    /// `projections` are at `step`, with `done` pieces of it so far.
    func step(_ step: FoldProgress.Step, of projections: [any Projection], done: Int64 = 0) {
        folding.withLock { _ in
            progress?(FoldProgress(projection: projections.map(\.name).joined(separator: ", "), step: step, done: done))
        }
    }
}
