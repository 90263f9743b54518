import Dispatch
import Journal
import Synchronization

extension EventStore {
    /// Appends many transactions in a row, validating transaction `i + 1` on another core while
    /// transaction `i` is written. Each transaction is atomic on its own; the call stops at the
    /// first one that fails, and the ones before it stay stored.
    ///
    /// This is the bulk-import path: `produce(i)` turns raw input into batches (parsing is part of
    /// the work that runs in parallel with the writer).
    ///
    /// - Returns: the results of every transaction, in order.
    public func appendPipelined(
        transactions count: Int, produce: @escaping @Sendable (Int) throws -> [AppendBatch]
    ) throws -> [[AppendResult]] {
        guard count > 0 else { return [] }
        let queue = DispatchQueue(label: "journal.prepare")
        let slot = Mutex<Result<[PreparedBatch], any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        func startPreparing(_ index: Int) {
            queue.async {
                let result = Result { () throws -> [PreparedBatch] in
                    try self.prepareSerially(try produce(index))
                }
                slot.withLock { $0 = result }
                ready.signal()
            }
        }
        var results: [[AppendResult]] = []
        results.reserveCapacity(count)
        startPreparing(0)
        for index in 0..<count {
            ready.wait()
            let prepared = try slot.withLock { $0.take()! }.get()
            if index + 1 < count { startPreparing(index + 1) }
            results.append(try write(prepared))
        }
        return results
    }

    /// Validates batches on the calling thread.
    func prepareSerially(_ batches: [AppendBatch]) throws(JournalError) -> [PreparedBatch] {
        try validator.makeKeys(for: batches.map { ($0.customerId, $0.events) })
        var prepared: [PreparedBatch] = []
        prepared.reserveCapacity(batches.count)
        for batch in batches {
            do {
                prepared.append(PreparedBatch(
                    customerId: batch.customerId, expected: batch.expected,
                    events: try validator.prepare(batch.events, customerId: batch.customerId, inputIndices: batch.inputIndices),
                    inputIndices: batch.inputIndices))
            } catch {
                throw batches.count > 1 ? error.inBatch(of: batch.customerId) : error
            }
        }
        return prepared
    }
}
